import { describe, expect, it } from "vitest";
import { concurrencyOf, DEFAULT_FLOW_CONTROL, StartWindow } from "./flow-control.js";

/** Drives a window the way the scheduler does: start whenever allowed, else jump to nextStartAt. */
function simulate(perSecond: number, starts: number, from = 1_000_000): number[] {
  const w = new StartWindow(perSecond);
  const at: number[] = [];
  let now = from;
  while (at.length < starts) {
    if (w.available(now) > 0) {
      w.record(now);
      at.push(now);
    } else now = w.nextStartAt(now);
  }
  return at;
}

function maxInAnyWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0; i < times.length; i++) best = Math.max(best, times.filter((t) => t >= times[i]! && t < times[i]! + windowMs).length);
  return best;
}

describe("StartWindow", () => {
  it("unlimited allows every start", () => {
    const w = new StartWindow(null);
    for (let i = 0; i < 1000; i++) w.record(0);
    expect(w.available(0)).toBe(Number.POSITIVE_INFINITY);
    expect(w.nextStartAt(5)).toBe(5);
  });

  it("never allows more than per_second starts in any 1 s window", () => {
    for (const perSecond of [1, 2, 3, 7, 50]) {
      const at = simulate(perSecond, perSecond * 5);
      expect(maxInAnyWindow(at, 1000)).toBe(perSecond);
      // …and uses the whole allowance: a burst of per_second, then the next one exactly 1 s later.
      expect(at.slice(0, perSecond).every((t) => t === at[0])).toBe(true);
      expect(at[perSecond]! - at[0]!).toBe(1000);
    }
  });

  it("a token-bucket-style double burst is impossible across a window edge", () => {
    const w = new StartWindow(2);
    w.record(999);
    w.record(999);
    expect(w.available(1000)).toBe(0);
    expect(w.available(1998)).toBe(0);
    expect(w.nextStartAt(1500)).toBe(1999);
    expect(w.available(1999)).toBe(2);
  });

  it("spread-out starts free their slots one by one", () => {
    const w = new StartWindow(2);
    w.record(0);
    w.record(400);
    expect(w.available(500)).toBe(0);
    expect(w.nextStartAt(500)).toBe(1000);
    expect(w.available(1000)).toBe(1);
    w.record(1000);
    expect(w.nextStartAt(1000)).toBe(1400);
  });

  it("lowering the limit applies at once to the starts already made", () => {
    const w = new StartWindow(10);
    for (let i = 0; i < 5; i++) w.record(100);
    w.setLimit(3);
    expect(w.available(200)).toBe(0);
    expect(w.nextStartAt(200)).toBe(1100);
    w.setLimit(null);
    expect(w.available(200)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("concurrencyOf", () => {
  it("is max_in_flight, or one when ordered", () => {
    expect(concurrencyOf(DEFAULT_FLOW_CONTROL)).toBe(10);
    expect(concurrencyOf({ ...DEFAULT_FLOW_CONTROL, max_in_flight: 3 })).toBe(3);
    expect(concurrencyOf({ ...DEFAULT_FLOW_CONTROL, max_in_flight: 3, ordered: true })).toBe(1);
  });
});
