import type { Env } from "../env.js";
import { deliveriesWithEvents, type DeliveryWithEvent } from "../db/repositories/messages.js";
import { strandedDeliveries } from "../db/repositories/outcomes.js";
import { pruneDedupKeys } from "../db/repositories/ingest.js";
import { routeOf, toMessage, type StoredEventLike } from "../routing/plan.js";
import { enqueueToSchedulers } from "./enqueue.js";
import type { EnqueueItem } from "./scheduler.js";

/** A delivery still pending this long after it was written never reached its scheduler. */
export const STRANDED_AFTER_MS = 60_000;
const SWEEP_LIMIT = 500;
const SWEEP_CURSOR_KEY = "sweep:cursor";

/**
 * The cron backstop for "no accepted event is lost": deliveries persisted with their event
 * but never handed to a scheduler are handed over again. Schedulers ignore ones they already have.
 */
export async function sweep(env: Env, now: number): Promise<number> {
  // Expired dedup claims go here too: bounded per run, never on the ingest path.
  await pruneDedupKeys(env.DB, now).catch((err: unknown) => console.error("could not prune dedup keys", { error: String(err) }));
  const after = (await env.KV.get(SWEEP_CURSOR_KEY)) ?? "";
  const stranded = await strandedDeliveries(env.DB, now - STRANDED_AFTER_MS, after, SWEEP_LIMIT);
  const next = stranded.length === SWEEP_LIMIT ? stranded[stranded.length - 1]!.id : "";
  if (next !== after) await env.KV.put(SWEEP_CURSOR_KEY, next);
  if (stranded.length === 0) return 0;
  const rows = await deliveriesWithEvents(env.DB, stranded.map((s) => s.id));
  // D1 says pending: a scheduler that finished it earlier must take it again.
  await enqueueToSchedulers(env, rows.map(toEnqueueItem), { mode: "reopen" });
  return rows.length;
}

/** Rebuilds the message of a stored delivery (sweep, manual retry, redrive) the way ingest built it. */
export function toEnqueueItem(r: DeliveryWithEvent): EnqueueItem {
  const stored: StoredEventLike = {
    event_id: r.event_id,
    source_id: r.source_id,
    org_id: r.org_id,
    env_id: r.env_id,
    received_at: r.received_at,
    request: {
      method: r.method,
      headers: JSON.parse(r.headers) as Record<string, string>,
      query: JSON.parse(r.query) as Record<string, string>,
      body: r.body ?? "",
      body_encoding: r.body_encoding,
    },
    body_r2_key: r.body_r2_key,
  };
  // The connection's steps as they are now (a fix to a transform applies); none if it was deleted.
  const route = routeOf(r.transform, r.schema, r.schema_mode);
  const message = toMessage(stored, { delivery_id: r.delivery_id, connection_id: r.connection_id, destination_id: r.destination_id, route });
  return { message, attempts: r.attempts };
}
