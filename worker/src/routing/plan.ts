import type { OutboundMessage, ReceivedRequest } from "../model/event.js";

/** A connection as routing sees it; later issues add filters, transform and schema. */
export interface RoutableConnection {
  id: string;
  destination_id: string;
}

export interface PlannedDelivery {
  delivery_id: string;
  connection_id: string;
  destination_id: string;
}

/** Fan-out: every enabled connection of the source yields one delivery. Pure. */
export function planDeliveries(
  _request: ReceivedRequest,
  connections: readonly RoutableConnection[],
  newDeliveryId: () => string,
): PlannedDelivery[] {
  return connections.map((c) => ({ delivery_id: newDeliveryId(), connection_id: c.id, destination_id: c.destination_id }));
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
  };
}
