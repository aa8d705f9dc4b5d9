import { z } from "@hono/zod-openapi";
import { DESTINATION_TYPES, EVENT_STATUSES, RETRY_STRATEGIES } from "../model/types.js";
import { TEMPLATE_IDS } from "../providers/sources/templates.js";
import { ipRuleListSchema } from "../providers/sources/ip-rules.js";
import { dedupConfigSchema } from "../providers/sources/dedup-key.js";
import {
  customResponseSchema, DEFAULT_ROTATION_GRACE_SECONDS, MAX_ROTATION_GRACE_SECONDS, MAX_SOURCE_BODY_BYTES, rateLimitSchema,
} from "../ingest/source-policy.js";
import { REJECTION_REASONS, type RejectionReason } from "../ingest/rejections.js";
import { DEFAULT_MAX_IN_FLIGHT, MAX_IN_FLIGHT_LIMIT, PER_SECOND_LIMIT } from "../delivery/flow-control.js";

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }) })
  .openapi("Error");

export const PageQuerySchema = z.object({
  cursor: z.string().max(64).optional().openapi({ description: "next_cursor of the previous page" }),
  limit: z.coerce.number().int().min(1).max(250).default(50),
});

export const idParam = (prefix: string) =>
  z.object({
    id: z
      .string()
      .regex(new RegExp(`^${prefix}_[0-9a-f]{32}$`), `must be a ${prefix}_ id`)
      .openapi({ param: { name: "id", in: "path" }, example: `${prefix}_0193b8c1d2e4a1b2c3d4e5f6a7b8c9d0` }),
  });

export const listOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() }).openapi(name);

const name = z.string().trim().min(1).max(128);
const timestamp = z.string().openapi({ format: "date-time" });
const ManagedBySchema = z.enum(["api", "config"]).openapi({
  description: "`config`: declared in infra/ and applied from the deployed config; the API reads it but refuses to change it (409 managed_by_config)",
});
const DeclaredInSchema = z.string().nullable().openapi({ description: "where a `config` resource is declared (`infra/index.ts:42`); null for API resources", example: "infra/index.ts:42" });

// ---- sources
const VerificationInputSchema = z
  .object({
    type: z.string().optional().openapi({ description: "without a template: hmac (or hmac_sha1 / hmac_sha256 / hmac_sha512), timestamped_hmac, standard_webhooks, basic_auth, header_token, twilio, mailgun" }),
    secret: z.string().optional().openapi({ description: "the signing secret, token or password (write-only)" }),
    secrets: z.array(z.string()).optional().openapi({ description: "several secrets that are all valid (write-only)" }),
  })
  .catchall(z.unknown())
  .openapi("SourceVerificationInput", { description: "scheme settings: header, algorithm, encoding, prefix, tolerance_seconds… (see GET /source-templates)" });

const sourceSettings = {
  template: z.enum(TEMPLATE_IDS, { error: "unknown template; GET /v1/source-templates lists them" }).nullable().optional().openapi({ description: "fills in the provider's scheme, headers, tolerance and event id/type extraction" }),
  verification: VerificationInputSchema.nullable().optional(),
  ip_allowlist: ipRuleListSchema.optional().openapi({ description: "IPv4/IPv6 addresses or CIDRs; when set, only these may send (client IP from CF-Connecting-IP)" }),
  ip_denylist: ipRuleListSchema.optional(),
  dedup: dedupConfigSchema.nullable().optional().openapi({ description: "drop repeats of the same key within window_seconds (key: event_id | body | headers.<name> | query.<name> | body.<path>)" }),
  rate_limit: rateLimitSchema.nullable().optional().openapi({ description: "requests per second with a burst; over it → 429 with Retry-After" }),
  max_body_bytes: z.number().int().min(1).max(MAX_SOURCE_BODY_BYTES).optional().openapi({ description: "default 10 MiB" }),
  response: customResponseSchema.nullable().optional().openapi({ description: "what accepted (and duplicate) requests are answered with instead of 202 JSON" }),
};

export const SourceCreateSchema = z
  .strictObject({ name, description: z.string().max(1024).nullable().optional(), ...sourceSettings })
  .openapi("SourceCreate");
export const SourceUpdateSchema = z
  .strictObject({ name: name.optional(), description: z.string().max(1024).nullable().optional(), ...sourceSettings })
  .openapi("SourceUpdate");
