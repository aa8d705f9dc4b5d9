import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../model/types.js";
import { baseDelaySeconds, retryDelayMs } from "./retry-policy.js";

const mid = () => 0.5; // jitter factor 0.8 + 0.4 × 0.5 = 1.0

describe("retry policy", () => {
  it("default schedule is about 30 s → 4 min → 27 min → 3 h → 24 h, then gives up", () => {
    const seconds = [1, 2, 3, 4, 5].map((n) => baseDelaySeconds(DEFAULT_RETRY_POLICY, n));
    expect(seconds[0]).toBe(30);
    expect(seconds[1]).toBeCloseTo(219, 0);
    expect(seconds[2]).toBeCloseTo(1598.7, 0);
    expect(seconds[3]! / 3600).toBeGreaterThan(3);
    expect(seconds[4]).toBeGreaterThan(23 * 3600);
    expect(seconds[4]).toBeLessThanOrEqual(24 * 3600);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, { retry: 6, random: mid })).toBeNull();
  });

  it.each<[RetryPolicy["strategy"], number[]]>([
    ["fixed", [10, 10, 10, 10]],
    ["linear", [10, 20, 30, 40]],
    ["exponential", [10, 20, 40, 80]],
  ])("%s grows as documented", (strategy, expected) => {
    const policy: RetryPolicy = { strategy, max_retries: 4, interval_seconds: 10 };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(policy, { retry: n, random: mid }))).toEqual(expected.map((s) => s * 1000));
  });

  it("caps the delay at max_interval_seconds", () => {
    const policy: RetryPolicy = { strategy: "exponential", max_retries: 10, interval_seconds: 60, max_interval_seconds: 300 };
    expect(retryDelayMs(policy, { retry: 8, random: mid })).toBe(300_000);
  });

  it("jitters within ±20 %", () => {
    const policy: RetryPolicy = { strategy: "fixed", max_retries: 3, interval_seconds: 100 };
    expect(retryDelayMs(policy, { retry: 1, random: () => 0 })).toBe(80_000);
    expect(retryDelayMs(policy, { retry: 1, random: () => 0.999999 })).toBe(120_000);
  });

  it("honours Retry-After as a floor, capped by the policy's maximum", () => {
    const policy: RetryPolicy = { strategy: "fixed", max_retries: 3, interval_seconds: 5, max_interval_seconds: 60 };
    expect(retryDelayMs(policy, { retry: 1, random: mid, retry_after_ms: 20_000 })).toBe(20_000);
    expect(retryDelayMs(policy, { retry: 1, random: mid, retry_after_ms: 1_000 })).toBe(5_000);
    expect(retryDelayMs(policy, { retry: 1, random: mid, retry_after_ms: 3_600_000 })).toBe(60_000);
  });

  it("max_retries 0 means one attempt and no retry", () => {
    expect(retryDelayMs({ strategy: "fixed", max_retries: 0, interval_seconds: 1 }, { retry: 1, random: mid })).toBeNull();
  });
});
