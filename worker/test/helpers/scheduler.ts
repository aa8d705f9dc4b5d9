import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";

export function schedulerStub(destinationId: string) {
  return env.DELIVERY_SCHEDULER.get(env.DELIVERY_SCHEDULER.idFromName(destinationId));
}

export interface QueuedRow {
  delivery_id: string;
  attempts: number;
  next_at: number;
}

/** The scheduler's own queue, read inside the Durable Object. */
export function queuedRows(destinationId: string): Promise<QueuedRow[]> {
  return runInDurableObject(schedulerStub(destinationId), (_instance, state) =>
    state.storage.sql.exec<{ delivery_id: string; attempts: number; next_at: number }>("SELECT delivery_id, attempts, next_at FROM queue ORDER BY seq").toArray(),
  );
}

/**
 * Instead of waiting for a retry's delay: makes every queued row due now and runs the
 * Durable Object's alarm, which awaits the attempts it starts. Returns whether an alarm ran.
 */
export async function fireDue(destinationId: string): Promise<boolean> {
  const stub = schedulerStub(destinationId);
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE queue SET next_at = 0");
  });
  return runDurableObjectAlarm(stub);
}

/**
 * Pushes the scheduler's pending alarm an hour out, so that nothing runs on its own and a
 * time-based state (e.g. a half-open circuit) can be observed before `fireDue` acts on it.
 * Repeats until no in-flight work of the scheduler has moved the alarm back in.
 */
export async function holdAlarm(destinationId: string): Promise<void> {
  const stub = schedulerStub(destinationId);
  for (let i = 0; i < 20; i++) {
    await runInDurableObject(stub, async (_instance, state) => {
      await state.storage.setAlarm(Date.now() + 3_600_000);
    });
    await new Promise((r) => setTimeout(r, 50));
    const at = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    if (at !== null && at > Date.now() + 1_800_000) return;
  }
  throw new Error("the scheduler kept rescheduling its alarm");
}