const SecretHintSchema = z.object({ secret: z.string().openapi({ description: "masked, e.g. whsec_…f3a9" }), expires_at: timestamp.nullable() });
export const SourceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    ingest_url: z.string(),
    template: z.string().nullable(),
    verification: z.object({ type: z.string(), secrets: z.array(SecretHintSchema) }).catchall(z.unknown()).nullable(),
    ip_allowlist: z.array(z.string()),
    ip_denylist: z.array(z.string()),
    dedup: z.object({ window_seconds: z.number().int(), key: z.string().optional() }).nullable(),
    rate_limit: z.object({ per_second: z.number(), burst: z.number().int().optional() }).nullable(),
    max_body_bytes: z.number().int(),
    response: z.object({ status: z.number().int(), content_type: z.string(), body: z.string() }).nullable(),
    managed_by: ManagedBySchema,
    declared_in: DeclaredInSchema,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi("Source");
export const SourceRotateSecretSchema = z
  .strictObject({
    secret: z.string().min(1).max(4096).openapi({ description: "the new secret (the provider's, or one you generated)" }),
    grace_seconds: z.number().int().min(0).max(MAX_ROTATION_GRACE_SECONDS).default(DEFAULT_ROTATION_GRACE_SECONDS).openapi({ description: "how long the secrets valid now keep verifying (default 86400; 0 = at once)" }),
  })
  .openapi("SourceRotateSecret");
const reasonCounts = z.object(Object.fromEntries(REJECTION_REASONS.map((r) => [r, z.number().int()])) as Record<RejectionReason, z.ZodNumber>);
export const SourceStatsQuerySchema = z.object({ window: z.enum(["1h", "24h", "7d"]).default("24h") });
export const SourceStatsSchema = z
  .object({
    source_id: z.string(),
    since: timestamp,
    accepted: z.number().int().openapi({ description: "events stored in the window (counted up to 100000)" }),
    rejected: reasonCounts.openapi({ description: "refused requests (and duplicates answered without a new event) by reason" }),
    hourly: z.array(z.object({ hour: timestamp, counts: z.record(z.string(), z.number().int()) })),
    last_event_at: timestamp.nullable(),
    last_rejection: z.object({ reason: z.enum(REJECTION_REASONS), message: z.string(), at: timestamp }).nullable(),
  })
  .openapi("SourceStats");
export const SourceTemplateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scheme: z.string(),
    required_fields: z.array(z.object({ name: z.string(), description: z.string() })),
    optional_fields: z.array(z.object({ name: z.string(), description: z.string() })),
    defaults: z.record(z.string(), z.unknown()),
    event_id_from: z.array(z.string()),
    event_type_from: z.array(z.string()),
    docs_url: z.string(),
  })
  .openapi("SourceTemplate");

// ---- destinations
export const RetryPolicySchema = z
  .strictObject({
    strategy: z.enum(RETRY_STRATEGIES),
    max_retries: z.number().int().min(0).max(20),
    interval_seconds: z.number().int().min(1).max(86_400),
    max_interval_seconds: z.number().int().min(1).max(7 * 86_400).optional(),
    multiplier: z.number().min(1).max(20).optional(),
  })
  .openapi("RetryPolicy");
export const CircuitBreakerSchema = z
  .strictObject({
    failure_threshold: z.number().int().min(1).max(1000),
    cooldown_seconds: z.number().int().min(1).max(86_400),
  })
  .openapi("CircuitBreaker");

export const RateLimitSchema = z
  .strictObject({ per_second: z.number().int().min(1).max(PER_SECOND_LIMIT) })
  .openapi("RateLimit", { description: "at most per_second attempt starts (retries included) in any 1 s window" });
const rateLimitField = RateLimitSchema.nullable().openapi({ description: "null: unlimited (the default)" });
const maxInFlightField = z
  .number()
  .int()
  .min(1)
  .max(MAX_IN_FLIGHT_LIMIT)
  .openapi({ description: `most attempts in flight at once (default ${DEFAULT_MAX_IN_FLIGHT}); an ordered destination runs one` });
const orderedField = z.boolean().openapi({
  description: "deliver one at a time in the order received; a failing delivery blocks the ones behind it until it succeeds or is dead-lettered (default false)",
});
const flowControlInput = { rate_limit: rateLimitField.optional(), max_in_flight: maxInFlightField.optional(), ordered: orderedField.optional() };

export const DestinationCreateSchema = z
  .strictObject({
    name,
    type: z.enum(DESTINATION_TYPES),
    config: z.record(z.string(), z.unknown()).openapi({ description: "per type; see README" }),
    retry_policy: RetryPolicySchema.optional(),
    circuit_breaker: CircuitBreakerSchema.optional(),
    ...flowControlInput,
    enabled: z.boolean().optional(),
  })
  .openapi("DestinationCreate");
