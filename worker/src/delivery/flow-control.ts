/**
 * Per-destination flow control, pure: how many attempts may run at once, how many may start
 * per second, and whether the queue is delivered strictly in order. The scheduler asks
 * `StartWindow` before each start; the clock is passed in.
 */
export interface FlowControl {
  /** Most attempt starts in any 1 s window; null = unlimited. */
  per_second: number | null;
  max_in_flight: number;
  /** One attempt at a time, in queue order; a failing head blocks the deliveries behind it. */
  ordered: boolean;
}

export const DEFAULT_MAX_IN_FLIGHT = 10;
export const MAX_IN_FLIGHT_LIMIT = 100;
export const PER_SECOND_LIMIT = 1000;
export const DEFAULT_FLOW_CONTROL: FlowControl = { per_second: null, max_in_flight: DEFAULT_MAX_IN_FLIGHT, ordered: false };

const WINDOW_MS = 1000;

/** How many attempts may run at once: one when ordered. */
export function concurrencyOf(flow: FlowControl): number {
  return flow.ordered ? 1 : flow.max_in_flight;
}

/**
 * A sliding-window log of attempt starts: at most `perSecond` starts in any window of 1 s
 * (a token bucket would allow a double burst across a refill boundary). Holds at most
 * `perSecond` timestamps.
 */
export class StartWindow {
  private starts: number[] = [];

  constructor(private perSecond: number | null) {}

  /** A new limit keeps the recorded starts, so lowering it takes effect at once. */
  setLimit(perSecond: number | null): void {
    this.perSecond = perSecond;
  }

  /** Starts allowed at `now` (Infinity when unlimited). */
  available(now: number): number {
    if (this.perSecond === null) return Number.POSITIVE_INFINITY;
    this.prune(now);
    return Math.max(0, this.perSecond - this.starts.length);
  }

  record(now: number): void {
    if (this.perSecond === null) return;
    this.starts.push(now);
    if (this.starts.length > this.perSecond) this.starts.splice(0, this.starts.length - this.perSecond);
  }

  /** When the next start will be allowed: `now` if one is allowed already. */
  nextStartAt(now: number): number {
    if (this.available(now) > 0) return now;
    // Full: the window frees a slot when its `perSecond`-th most recent start is 1 s old.
    const oldest = this.starts[this.starts.length - this.perSecond!]!;
    return oldest + WINDOW_MS;
  }

  private prune(now: number): void {
    let drop = 0;
    while (drop < this.starts.length && this.starts[drop]! <= now - WINDOW_MS) drop++;
    if (drop > 0) this.starts.splice(0, drop);
  }
}
