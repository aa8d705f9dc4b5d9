import type { Env } from "../env.js";
import { AppError } from "../lib/errors.js";
import { decodeUtf8Strict, toBase64 } from "../lib/encoding.js";
import { isId, newId } from "../model/ids.js";
import type { ReceivedRequest } from "../model/event.js";
import { DEFAULT_MAX_BODY_BYTES, INLINE_BODY_LIMIT } from "../model/types.js";
import { claimed, dedupOwner, eventStatements, type DedupClaim, type NewDelivery } from "../db/repositories/ingest.js";
import { planDeliveries, toMessage } from "../routing/plan.js";
import { enqueueToSchedulers } from "../delivery/enqueue.js";
import { sourceRouting, type CachedSource } from "./source-cache.js";
import { readBodyCapped } from "./read-body.js";
import { dedupKey } from "../providers/sources/dedup-key.js";
import type { VerifyOk } from "../providers/sources/types.js";
import { SourcePolicyError, type CustomResponse } from "./source-policy.js";
import type { RejectionReason } from "./source-guard.js";

/**
 * The sender-facing pipeline: load source → IP rules → rate limit → read body → verify →
 * persist event and deliveries in one batch (claiming the dedup key in it) → hand them to the schedulers → 202
 * (or the source's custom response). The 2xx is sent only once the event is durable in D1;
 * deliveries that did not reach a scheduler are recovered by the sweep. A refused request
 * stores nothing; it is counted on the source's guard (see `GET /v1/sources/{id}/stats`).
 */
export async function handleIngest(request: Request, env: Env, ctx: Pick<ExecutionContext, "waitUntil">, sourceId: string): Promise<Response> {
  const now = Date.now();
  if (!isId("source", sourceId)) throw new AppError("not_found", "source not found");
  let routing: CachedSource | null;
  try {
    routing = await sourceRouting(env.DB, env.ENCRYPTION_KEY, sourceId, now);
  } catch (err) {
    if (err instanceof SourcePolicyError) console.error("source policy does not compile", { source: sourceId, error: err.message });
    throw err;
  }
  if (!routing) throw new AppError("not_found", "source not found");
  const { source, policy } = routing;
  const tenant = { org_id: source.org_id, env_id: source.env_id };
  const guard = () => env.SOURCE_GUARD.get(env.SOURCE_GUARD.idFromName(source.id));
  const refuse = (reason: RejectionReason, error: AppError): never => {
    ctx.waitUntil(guard().count(reason, error.message, now).catch((err: unknown) => console.error("could not count a rejection", { source: source.id, reason, error: String(err) })));
    throw error;
  };

  const clientIp = request.headers.get("cf-connecting-ip");
  if (policy.ip && policy.ip(clientIp) === "deny") {
    refuse("ip_denied", new AppError("forbidden", "requests from this address are not accepted by this source"));
  }

  if (policy.rate_limit) {
    const taken = await guard()
      .take(policy.rate_limit)
      .catch((err: unknown) => {
        // The limit protects the gateway; an unreachable guard must not turn senders away.
        console.error("rate limiter unavailable; accepting", { source: source.id, error: String(err) });
        return { ok: true } as const;
      });
    if (!taken.ok) {
      return Response.json(
        { error: { code: "rate_limited", message: `this source accepts at most ${policy.rate_limit.per_second} requests per second; retry after ${taken.retry_after_seconds} s` } },
        { status: 429, headers: { "retry-after": String(taken.retry_after_seconds) } },
      );
    }
  }

  const maxBytes = policy.max_body_bytes;
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) refuse("too_large", tooLarge(maxBytes));
  const bytes = await readBodyCapped(request, maxBytes);
  if (bytes === null) return refuse("too_large", tooLarge(maxBytes));

  const headers = Object.fromEntries(request.headers);
  let verified: VerifyOk = { ok: true };
  if (policy.verify) {
    const result = await policy.verify({ method: request.method, url: request.url, headers, body: bytes }, { now: Date.now });
    if (!result.ok) refuse(result.reason, new AppError("unauthorized", result.message));
    else verified = result;
    if (policy.handshake) {
      const answer = await policy.handshake(bytes);
      if (answer) return answer;
    }
  }

  // The key is claimed in the event's own batch below: strict, even for concurrent sends.
  const dedup: DedupClaim | undefined = policy.dedup
    ? {
        key: (await dedupKey({ source_id: source.id, event_id: verified.event_id, body: bytes, headers, url: request.url, key: policy.dedup.key })).key,
        expires_at: now + policy.dedup.window_seconds * 1000,
      }
    : undefined;

  const text = decodeUtf8Strict(bytes);
  const url = new URL(request.url);
  const received: ReceivedRequest = {
    method: request.method,
    headers,
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

  let original: string | null;
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
      event_type: verified.event_type?.slice(0, 256) ?? null,
      status: plan.deliveries.length > 0 ? "processing" : "received",
      routing: plan.filtered.length > 0 ? JSON.stringify(plan.filtered) : null,
      received_at: now,
    }, deliveries, dedup);
    // One request, one batch: a batch shared between requests would make each wait on
    // another request's I/O, which workerd cancels as a hung request.
    const results = await env.DB.batch(statements);
    original = !dedup || claimed(results) ? eventId : await dedupOwner(env.DB, source.id, dedup.key);
  } catch (err) {
    console.error("could not persist event", { source: source.id, error: String(err) });
    if (r2Key) await env.BODIES.delete(r2Key).catch(() => undefined);
    throw new AppError("unavailable", "the event could not be stored; please retry");
  }

  if (original !== eventId) {
    // A duplicate: the batch wrote nothing; answer with the event that holds the key.
    if (r2Key) ctx.waitUntil(env.BODIES.delete(r2Key).catch(() => undefined));
    if (original === null) throw new AppError("unavailable", "the event could not be stored; please retry");
    ctx.waitUntil(guard().count("duplicate", `duplicate of ${original}`, now).catch(() => undefined));
    return accepted(policy.response, { event_id: original, duplicate: true }, 200);
  }

  if (plan.deliveries.length > 0) {
    const stored = { event_id: eventId, source_id: source.id, org_id: source.org_id, env_id: source.env_id, received_at: now, request: received, body_r2_key: r2Key };
    await enqueueToSchedulers(env, plan.deliveries.map((p) => ({ message: toMessage(stored, p), attempts: 0 })));
  }
  return accepted(policy.response, { event_id: eventId }, 202);
}

function accepted(custom: CustomResponse | null, body: { event_id: string; duplicate?: true }, status: 200 | 202): Response {
  if (!custom) return Response.json(body, { status });
  return new Response(custom.body, { status: custom.status, headers: { "content-type": custom.content_type, "x-hookstream-event-id": body.event_id } });
}

function tooLarge(max: number): AppError {
  return new AppError("payload_too_large", `request body exceeds this source's limit of ${max} bytes`);
}
