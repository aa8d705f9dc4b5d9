import type { DeliveryStatus } from "../../model/types.js";

/**
 * What the scheduler writes after each attempt, as prepared statements so that many
 * attempts' writes go to D1 in one batch.
 */
export interface AttemptRecord {
  id: string;
  org_id: string;
  env_id: string;
  event_id: string;
  delivery_id: string;
  destination_id: string;
  connection_id: string;
  attempt_number: number;
  status: "success" | "failed";
  status_code: number | null;
  latency_ms: number;
  response_body: string | null;
  error: string | null;
  validation_errors: string | null;
  created_at: number;
}

export interface DeliveryUpdate {
  status: DeliveryStatus;
  next_attempt_at: number | null;
}

export interface DeadLetterRecord {
  id: string;
  reason: string;
}

export function outcomeStatements(
  d1: D1Database,
  a: AttemptRecord,
  update: DeliveryUpdate,
  deadLetter: DeadLetterRecord | null,
): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [
    d1
      .prepare(
        `INSERT INTO delivery_attempts (id, org_id, env_id, event_id, delivery_id, destination_id, connection_id,
           attempt_number, status, status_code, latency_ms, response_body, error, created_at, validation_errors)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)`,
      )
      .bind(
        a.id, a.org_id, a.env_id, a.event_id, a.delivery_id, a.destination_id, a.connection_id,
        a.attempt_number, a.status, a.status_code, a.latency_ms, a.response_body, a.error, a.created_at, a.validation_errors,
      ),
    d1
      .prepare(
        `UPDATE deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4, last_error = ?5, updated_at = ?6 WHERE id = ?1`,
      )
      .bind(a.delivery_id, update.status, a.attempt_number, update.next_attempt_at, a.error, a.created_at),
  ];
  if (deadLetter) {
    out.push(
      d1
        .prepare(
          `INSERT INTO dead_letters (id, org_id, env_id, destination_id, delivery_id, event_id, connection_id, reason,
             attempts, last_status_code, created_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`,
        )
        .bind(
          deadLetter.id, a.org_id, a.env_id, a.destination_id, a.delivery_id, a.event_id, a.connection_id,
          deadLetter.reason, a.attempt_number, a.status_code, a.created_at,
        ),
    );
  }
  if (update.status === "delivered" || update.status === "failed") out.push(eventStatusStatement(d1, a.event_id, a.created_at));
  return out;
}

/** The event's status follows its deliveries: any open → processing; any dead → failed; else delivered. */
export function eventStatusStatement(d1: D1Database, eventId: string, now: number): D1PreparedStatement {
  return d1
    .prepare(
      `UPDATE events SET updated_at = ?2, status = CASE
         WHEN EXISTS (SELECT 1 FROM deliveries WHERE event_id = ?1 AND status IN ('pending', 'retrying')) THEN 'processing'
         WHEN EXISTS (SELECT 1 FROM deliveries WHERE event_id = ?1 AND status = 'failed') THEN 'failed'
         ELSE 'delivered' END
       WHERE id = ?1`,
    )
    .bind(eventId, now);
}

export interface StrandedDelivery {
  id: string;
  destination_id: string;
}

/**
 * Deliveries written as pending (at ingest, or reopened by a retry or redrive) that may not
 * have reached their scheduler because the isolate died in between. Ones a scheduler does
 * hold (e.g. behind an open circuit) match too, so the scan walks forward from `after` by id
 * and wraps around: a large held backlog cannot starve a stranded delivery.
 */
export async function strandedDeliveries(d1: D1Database, olderThan: number, after: string, limit: number): Promise<StrandedDelivery[]> {
  const res = await d1
    .prepare(
      `SELECT id, destination_id FROM deliveries
        WHERE status = 'pending' AND id > ?2 AND updated_at < ?1
        ORDER BY id LIMIT ?3`,
    )
    .bind(olderThan, after, limit)
    .all<StrandedDelivery>();
  return res.results;
}
