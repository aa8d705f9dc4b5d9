import type { OutboundResult } from "./outbound.js";

/**
 * Expected delivery failures are values. The kind decides what the scheduler does:
 * `retryable` goes back on the retry schedule (and counts against the circuit breaker),
 * `permanent` goes straight to the dead letter queue.
 */
export interface AttemptDetail {
  status_code: number | null;
  /** Truncated to RESPONSE_BODY_CAP. */
  response_body: string | null;
  latency_ms: number;
}

export type DeliveryResult =
  | ({ kind: "delivered" } & AttemptDetail)
  | ({ kind: "retryable"; error: string; retry_after_ms?: number } & AttemptDetail)
  | ({ kind: "permanent"; error: string } & AttemptDetail);

/** A request that got no HTTP answer: timeouts and network errors may pass, a refused address or URL will not. */
export function outboundFailure(result: Extract<OutboundResult, { ok: false }>, timeout: number): DeliveryResult {
  const failed = { status_code: null, response_body: null, latency_ms: result.latency_ms };
  switch (result.kind) {
    case "timeout":
      return { kind: "retryable", error: `timed out after ${timeout} ms`, ...failed };
    case "network":
      return { kind: "retryable", error: `network error: ${result.message}`, ...failed };
    case "blocked_address":
    case "invalid_url":
    case "too_many_redirects":
      return { kind: "permanent", error: result.message, ...failed };
  }
}
