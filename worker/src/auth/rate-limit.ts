/**
 * Counts failed API-key attempts per client IP in this isolate, over a fixed window.
 *
 * Per isolate, not KV: a KV counter costs a write per bad request (the very traffic we want
 * to make cheap), a key takes about one write a second and reads are eventually consistent
 * for up to 60 s, so it would neither count exactly nor stop a burst. Keys are 256-bit
 * random, so guessing is hopeless anyway; the limit exists to keep junk traffic off D1, and
 * that is exactly what a per-isolate counter does (each isolate sheds its own junk). A
 * deployment that wants a global limit adds Cloudflare's rate-limiting rules in front.
 */
export interface FailureLimiter {
  /** True when this IP is over the limit now (the request is refused before any lookup). */
  blocked(ip: string, now: number): boolean;
  /** Records a failed attempt. */
  fail(ip: string, now: number): void;
}

export function createFailureLimiter(opts: { max: number; windowMs: number; maxTracked?: number }): FailureLimiter {
  const maxTracked = opts.maxTracked ?? 10_000;
  const counts = new Map<string, { count: number; resetAt: number }>();
  const current = (ip: string, now: number) => {
    const entry = counts.get(ip);
    if (!entry || entry.resetAt <= now) return null;
    return entry;
  };
  return {
    blocked(ip, now) {
      const entry = current(ip, now);
      return entry !== null && entry.count >= opts.max;
    },
    fail(ip, now) {
      const entry = current(ip, now);
      if (entry) {
        entry.count++;
        return;
      }
      if (counts.size >= maxTracked) {
        for (const [k, v] of counts) if (v.resetAt <= now) counts.delete(k);
        if (counts.size >= maxTracked) counts.clear();
      }
      counts.set(ip, { count: 1, resetAt: now + opts.windowMs });
    },
  };
}
