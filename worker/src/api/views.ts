import type { z } from "@hono/zod-openapi";
import type { SourceRow } from "../db/repositories/sources.js";
import type { DestinationRow } from "../db/repositories/destinations.js";
import type { ConnectionRow } from "../db/repositories/connections.js";
import type { AttemptRow, DeliveryRow, EventRow } from "../db/repositories/events.js";
import type { DeadLetterRow } from "../db/repositories/dead-letters.js";
import { DEFAULT_MAX_BODY_BYTES, type DestinationType } from "../model/types.js";
import { iso, isoOrNull } from "./context.js";
import { settingsView } from "./source-settings.js";
import type {
  AttemptSchema, ConnectionSchema, DeadLetterSchema, DeliverySchema, DestinationSchema, EventSchema, EventSummarySchema, SourceSchema,
} from "./schemas.js";

export function sourceView(row: SourceRow, baseUrl: string, now = Date.now()): z.infer<typeof SourceSchema> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    ingest_url: `${baseUrl}/v1/ingest/${row.id}`,
    ...settingsView(row.config, now),
    managed_by: row.managed_by,
    declared_in: row.declared_in,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** `config` as stored already has secret fields masked; `reveal` adds them back once, on create. */
export function destinationView(row: DestinationRow, reveal?: Record<string, unknown>): z.infer<typeof DestinationSchema> {
  return {
    id: row.id,
    name: row.name,
    type: row.type as DestinationType,
    config: { ...(JSON.parse(row.config) as Record<string, unknown>), ...reveal },
    retry_policy: JSON.parse(row.retry_policy),
    circuit_breaker: JSON.parse(row.circuit_breaker),
    rate_limit: row.rate_limit_per_second === null ? null : { per_second: row.rate_limit_per_second },
    max_in_flight: row.max_in_flight,
    ordered: row.ordered,
    enabled: row.enabled,
    managed_by: row.managed_by,
    declared_in: row.declared_in,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export function connectionView(row: ConnectionRow): z.infer<typeof ConnectionSchema> {
  return {
    id: row.id,
    name: row.name,
    source_id: row.source_id,
    destination_id: row.destination_id,
    filters: JSON.parse(row.filters) as unknown[],
    transform: row.transform,
    schema: row.schema === null ? null : (JSON.parse(row.schema) as Record<string, unknown>),
    schema_mode: row.schema_mode,
    enabled: row.enabled,
    managed_by: row.managed_by,
    declared_in: row.declared_in,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export function eventSummaryView(row: Omit<EventRow, "body">): z.infer<typeof EventSummarySchema> {
  return {
    id: row.id,
    source_id: row.source_id,
    status: row.status,
    event_type: row.event_type,
    method: row.method,
    content_type: row.content_type,
    metadata: { source_ip: row.source_ip, user_agent: row.user_agent, content_length: row.body_size },
    received_at: iso(row.received_at),
    updated_at: iso(row.updated_at),
  };
}

export function eventView(row: EventRow, body: string, deliveries: DeliveryRow[]): z.infer<typeof EventSchema> {
  return {
    ...eventSummaryView(row),
    headers: JSON.parse(row.headers) as Record<string, string>,
    query: JSON.parse(row.query) as Record<string, string>,
    body,
    body_encoding: row.body_encoding,
    deliveries: deliveries.map(deliveryView),
    routing: row.routing === null ? [] : (JSON.parse(row.routing) as { connection_id: string; rule: Record<string, unknown>; reason: string }[]).map((f) => ({ ...f, outcome: "filtered" as const })),
  };
}

export function deliveryView(d: DeliveryRow): z.infer<typeof DeliverySchema> {
  return {
    id: d.id,
    connection_id: d.connection_id,
    destination_id: d.destination_id,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: isoOrNull(d.next_attempt_at),
    last_error: d.last_error,
  };
}

export function attemptView(a: AttemptRow): z.infer<typeof AttemptSchema> {
  return {
    id: a.id,
    event_id: a.event_id,
    delivery_id: a.delivery_id,
    destination_id: a.destination_id,
    connection_id: a.connection_id,
    attempt_number: a.attempt_number,
    status: a.status,
    status_code: a.status_code,
    latency_ms: a.latency_ms,
    response_body: a.response_body,
    error: a.error,
    validation_errors: a.validation_errors === null ? null : (JSON.parse(a.validation_errors) as { path: string; message: string }[]),
    created_at: iso(a.created_at),
  };
}

export function deadLetterView(d: DeadLetterRow): z.infer<typeof DeadLetterSchema> {
  return {
    id: d.id,
    event_id: d.event_id,
    delivery_id: d.delivery_id,
    connection_id: d.connection_id,
    destination_id: d.destination_id,
    reason: d.reason,
    attempts: d.attempts,
    last_status_code: d.last_status_code,
    created_at: iso(d.created_at),
  };
}
