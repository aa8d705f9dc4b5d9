export const DESTINATION_TYPES = ["http", "sqs", "s3", "eventbridge", "pubsub", "kafka", "rabbitmq", "websocket"] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

/** received → processing → delivered | failed. An event no enabled connection matched stays `received`. */
export const EVENT_STATUSES = ["received", "processing", "delivered", "failed"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** One event × one connection. `failed` means it is in the dead letter queue. */
export const DELIVERY_STATUSES = ["pending", "retrying", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const ATTEMPT_STATUSES = ["success", "failed"] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export const CIRCUIT_STATES = ["closed", "open", "half_open"] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

export const MANAGED_BY = ["api", "config"] as const;
export type ManagedBy = (typeof MANAGED_BY)[number];

export const RETRY_STRATEGIES = ["exponential", "linear", "fixed"] as const;
export type RetryStrategy = (typeof RETRY_STRATEGIES)[number];

export interface RetryPolicy {
  strategy: RetryStrategy;
  max_retries: number;
  interval_seconds: number;
  max_interval_seconds?: number;
  /** Growth factor for `exponential` (default 2). */
  multiplier?: number;
}

export interface CircuitBreakerPolicy {
  failure_threshold: number;
  cooldown_seconds: number;
}

/**
 * 30 s × 7.3ⁿ: 30 s → 3.7 min → 27 min → 3.2 h → 24 h (design.md asks for about
 * 30 s → 5 min → 30 min → 2 h → 24 h), each ±20 % jitter.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  strategy: "exponential",
  max_retries: 5,
  interval_seconds: 30,
  multiplier: 7.3,
  max_interval_seconds: 86_400,
};

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerPolicy = { failure_threshold: 5, cooldown_seconds: 60 };

/** Bodies above this many bytes go to R2; smaller ones stay inline in D1. */
export const INLINE_BODY_LIMIT = 10 * 1024;
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Response bodies recorded on an attempt are cut to this many bytes. */
export const RESPONSE_BODY_CAP = 4 * 1024;
