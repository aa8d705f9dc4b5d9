import { decodeUtf8Strict, toBase64, utf8 } from "../lib/encoding.js";
import type { OutboundMessage } from "../model/event.js";
import { runConnection } from "../routing/pipeline.js";
import { routingBody } from "../routing/plan.js";
import { createTransformer } from "../routing/transform.js";
import type { SchemaError } from "../routing/validate.js";
import type { DeliveryPayload } from "../providers/destinations/types.js";
import type { DeliveryResult } from "./result.js";

/** One per isolate: it holds the compiled-expression cache (the dry-run endpoint shares it). */
export const transformer = createTransformer();

export type PreparedPayload =
  | { ok: true; payload: DeliveryPayload; validation_errors: SchemaError[] | null }
  | { ok: false; result: DeliveryResult };

/**
 * The connection's delivery-time steps: transform, then validate. A transform or schema
 * failure is the user's configuration, not the destination's health, so it is a permanent
 * failure (dead-lettered with the reason) that never reaches the network.
 */
export async function applyRoute(payload: DeliveryPayload, m: OutboundMessage): Promise<PreparedPayload> {
  const route = m.route;
  if (!route || (route.transform === null && route.schema === null)) return { ok: true, payload, validation_errors: null };
  const text = decodeUtf8Strict(payload.body);
  const body = routingBody({
    body: text ?? toBase64(payload.body),
    body_encoding: text === null ? "base64" : "utf8",
    headers: { "content-type": payload.content_type ?? "" },
  });
  const outcome = await runConnection(
    { filters: [], transform: route.transform, schema: route.schema, schema_mode: route.schema_mode },
    {
      body,
      headers: payload.headers,
      query: payload.query,
      metadata: {
        event_id: m.event_id,
        source_id: m.source_id,
        connection_id: m.connection_id,
        destination_id: m.destination_id,
        received_at: new Date(m.received_at).toISOString(),
        method: m.method,
        attempt: payload.attempt_number,
      },
    },
    transformer,
  );
  if (outcome.outcome === "rejected") {
    return { ok: false, result: { kind: "permanent", error: `${outcome.stage}: ${outcome.message}`, status_code: null, response_body: null, latency_ms: 0 } };
  }
  if (outcome.outcome === "filtered") return { ok: true, payload, validation_errors: null };
  let next = payload;
  if (outcome.transformed) {
    if (outcome.payload === undefined) {
      return { ok: false, result: { kind: "permanent", error: "transform: the expression produced no value", status_code: null, response_body: null, latency_ms: 0 } };
    }
    next = { ...payload, body: utf8(JSON.stringify(outcome.payload)), content_type: "application/json", headers: { ...payload.headers, "content-type": "application/json" } };
  }
  return { ok: true, payload: next, validation_errors: outcome.validation_errors ?? null };
}
