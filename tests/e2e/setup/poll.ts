// Bounded polling for e2e tests: wait for a condition with a clear deadline instead of sleeping.

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface PollOptions {
  /** What we are waiting for, shown in the timeout error. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Calls `probe` until `done(value)` holds and returns that value. On timeout it throws with
 * the last value (or the last error), so a failing test says what it saw.
 */
export async function pollUntil<T>(probe: () => Promise<T>, done: (value: T) => boolean, opts: PollOptions): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (done(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const seen =
    last === undefined ? "nothing" : "error" in last ? `error: ${String(last.error)}` : JSON.stringify(last.value, null, 2)?.slice(0, 4_000);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}; last seen: ${seen}`);
}
