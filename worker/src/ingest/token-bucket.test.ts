import { describe, expect, it } from "vitest";
import { takeToken, type Bucket } from "./token-bucket.js";

function run(limit: { per_second: number; burst?: number }, times: number[]): boolean[] {
  let bucket: Bucket | null = null;
  return times.map((t) => {
    const r = takeToken(bucket, limit, t);
    bucket = r.bucket;
    return r.ok;
  });
}

describe("token bucket", () => {
  it("allows the burst at once, then refills at per_second", () => {
    expect(run({ per_second: 2, burst: 3 }, [0, 0, 0, 0, 499, 500, 1000, 1001])).toEqual([true, true, true, false, false, true, true, false]);
  });

  it("defaults the burst to per_second (at least 1)", () => {
    expect(run({ per_second: 5 }, [0, 0, 0, 0, 0, 0])).toEqual([true, true, true, true, true, false]);
    expect(run({ per_second: 0.5 }, [0, 0, 1999, 2000])).toEqual([true, false, false, true]);
  });

  it("never refills more than the burst, and a clock going backwards refills nothing", () => {
    expect(run({ per_second: 10, burst: 2 }, [0, 0, 60_000, 60_000, 60_000])).toEqual([true, true, true, true, false]);
    expect(run({ per_second: 1, burst: 1 }, [10_000, 0, 5_000])).toEqual([true, false, false]);
  });

  it("says when to retry, in whole seconds, at least 1", () => {
    const first = takeToken(null, { per_second: 0.1, burst: 1 }, 0);
    const second = takeToken(first.bucket, { per_second: 0.1, burst: 1 }, 1000);
    expect(second).toMatchObject({ ok: false, retry_after_seconds: 9 });
    const fast = takeToken(takeToken(null, { per_second: 100, burst: 1 }, 0).bucket, { per_second: 100, burst: 1 }, 0);
    expect(fast).toMatchObject({ ok: false, retry_after_seconds: 1 });
  });

  it("starts a fresh bucket when the limit changes", () => {
    const a = takeToken(null, { per_second: 1, burst: 1 }, 0);
    expect(takeToken(a.bucket, { per_second: 1, burst: 1 }, 0).ok).toBe(false);
    expect(takeToken(a.bucket, { per_second: 2, burst: 1 }, 0).ok).toBe(true);
  });
});
