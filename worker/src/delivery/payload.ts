import type { OutboundMessage } from "../model/event.js";
import type { DeliveryPayload } from "../providers/destinations/types.js";
import { fromBase64, utf8 } from "../lib/encoding.js";

/** Turns a queued message into the bytes a provider sends, fetching an R2 body when needed. */
export async function resolvePayload(bodies: R2Bucket, m: OutboundMessage, attemptNumber: number): Promise<DeliveryPayload> {
  let body: Uint8Array;
  if (m.body_r2_key) {
    const obj = await bodies.get(m.body_r2_key);
    if (!obj) throw new Error(`event body missing from R2 (${m.body_r2_key})`);
    body = new Uint8Array(await obj.arrayBuffer());
  } else if (m.body === null) body = new Uint8Array();
  else body = m.body_encoding === "base64" ? fromBase64(m.body) : utf8(m.body);
  return {
    delivery_id: m.delivery_id,
    event_id: m.event_id,
    source_id: m.source_id,
    connection_id: m.connection_id,
    destination_id: m.destination_id,
    attempt_number: attemptNumber,
    method: m.method,
    headers: m.headers,
    query: m.query,
    body,
    content_type: m.headers["content-type"] ?? null,
  };
}
