/** Why a request to a source was refused (or, for `duplicate`, answered without a new event). */
export const REJECTION_REASONS = [
  "missing_signature",
  "invalid_signature",
  "stale_timestamp",
  "malformed",
  "unauthorized",
  "ip_denied",
  "rate_limited",
  "too_large",
  "duplicate",
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];
