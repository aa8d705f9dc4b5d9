import type { Env } from "../env.js";
import type { EnqueueItem, EnqueueMode } from "./scheduler.js";

/**
 * Hands messages to each destination's scheduler, one call per destination, in parallel.
 * Returns the destinations whose scheduler could not be reached (their deliveries stay
 * `pending` in D1, where the sweep finds them).
 */
export async function enqueueToSchedulers(env: Env, items: EnqueueItem[], opts: { mode?: EnqueueMode } = {}): Promise<string[]> {
  const byDestination = new Map<string, EnqueueItem[]>();
  for (const item of items) {
    const list = byDestination.get(item.message.destination_id);
    if (list) list.push(item);
    else byDestination.set(item.message.destination_id, [item]);
  }
  const failed: string[] = [];
  await Promise.all(
    [...byDestination].map(async ([destinationId, list]) => {
      try {
        await schedulerFor(env, destinationId).enqueue(destinationId, list, opts);
      } catch (err) {
        failed.push(destinationId);
        console.error("could not reach the delivery scheduler; the sweep will retry", { destinationId, error: String(err) });
      }
    }),
  );
  return failed;
}

export function schedulerFor(env: Env, destinationId: string) {
  return env.DELIVERY_SCHEDULER.get(env.DELIVERY_SCHEDULER.idFromName(destinationId));
}

