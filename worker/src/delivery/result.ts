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