export const DestinationUpdateSchema = z
  .strictObject({
    name: name.optional(),
    config: z.record(z.string(), z.unknown()).optional().openapi({ description: "merged into the current config" }),
    retry_policy: RetryPolicySchema.optional(),
    circuit_breaker: CircuitBreakerSchema.optional(),
    ...flowControlInput,
    enabled: z.boolean().optional(),
  })
  .openapi("DestinationUpdate");
export const DestinationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.enum(DESTINATION_TYPES),
    config: z.record(z.string(), z.unknown()).openapi({ description: "secret fields masked (a generated one, e.g. signing_secret, is shown in full in the create response)" }),
    retry_policy: RetryPolicySchema,
    circuit_breaker: CircuitBreakerSchema,
    rate_limit: rateLimitField,
    max_in_flight: z.number().int(),
    ordered: z.boolean(),
    enabled: z.boolean(),
    managed_by: ManagedBySchema,
    declared_in: DeclaredInSchema,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi("Destination");
export const CircuitSchema = z
  .object({
    state: z.enum(["closed", "open", "half_open"]),
    consecutive_failures: z.number().int(),
    opened_at: timestamp.nullable(),
    queue_depth: z.number().int(),
  })
  .openapi("Circuit");
export const DeadLetterSchema = z
  .object({
    id: z.string(),
    event_id: z.string(),
    delivery_id: z.string(),
    connection_id: z.string(),
    destination_id: z.string(),
    reason: z.string(),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    created_at: timestamp,
  })
  .openapi("DeadLetter");
export const RedriveSchema = z
  .strictObject({ ids: z.array(z.string().regex(/^dlq_[0-9a-f]{32}$/)).min(1).max(500).optional() })
  .openapi("RedriveRequest");

// ---- connections
const FilterRuleDoc = z
  .object({
    field: z.string().openapi({ example: "body.data.object.amount", description: "dot path into body, headers (case-insensitive) or query; array indexes as numbers" }),
    op: z.enum(["eq", "neq", "contains", "gt", "gte", "lt", "lte", "exists", "in"]),
    value: z.unknown().optional(),
  })
  .openapi("FilterRule");
/** Documented shape; the full rules (groups, bounds, per-op values) are checked by routing/filters.ts. */
const filtersField = z
  .array(z.unknown())
  .openapi({ description: "all must match; a rule, or a group { any: [...] } / { all: [...] }", type: "array", items: { $ref: "#/components/schemas/FilterRule" } });
const transformField = z.string().max(10 * 1024).nullable().openapi({ description: "JSONata over { body, headers, query, metadata }", example: '{ "id": body.id, "amount": body.data.amount / 100 }' });
const schemaField = z.record(z.string(), z.unknown()).nullable().openapi({ description: "JSON Schema (draft 2020-12 by default, or draft-07 via $schema)" });
const schemaModeField = z.enum(["reject", "warn"]);

