import type { Tenant } from "../client.js";

/** A delivery joined with its event: everything needed to build the outbound message again. */
export interface DeliveryWithEvent {
  delivery_id: string;
  event_id: string;
  connection_id: string;
  destination_id: string;
  org_id: string;
  env_id: string;
  attempts: number;
  source_id: string;
  method: string;
  headers: string;
  query: string;
  body: string | null;
  body_encoding: "utf8" | "base64";
  body_r2_key: string | null;
  received_at: number;
  /** The connection's current steps; null columns when it was deleted since. */
  transform: string | null;
  schema: string | null;
  schema_mode: string | null;
}

const D1_MAX_PARAMS = 90;

/** Tenant-scoped when `t` is given (API paths); unscoped only for the system sweep. */
export async function deliveriesWithEvents(d1: D1Database, ids: string[], t?: Tenant): Promise<DeliveryWithEvent[]> {
  const out: DeliveryWithEvent[] = [];
  for (let i = 0; i < ids.length; i += D1_MAX_PARAMS) {
    const chunk = ids.slice(i, i + D1_MAX_PARAMS);
    const marks = chunk.map((_, j) => `?${j + 3}`).join(", ");
    const scope = t ? "d.org_id = ?1 AND d.env_id = ?2" : "?1 IS NULL AND ?2 IS NULL";
    const res = await d1
      .prepare(
        `SELECT d.id AS delivery_id, d.event_id, d.connection_id, d.destination_id, d.org_id, d.env_id, d.attempts,
                e.source_id, e.method, e.headers, e.query, e.body, e.body_encoding, e.body_r2_key, e.received_at,
                c.transform, c.schema, c.schema_mode
           FROM deliveries d JOIN events e ON e.id = d.event_id LEFT JOIN connections c ON c.id = d.connection_id
          WHERE ${scope} AND d.id IN (${marks})`,
      )
      .bind(t?.org_id ?? null, t?.env_id ?? null, ...chunk)
      .all<DeliveryWithEvent>();
    out.push(...res.results);
  }
  return out;
}
