import type { Env } from "../env.js";
import { AppError } from "../lib/errors.js";
import { decodeUtf8Strict, toBase64 } from "../lib/encoding.js";
import { isId, newId } from "../model/ids.js";
import type { ReceivedRequest } from "../model/event.js";
import { DEFAULT_MAX_BODY_BYTES, INLINE_BODY_LIMIT } from "../model/types.js";
import { eventStatements, type NewDelivery } from "../db/repositories/ingest.js";
import { planDeliveries, toMessage } from "../routing/plan.js";
import { enqueueToSchedulers } from "../delivery/enqueue.js";
import { sourceRouting } from "./source-cache.js";
import { readBodyCapped } from "./read-body.js";

interface SourceLimits {
  max_body_bytes?: number;
}

/**
 * The sender-facing pipeline: load source → read body → persist event and deliveries in
 * one batch → hand them to the schedulers → 202. The 202 is sent only once the event is
 * durable in D1; deliveries that did not reach a scheduler are recovered by the sweep.
 */
export async function handleIngest(request: Request, env: Env, sourceId: string): Promise<Response> {
  const now = Date.now();
  if (!isId("source", sourceId)) throw new AppError("not_found", "source not found");
  const routing = await sourceRouting(env.DB, sourceId, now);
  if (!routing) throw new AppError("not_found", "source not found");
  const { source } = routing;
  const tenant = { org_id: source.org_id, env_id: source.env_id };

  const limits = JSON.parse(source.config) as SourceLimits;
  const maxBytes = limits.max_body_bytes ?? DEFAULT_MAX_BODY_BYTES;
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await readBodyCapped(request, maxBytes);
  if (bytes === null) throw tooLarge(maxBytes);

  const text = decodeUtf8Strict(bytes);
  const url = new URL(request.url);
  const received: ReceivedRequest = {
    method: request.method,
    headers: Object.fromEntries(request.headers),
    query: Object.fromEntries(url.searchParams),
    body: text ?? toBase64(bytes),
    body_encoding: text === null ? "base64" : "utf8",
  };

  const eventId = newId("event", now);
  let r2Key: string | null = null;
  if (bytes.byteLength > INLINE_BODY_LIMIT) {
    r2Key = `events/${source.org_id}/${source.env_id}/${eventId}`;
    await env.BODIES.put(r2Key, bytes, { httpMetadata: { contentType: request.headers.get("content-type") ?? "application/octet-stream" } });
  }

  const plan = planDeliveries(received, routing.connections, () => newId("delivery", now));
  const deliveries: NewDelivery[] = plan.deliveries.map((p) => ({ id: p.delivery_id, event_id: eventId, connection_id: p.connection_id, destination_id: p.destination_id }));
  try {
    const statements = eventStatements(env.DB, tenant, {
      id: eventId,
      source_id: source.id,
      method: received.method,
      headers: JSON.stringify(received.headers),
      query: JSON.stringify(received.query),
      body: r2Key ? null : received.body,
      body_encoding: received.body_encoding,
      body_r2_key: r2Key,
      body_size: bytes.byteLength,
      content_type: request.headers.get("content-type"),
      source_ip: request.headers.get("cf-connecting-ip"),
      user_agent: request.headers.get("user-agent"),
      status: plan.deliveries.length > 0 ? "processing" : "received",
      routing: plan.filtered.length > 0 ? JSON.stringify(plan.filtered) : null,
      received_at: now,
    }, deliveries);
    // One request, one batch: a batch shared between requests would make each wait on
    // another request's I/O, which workerd cancels as a hung request.
    await env.DB.batch(statements);
  } catch (err) {
    console.error("could not persist event", { source: source.id, error: String(err) });
    if (r2Key) await env.BODIES.delete(r2Key).catch(() => undefined);
    throw new AppError("unavailable", "the event could not be stored; please retry");
  }

  if (plan.deliveries.length > 0) {
    const stored = { event_id: eventId, source_id: source.id, org_id: source.org_id, env_id: source.env_id, received_at: now, request: received, body_r2_key: r2Key };
    await enqueueToSchedulers(env, plan.deliveries.map((p) => ({ message: toMessage(stored, p), attempts: 0 })));
  }
  return Response.json({ event_id: eventId }, { status: 202 });
}

function tooLarge(max: number): AppError {
  return new AppError("payload_too_large", `request body exceeds this source's limit of ${max} bytes`);
}
