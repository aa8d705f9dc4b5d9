import { describe, expect, it } from "vitest";
import { admit, CLOSED, observedState, recordFailure, recordSuccess, type BreakerState } from "./circuit-breaker.js";

const policy = { failure_threshold: 3, cooldown_seconds: 60 };

function failTimes(n: number, start: BreakerState = CLOSED, at = 1_000): BreakerState {
  let s = start;
  for (let i = 0; i < n; i++) s = recordFailure(s, policy, at);
  return s;
}

describe("circuit breaker", () => {
  it("stays closed below the threshold and opens at it", () => {
    expect(failTimes(2).state).toBe("closed");
    const open = failTimes(3);
    expect(open).toMatchObject({ state: "open", consecutive_failures: 3, opened_at: 1_000 });
  });

  it("a success resets the count", () => {
    const s = recordSuccess(failTimes(2));
    expect(failTimes(2, s).state).toBe("closed");
  });

  it("holds every attempt while open, until the cooldown ends", () => {
    const open = failTimes(3);
    expect(admit(open, policy, 1_000 + 59_999)).toEqual({ allowed: false, until: 61_000 });
    expect(observedState(open, policy, 30_000)).toBe("open");
  });

  it("after the cooldown lets exactly one probe through", () => {
    const open = failTimes(3);
    const now = 61_000;
    expect(observedState(open, policy, now)).toBe("half_open");
    const first = admit(open, policy, now);
    expect(first).toMatchObject({ allowed: true, probe: true });
    if (!first.allowed) throw new Error("unreachable");
    expect(admit(first.state, policy, now)).toEqual({ allowed: false, until: null });
  });

  it("a successful probe closes the circuit", () => {
    const probe = admit(failTimes(3), policy, 61_000);
    if (!probe.allowed) throw new Error("unreachable");
    const closed = recordSuccess(probe.state);
    expect(closed).toEqual(CLOSED);
    expect(admit(closed, policy, 61_001)).toMatchObject({ allowed: true, probe: false });
  });

  it("a failed probe re-opens for another full cooldown", () => {
    const probe = admit(failTimes(3), policy, 61_000);
    if (!probe.allowed) throw new Error("unreachable");
    const reopened = recordFailure(probe.state, policy, 61_500);
    expect(reopened).toMatchObject({ state: "open", opened_at: 61_500, probe_in_flight: false });
    expect(admit(reopened, policy, 100_000).allowed).toBe(false);
    expect(admit(reopened, policy, 121_500).allowed).toBe(true);
  });
});