export const ConnectionCreateSchema = z
  .strictObject({
    name: name.nullable().optional(),
    source_id: z.string().regex(/^src_[0-9a-f]{32}$/, "must be a src_ id"),
    destination_id: z.string().regex(/^dst_[0-9a-f]{32}$/, "must be a dst_ id"),
    filters: filtersField.optional(),
    transform: transformField.optional(),
    schema: schemaField.optional(),
    schema_mode: schemaModeField.optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("ConnectionCreate");
export const ConnectionUpdateSchema = z
  .strictObject({
    name: name.nullable().optional(),
    filters: filtersField.optional(),
    transform: transformField.optional(),
    schema: schemaField.optional(),
    schema_mode: schemaModeField.optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("ConnectionUpdate");
export const ConnectionSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    source_id: z.string(),
    destination_id: z.string(),
    filters: z.array(z.unknown()),
    transform: z.string().nullable(),
    schema: z.record(z.string(), z.unknown()).nullable(),
    schema_mode: schemaModeField,
    enabled: z.boolean(),
    managed_by: ManagedBySchema,
    declared_in: DeclaredInSchema,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi("Connection");
export { FilterRuleDoc };

export const ConnectionTestSchema = z
  .strictObject({
    filters: filtersField.optional(),
    transform: transformField.optional(),
    schema: schemaField.optional(),
    schema_mode: schemaModeField.optional(),
    event_id: z.string().regex(/^evt_[0-9a-f]{32}$/, "must be an evt_ id").optional(),
    payload: z
      .strictObject({
        body: z.unknown().openapi({ description: "a JSON value, or a string (raw body)" }),
        headers: z.record(z.string(), z.string()).optional(),
        query: z.record(z.string(), z.string()).optional(),
      })
      .optional(),
  })
  .openapi("ConnectionTest");
export const ConnectionTestResultSchema = z
  .object({
    matched: z.boolean(),
    filter: z.object({ rule: z.record(z.string(), z.unknown()), reason: z.string() }).nullable(),
    output: z.unknown().openapi({ description: "what the destination would receive (after the transform)" }),
    transformed: z.boolean(),
    validation: z.object({ valid: z.boolean(), errors: z.array(z.object({ path: z.string(), message: z.string() })) }).nullable(),
    error: z.object({ stage: z.enum(["transform", "schema"]), message: z.string() }).nullable(),
    would_deliver: z.boolean(),
  })
  .openapi("ConnectionTestResult");

// ---- events & attempts
export const EventListQuerySchema = PageQuerySchema.extend({
  source_id: z.string().regex(/^src_[0-9a-f]{32}$/, "must be a src_ id").optional(),
  status: z.enum(EVENT_STATUSES).optional(),
});
export const DeliverySchema = z
  .object({
    id: z.string(),
    connection_id: z.string(),
    destination_id: z.string(),
    status: z.enum(["pending", "retrying", "delivered", "failed"]),
    attempts: z.number().int(),
    next_attempt_at: timestamp.nullable(),
    last_error: z.string().nullable(),
  })
  .openapi("Delivery");
const eventFields = {
  id: z.string(),
  source_id: z.string(),
  status: z.enum(EVENT_STATUSES),
  event_type: z.string().nullable().openapi({ description: "the provider's event type, read by the source's template (e.g. payment_intent.succeeded)" }),
  method: z.string(),
  content_type: z.string().nullable(),
  metadata: z.object({ source_ip: z.string().nullable(), user_agent: z.string().nullable(), content_length: z.number().int() }),
  received_at: timestamp,
  updated_at: timestamp,
};
export const EventSummarySchema = z.object(eventFields).openapi("EventSummary");
export const EventSchema = z
  .object({
    ...eventFields,
    headers: z.record(z.string(), z.string()),
    query: z.record(z.string(), z.string()),
    body: z.string().openapi({ description: "raw body: text, or base64 when body_encoding is base64" }),
    body_encoding: z.enum(["utf8", "base64"]),
    deliveries: z.array(DeliverySchema),
    routing: z
      .array(z.object({ connection_id: z.string(), outcome: z.literal("filtered"), rule: z.record(z.string(), z.unknown()), reason: z.string() }))
      .openapi({ description: "connections whose filters did not take this event, and why" }),
  })
  .openapi("Event");
export const AttemptSchema = z
  .object({
    id: z.string(),
    event_id: z.string(),
    delivery_id: z.string(),
    destination_id: z.string(),
    connection_id: z.string(),
    attempt_number: z.number().int(),
    status: z.enum(["success", "failed"]),
    status_code: z.number().int().nullable(),
    latency_ms: z.number().int(),
    response_body: z.string().nullable(),
    error: z.string().nullable(),
    validation_errors: z.array(z.object({ path: z.string(), message: z.string() })).nullable().openapi({ description: "schema errors of a payload delivered anyway (schema_mode warn)" }),
    created_at: timestamp,
  })
  .openapi("DeliveryAttempt");
export const AttemptListQuerySchema = PageQuerySchema.extend({
  event_id: z.string().regex(/^evt_[0-9a-f]{32}$/, "must be an evt_ id").optional(),
  destination_id: z.string().regex(/^dst_[0-9a-f]{32}$/, "must be a dst_ id").optional(),
  status: z.enum(["success", "failed"]).optional(),
});

// ---- environments & api keys
export const EnvironmentCreateSchema = z.strictObject({ name }).openapi("EnvironmentCreate");
export const EnvironmentSchema = z
  .object({ id: z.string(), org_id: z.string(), name: z.string(), created_at: timestamp })
  .openapi("Environment");
export const ApiKeyCreateSchema = z
  .strictObject({
    name,
    env_id: z.string().regex(/^env_[0-9a-f]{32}$/, "must be an env_ id").openapi({ description: "the project the key is bound to" }),
    mode: z.enum(["live", "test"]).default("live"),
  })
  .openapi("ApiKeyCreate");
export const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    env_id: z.string(),
    masked_key: z.string(),
    created_at: timestamp,
    last_used_at: timestamp.nullable(),
  })
  .openapi("ApiKey");
