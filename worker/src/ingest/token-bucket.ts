import type { RateLimit } from "./source-policy.js";

export interface Bucket {
  tokens: number;
  at: number;
  /** The limit the bucket was filled for: a changed limit starts a fresh, full bucket. */
  per_second: number;
  burst: number;
}

export type Taken = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; retry_after_seconds: number };

export function burstOf(limit: RateLimit): number {
  return limit.burst ?? Math.max(1, Math.ceil(limit.per_second));
}

/**
 * A token bucket: `burst` requests at once, refilled at `per_second`. Pure, so the clock
 * is the caller's; a clock that goes backwards refills nothing.
 */
export function takeToken(current: Bucket | null, limit: RateLimit, now: number): Taken {
  const burst = burstOf(limit);
  let bucket: Bucket =
    current && current.per_second === limit.per_second && current.burst === burst
      ? { ...current, tokens: Math.min(burst, current.tokens + (Math.max(0, now - current.at) / 1000) * limit.per_second), at: Math.max(now, current.at) }
      : { tokens: burst, at: now, per_second: limit.per_second, burst };
  if (bucket.tokens >= 1) {
    bucket = { ...bucket, tokens: bucket.tokens - 1 };
    return { ok: true, bucket };
  }
  const waitSeconds = (1 - bucket.tokens) / limit.per_second;
  return { ok: false, bucket, retry_after_seconds: Math.max(1, Math.ceil(waitSeconds)) };
}
