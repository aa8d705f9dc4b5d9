import type { MessageRoute, OutboundMessage, ReceivedRequest } from "../model/event.js";
import { evaluateFilters, type FailedRule, type Filters } from "./filters.js";
import { parseBodyForRouting } from "./pipeline.js";

/** A connection as routing sees it. */
export interface RoutableConnection {
  id: string;
  destination_id: string;
  filters: Filters;
  /** Applied at delivery time by the scheduler, off the ingest path. */
  route: MessageRoute | null;
}

export interface PlannedDelivery {
  delivery_id: string;
  connection_id: string;
  destination_id: string;
  route: MessageRoute | null;
}

/** A connection's delivery-time steps from their stored form; null when it has none. */
export function routeOf(transform: string | null, schemaJson: string | null, schemaMode: string | null): MessageRoute | null {
  if (transform === null && schemaJson === null) return null;
  return { transform, schema: schemaJson === null ? null : (JSON.parse(schemaJson) as object), schema_mode: schemaMode === "warn" ? "warn" : "reject" };
}

/** A connection whose filters did not take the event: recorded on the event, not a failure. */
export interface FilteredConnection {
  connection_id: string;
  rule: FailedRule;
  reason: string;
}

export interface Plan {
  deliveries: PlannedDelivery[];
  filtered: FilteredConnection[];
}

/**
 * Fan-out with filters: every enabled connection whose filters match yields one delivery.
 * Filters run at ingest (microseconds each); transforms and schemas run when the scheduler
 * delivers. The body is parsed once, and only when some connection filters on it. Pure.
 */
export function planDeliveries(request: ReceivedRequest, connections: readonly RoutableConnection[], newDeliveryId: () => string): Plan {
  const plan: Plan = { deliveries: [], filtered: [] };
  let body: unknown;
  let parsed = false;
  for (const c of connections) {
    if (c.filters.length > 0) {
      if (!parsed) {
        body = routingBody(request);
        parsed = true;
      }
      const result = evaluateFilters(c.filters, { body, headers: request.headers, query: request.query });
      if (!result.matched) {
        plan.filtered.push({ connection_id: c.id, rule: result.rule, reason: result.reason });
        continue;
      }
    }
    plan.deliveries.push({ delivery_id: newDeliveryId(), connection_id: c.id, destination_id: c.destination_id, route: c.route });
  }
  return plan;
}

/** What filters, transforms and schemas see as `body`. Binary bodies are seen as their base64 text. */
export function routingBody(request: Pick<ReceivedRequest, "body" | "body_encoding" | "headers">): unknown {
  if (request.body_encoding === "base64") return request.body;
  return parseBodyForRouting(request.body, request.headers["content-type"] ?? null);
}


/** Hop-by-hop, platform and credential headers are not forwarded to destinations. */
const DROPPED = new Set([
  "host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
  "proxy-authorization", "proxy-authenticate", "accept-encoding", "authorization", "cookie",
  "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "true-client-ip", "cdn-loop",
]);

export function forwardableHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (DROPPED.has(name) || name.startsWith("cf-") || name.startsWith("webhook-")) continue;
    out[name] = value;
  }
  return out;
}

export interface StoredEventLike {
  event_id: string;
  source_id: string;
  org_id: string;
  env_id: string;
  received_at: number;
  request: ReceivedRequest;
  body_r2_key: string | null;
}

export function toMessage(e: StoredEventLike, d: PlannedDelivery): OutboundMessage {
  return {
    delivery_id: d.delivery_id,
    event_id: e.event_id,
    source_id: e.source_id,
    connection_id: d.connection_id,
    destination_id: d.destination_id,
    org_id: e.org_id,
    env_id: e.env_id,
    received_at: e.received_at,
    method: e.request.method,
    headers: forwardableHeaders(e.request.headers),
    query: e.request.query,
    body: e.body_r2_key ? null : e.request.body,
    body_encoding: e.request.body_encoding,
    body_r2_key: e.body_r2_key,
    route: d.route,
  };
}
