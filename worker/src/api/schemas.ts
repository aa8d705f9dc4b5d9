import { z } from "@hono/zod-openapi";
import { DESTINATION_TYPES, EVENT_STATUSES, RETRY_STRATEGIES } from "../model/types.js";

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

// ---- sources
export const SourceCreateSchema = z
  .strictObject({
    name,
    description: z.string().max(1024).nullable().optional(),
    max_body_bytes: z.number().int().min(1).max(25 * 1024 * 1024).optional().openapi({ description: "default 10 MiB" }),
  })
  .openapi("SourceCreate");
export const SourceUpdateSchema = SourceCreateSchema.partial().openapi("SourceUpdate");
export const SourceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    ingest_url: z.string(),
    max_body_bytes: z.number().int(),
    managed_by: z.enum(["api", "config"]),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi("Source");

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

export const DestinationCreateSchema = z
  .strictObject({
    name,
    type: z.enum(DESTINATION_TYPES),
    config: z.record(z.string(), z.unknown()).openapi({ description: "per type; see README" }),
    retry_policy: RetryPolicySchema.optional(),
    circuit_breaker: CircuitBreakerSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("DestinationCreate");
export const DestinationUpdateSchema = z
  .strictObject({
    name: name.optional(),
    config: z.record(z.string(), z.unknown()).optional().openapi({ description: "merged into the current config" }),
    retry_policy: RetryPolicySchema.optional(),
    circuit_breaker: CircuitBreakerSchema.optional(),
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
    enabled: z.boolean(),
    managed_by: z.enum(["api", "config"]),
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
    managed_by: z.enum(["api", "config"]),
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
  .strictObject({ name, mode: z.enum(["live", "test"]).default("live") })
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
