import type { Tenant } from "../client.js";

/**
 * The ingest hot path uses prepared D1 statements directly: two statements to load a
 * source's routing, one batch to persist an event with its deliveries.
 */
export interface SourceRouting {
  source: { id: string; org_id: string; env_id: string; config: string; secrets: string | null };
  connections: { id: string; destination_id: string; filters: string; transform: string | null; schema: string | null; schema_mode: string }[];
}

export async function loadSourceRouting(d1: D1Database, sourceId: string): Promise<SourceRouting | null> {
  const [src, cons] = await d1.batch([
    d1.prepare("SELECT id, org_id, env_id, config, secrets FROM sources WHERE id = ?1").bind(sourceId),
    d1
      .prepare(
        `SELECT c.id, c.destination_id, c.filters, c.transform, c.schema, c.schema_mode
           FROM connections c JOIN destinations d ON d.id = c.destination_id
          WHERE c.source_id = ?1 AND c.enabled = 1
          ORDER BY c.id`,
      )
      .bind(sourceId),
  ]);
  const source = src?.results[0] as SourceRouting["source"] | undefined;
  if (!source) return null;
  return { source, connections: (cons?.results ?? []) as SourceRouting["connections"] };
}

export interface NewEvent {
  id: string;
  source_id: string;
  method: string;
  headers: string;
  query: string;
  body: string | null;
  body_encoding: "utf8" | "base64";
  body_r2_key: string | null;
  body_size: number;
  content_type: string | null;
  source_ip: string | null;
  user_agent: string | null;
  /** The provider's event type, as the source's template reads it. */
  event_type: string | null;
  status: "received" | "processing";
  routing: string | null;
  received_at: number;
}

export interface NewDelivery {
  id: string;
  event_id: string;
  connection_id: string;
  destination_id: string;
}

export function deliveryInserts(d1: D1Database, t: Tenant, list: NewDelivery[], now: number): D1PreparedStatement[] {
  const stmt = d1.prepare(
    `INSERT INTO deliveries (id, org_id, env_id, event_id, connection_id, destination_id, status, attempts, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7)`,
  );
  return list.map((d) => stmt.bind(d.id, t.org_id, t.env_id, d.event_id, d.connection_id, d.destination_id, now));
}

export interface DedupClaim {
  key: string;
  expires_at: number;
}

/**
 * The event and every delivery it fans out to: written together, atomically, or not at all.
 * With a dedup claim the batch first claims the key (taking over an expired claim) and writes
 * the event and its deliveries only if the claim is this event's; `claimed` tells which.
 */
export function eventStatements(d1: D1Database, t: Tenant, e: NewEvent, list: NewDelivery[], dedup?: DedupClaim): D1PreparedStatement[] {
  const columns = `id, org_id, env_id, source_id, method, headers, query, body, body_encoding, body_r2_key,
                   body_size, content_type, source_ip, user_agent, status, received_at, updated_at, routing, event_type`;
  const values = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16, ?17, ?18";
  const args = [
    e.id, t.org_id, t.env_id, e.source_id, e.method, e.headers, e.query, e.body, e.body_encoding, e.body_r2_key,
    e.body_size, e.content_type, e.source_ip, e.user_agent, e.status, e.received_at, e.routing, e.event_type,
  ];
  if (!dedup) {
    return [d1.prepare(`INSERT INTO events (${columns}) VALUES (${values})`).bind(...args), ...deliveryInserts(d1, t, list, e.received_at)];
  }
  const claim = d1
    .prepare(
      `INSERT INTO dedup_keys (source_id, key, event_id, expires_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (source_id, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at
       WHERE dedup_keys.expires_at <= ?5
       RETURNING event_id`,
    )
    .bind(e.source_id, dedup.key, e.id, dedup.expires_at, e.received_at);
  const insertEvent = d1
    .prepare(`INSERT INTO events (${columns}) SELECT ${values} WHERE EXISTS (SELECT 1 FROM dedup_keys WHERE source_id = ?4 AND key = ?19 AND event_id = ?1)`)
    .bind(...args, dedup.key);
  const insertDelivery = d1.prepare(
    `INSERT INTO deliveries (id, org_id, env_id, event_id, connection_id, destination_id, status, attempts, created_at, updated_at)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7 WHERE EXISTS (SELECT 1 FROM events WHERE id = ?4)`,
  );
  return [claim, insertEvent, ...list.map((d) => insertDelivery.bind(d.id, t.org_id, t.env_id, d.event_id, d.connection_id, d.destination_id, e.received_at))];
}

/**
 * Whether the batch's claim took the key: the claim returns its row only when it inserted
 * (or took over an expired claim). Otherwise the key belongs to an earlier event, read by
 * `dedupOwner` (a duplicate's extra query; the first copy pays nothing for it).
 */
export function claimed(results: D1Result[]): boolean {
  return (results[0]?.results.length ?? 0) > 0;
}

export async function dedupOwner(d1: D1Database, sourceId: string, key: string): Promise<string | null> {
  const row = await d1.prepare("SELECT event_id FROM dedup_keys WHERE source_id = ?1 AND key = ?2").bind(sourceId, key).first<{ event_id: string }>();
  return row?.event_id ?? null;
}

/** Expired dedup claims, a bounded number per call (the cron sweep calls it every minute). */
export async function pruneDedupKeys(d1: D1Database, now: number, limit = 1000): Promise<number> {
  const res = await d1
    .prepare("DELETE FROM dedup_keys WHERE rowid IN (SELECT rowid FROM dedup_keys WHERE expires_at <= ?1 LIMIT ?2)")
    .bind(now, limit)
    .run();
  return res.meta.changes ?? 0;
}

/** Events a source stored since `since` (counted up to a cap) and when the last one came. */
export async function sourceEventStats(d1: D1Database, t: Tenant, sourceId: string, since: number): Promise<{ count: number; last_at: number | null }> {
  // Ids start with their creation time in ms (12 hex digits), so an id range is a time range on the index.
  const fromId = `evt_${since.toString(16).padStart(12, "0")}`;
  const [count, last] = await d1.batch([
    d1
      .prepare("SELECT COUNT(*) AS n FROM (SELECT 1 FROM events WHERE env_id = ?1 AND source_id = ?2 AND org_id = ?3 AND id >= ?4 LIMIT 100000)")
      .bind(t.env_id, sourceId, t.org_id, fromId),
    d1.prepare("SELECT received_at FROM events WHERE env_id = ?1 AND source_id = ?2 AND org_id = ?3 ORDER BY id DESC LIMIT 1").bind(t.env_id, sourceId, t.org_id),
  ]);
  const n = (count?.results[0] as { n: number } | undefined)?.n ?? 0;
  const at = (last?.results[0] as { received_at: number } | undefined)?.received_at ?? null;
  return { count: n, last_at: at };
}
