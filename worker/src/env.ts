import type { DeliveryScheduler } from "./delivery/scheduler.js";
import type { SourceGuard } from "./ingest/source-guard.js";
import type { WebSocketHub } from "./delivery/websocket-hub.js";

/** The Worker's bindings; names match BINDINGS in bindings.ts. */
export interface Env {
  DB: D1Database;
  KV: KVNamespace;
  BODIES: R2Bucket;
  DELIVERY_SCHEDULER: DurableObjectNamespace<DeliveryScheduler>;
  /** One per source: rate limit and rejection counters. */
  SOURCE_GUARD: DurableObjectNamespace<SourceGuard>;
  /** One per websocket destination: its connected listeners. */
  WEBSOCKET_HUB: DurableObjectNamespace<WebSocketHub>;
  /** base64 of 32 bytes: AES-GCM key for secrets at rest. */
  ENCRYPTION_KEY: string;
  /** Better Auth's secret (signs session cookies); at least 32 characters. */
  BETTER_AUTH_SECRET: string;
  /** Resend API key for emails (invitations, later alerts); without it emails are logged. */
  RESEND_API_KEY?: string;
  /** Resend API base URL (default https://api.resend.com). */
  RESEND_BASE_URL?: string;
  /** Sender of notification emails, e.g. `hookstream <notifications@example.com>`. */
  NOTIFY_FROM?: string;
  /** "true" only for local development: destinations may target loopback/private addresses. */
  ALLOW_PRIVATE_DESTINATIONS?: string;
  /** Public base URL used in ingest URLs; defaults to the request's origin. */
  PUBLIC_URL?: string;
  /** The declared routing compiled by infra/ (config/schema.ts), secrets split out; JSON text or object. Absent: nothing declared. */
  GATEWAY_CONFIG?: string | object;
  /** The declared routing's secret values (config/secrets.ts), a secret binding; JSON text or object. */
  GATEWAY_SECRETS?: string | object;
}
