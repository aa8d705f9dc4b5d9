import type { z } from "zod";

/** One received request, as the ingest handler saw it. */
export interface VerifyRequest {
  method: string;
  /** The full URL as received, query string included (Twilio and Square sign it). */
  url: string;
  /** Lower-case names; repeated headers joined with ", " as `Headers` does. */
  headers: Readonly<Record<string, string>>;
  /** The raw body bytes, exactly as received: signatures are over bytes, never over re-serialised JSON. */
  body: Uint8Array;
}

export interface VerifyContext {
  /** Epoch milliseconds. */
  now: () => number;
}

export const VERIFY_FAILURE_REASONS = [
  "missing_signature",
  "invalid_signature",
  "stale_timestamp",
  "malformed",
  "unauthorized",
] as const;
export type VerifyFailureReason = (typeof VERIFY_FAILURE_REASONS)[number];

export interface VerifyOk {
  ok: true;
  /** The provider's delivery id (stable across the provider's retries): the default dedup key. */
  event_id?: string;
  event_type?: string;
}

export interface VerifyFailure {
  ok: false;
  reason: VerifyFailureReason;
  /** Safe to show the sender and the operator: never a secret, never the expected signature. */
  message: string;
}

export type VerifyResult = VerifyOk | VerifyFailure;

export const SCHEME_IDS = [
  "hmac",
  "timestamped_hmac",
  "standard_webhooks",
  "basic_auth",
  "header_token",
  "twilio",
  "mailgun",
] as const;
export type SchemeId = (typeof SCHEME_IDS)[number];

/** One verification scheme: a pure function of the request, its config and the clock. */
export interface SourceVerifier<C = unknown> {
  scheme: SchemeId;
  /** Validates the scheme's config; every scheme keeps its secrets in `secrets` (several during rotation). */
  configSchema: z.ZodType<C>;
  /**
   * Never throws on anything a sender controls: every expected failure is a value, and
   * anything that cannot be verified is refused.
   */
  verify(req: VerifyRequest, config: C, ctx: VerifyContext): Promise<VerifyResult>;
}

export function fail(reason: VerifyFailureReason, message: string): VerifyFailure {
  return { ok: false, reason, message };
}
