import type { RetryPolicy } from "../model/types.js";

/** Growth factor of `exponential` when the policy does not set `multiplier`. */
export const DEFAULT_MULTIPLIER = 2;
const HARD_CAP_SECONDS = 7 * 24 * 3600;

export interface RetryInput {
  /** 1 for the first retry (after the first failed attempt). */
  retry: number;
  /** From the receiver's Retry-After, if any: used as a floor for the delay. */
  retry_after_ms?: number;
  /** [0, 1): injected so the schedule is deterministic in tests. */
  random: () => number;
}

/** Base delay before the jitter: what the policy alone asks for. */
export function baseDelaySeconds(policy: RetryPolicy, retry: number): number {
  const n = Math.max(1, retry);
  const interval = policy.interval_seconds;
  let seconds: number;
  switch (policy.strategy) {
    case "fixed":
      seconds = interval;
      break;
    case "linear":
      seconds = interval * n;
      break;
    case "exponential":
      seconds = interval * (policy.multiplier ?? DEFAULT_MULTIPLIER) ** (n - 1);
      break;
  }
  return Math.min(seconds, policy.max_interval_seconds ?? HARD_CAP_SECONDS, HARD_CAP_SECONDS);
}

/**
 * The delay before retry number `retry`, or null when the policy has no retries left.
 * ±20 % jitter spreads a burst of failures; a Retry-After from the receiver is honoured as a floor.
 */
export function retryDelayMs(policy: RetryPolicy, input: RetryInput): number | null {
  if (input.retry > policy.max_retries) return null;
  const base = baseDelaySeconds(policy, input.retry) * 1000;
  const jittered = base * (0.8 + 0.4 * input.random());
  const cap = (policy.max_interval_seconds ?? HARD_CAP_SECONDS) * 1000;
  const floor = Math.min(input.retry_after_ms ?? 0, cap);
  return Math.round(Math.max(jittered, floor));
}
