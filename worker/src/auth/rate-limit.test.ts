import { describe, expect, it } from "vitest";
import { createFailureLimiter } from "./rate-limit.js";

describe("failure limiter", () => {
  it("blocks an IP after max failures within the window, and only that IP", () => {
    const l = createFailureLimiter({ max: 3, windowMs: 1000 });
    for (let i = 0; i < 3; i++) {
      expect(l.blocked("a", 100)).toBe(false);
      l.fail("a", 100 + i);
    }
    expect(l.blocked("a", 500)).toBe(true);
    expect(l.blocked("b", 500)).toBe(false);
  });

  it("forgets failures once the window is over", () => {
    const l = createFailureLimiter({ max: 2, windowMs: 1000 });
    l.fail("a", 0);
    l.fail("a", 10);
    expect(l.blocked("a", 999)).toBe(true);
    expect(l.blocked("a", 1000)).toBe(false);
    l.fail("a", 1000);
    expect(l.blocked("a", 1001)).toBe(false);
  });

  it("stays bounded in memory under many distinct IPs", () => {
    const l = createFailureLimiter({ max: 1, windowMs: 60_000, maxTracked: 100 });
    for (let i = 0; i < 1000; i++) l.fail(`ip${i}`, 0);
    expect(l.blocked("ip999", 1)).toBe(true);
    // the oldest were dropped rather than growing without bound
    expect(["ip0", "ip1", "ip2"].some((ip) => !l.blocked(ip, 1))).toBe(true);
  });
});
