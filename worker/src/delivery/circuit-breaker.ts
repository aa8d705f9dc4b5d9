import type { CircuitBreakerPolicy, CircuitState } from "../model/types.js";

/**
 * The stored state. `half_open` is never stored: an open circuit whose cooldown has
 * elapsed *is* half-open, and lets exactly one probe through.
 */
export interface BreakerState {
  state: "closed" | "open";
  consecutive_failures: number;
  opened_at: number | null;
  probe_in_flight: boolean;
}

export const CLOSED: BreakerState = { state: "closed", consecutive_failures: 0, opened_at: null, probe_in_flight: false };

export function observedState(s: BreakerState, policy: CircuitBreakerPolicy, now: number): CircuitState {
  if (s.state === "closed") return "closed";
  return now >= reopensAt(s, policy) ? "half_open" : "open";
}

function reopensAt(s: BreakerState, policy: CircuitBreakerPolicy): number {
  return (s.opened_at ?? 0) + policy.cooldown_seconds * 1000;
}

export type Admission =
  | { allowed: true; probe: boolean; state: BreakerState }
  | { allowed: false; until: number | null };

/**
 * May one more attempt start now? Closed: yes. Open in cooldown: no, until the cooldown ends.
 * Half-open: one probe, and no other attempt until the probe reports (until = null).
 */
export function admit(s: BreakerState, policy: CircuitBreakerPolicy, now: number): Admission {
  if (s.state === "closed") return { allowed: true, probe: false, state: s };
  if (now < reopensAt(s, policy)) return { allowed: false, until: reopensAt(s, policy) };
  if (s.probe_in_flight) return { allowed: false, until: null };
  return { allowed: true, probe: true, state: { ...s, probe_in_flight: true } };
}

export function recordSuccess(_s: BreakerState): BreakerState {
  return CLOSED;
}

/** Only failures that say the destination is unwell count (the retryable ones). */
export function recordFailure(s: BreakerState, policy: CircuitBreakerPolicy, now: number): BreakerState {
  const failures = s.consecutive_failures + 1;
  if (s.state === "open") return { state: "open", consecutive_failures: failures, opened_at: now, probe_in_flight: false };
  if (failures >= policy.failure_threshold) {
    return { state: "open", consecutive_failures: failures, opened_at: now, probe_in_flight: false };
  }
  return { ...s, consecutive_failures: failures };
}
