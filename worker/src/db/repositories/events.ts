import { and, asc, desc, eq, getTableColumns, inArray, isNull, lt } from "drizzle-orm";
import type { Database, Tenant } from "../client.js";
import { deadLetters, deliveries, deliveryAttempts, events } from "../schema/index.js";
import type { DeliveryStatus, EventStatus } from "../../model/types.js";
import { toPage, type Page, type PageQuery } from "./pagination.js";

export type EventRow = typeof events.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
export type AttemptRow = typeof deliveryAttempts.$inferSelect;

export interface EventListQuery extends PageQuery {
  source_id?: string | undefined;
  status?: EventStatus | undefined;
}

export async function listEvents(db: Database, t: Tenant, q: EventListQuery): Promise<Page<Omit<EventRow, "body">>> {
  const { body: _omit, ...columns } = getTableColumns(events);
  const rows = await db
    .select(columns)
    .from(events)
    .where(
      and(
        eq(events.org_id, t.org_id),
        eq(events.env_id, t.env_id),
        q.source_id ? eq(events.source_id, q.source_id) : undefined,
        q.status ? eq(events.status, q.status) : undefined,
        q.cursor ? lt(events.id, q.cursor) : undefined,
      ),
    )
    .orderBy(desc(events.id))
    .limit(q.limit + 1);
  return toPage(rows, q.limit);
}

export async function getEvent(db: Database, t: Tenant, id: string): Promise<EventRow | null> {
  return (
    (await db
      .select()
      .from(events)
      .where(and(eq(events.org_id, t.org_id), eq(events.env_id, t.env_id), eq(events.id, id)))
      .get()) ?? null
  );
}

export async function deliveriesOfEvent(db: Database, t: Tenant, eventId: string): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.org_id, t.org_id), eq(deliveries.env_id, t.env_id), eq(deliveries.event_id, eventId)))
    .orderBy(asc(deliveries.id));
}

export interface AttemptListQuery extends PageQuery {
  event_id?: string | undefined;
  destination_id?: string | undefined;
  status?: "success" | "failed" | undefined;
}

export async function listAttempts(db: Database, t: Tenant, q: AttemptListQuery): Promise<Page<AttemptRow>> {
  const rows = await db
    .select()
    .from(deliveryAttempts)
    .where(
      and(
        eq(deliveryAttempts.org_id, t.org_id),
        eq(deliveryAttempts.env_id, t.env_id),
        q.event_id ? eq(deliveryAttempts.event_id, q.event_id) : undefined,
        q.destination_id ? eq(deliveryAttempts.destination_id, q.destination_id) : undefined,
        q.status ? eq(deliveryAttempts.status, q.status) : undefined,
        q.cursor ? lt(deliveryAttempts.id, q.cursor) : undefined,
      ),
    )
    .orderBy(desc(deliveryAttempts.id))
    .limit(q.limit + 1);
  return toPage(rows, q.limit);
}

/**
 * Puts deliveries back to pending before they are handed to their schedulers again (manual
 * retry, redrive), in one atomic batch: their open dead letters are closed and their events
 * are processing again. Should the hand-off then fail, the sweep finds them pending.
 */
export async function reopenDeliveries(db: Database, t: Tenant, ids: string[], eventIds: string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  const own = (table: typeof deadLetters | typeof deliveries | typeof events) => and(eq(table.org_id, t.org_id), eq(table.env_id, t.env_id));
  await db.batch([
    db
      .update(deliveries)
      .set({ status: "pending" satisfies DeliveryStatus, next_attempt_at: null, updated_at: now })
      .where(and(own(deliveries), inArray(deliveries.id, ids))),
    db.update(deadLetters).set({ redriven_at: now }).where(and(own(deadLetters), inArray(deadLetters.delivery_id, ids), isNull(deadLetters.redriven_at))),
    db.update(events).set({ status: "processing", updated_at: now }).where(and(own(events), inArray(events.id, eventIds))),
  ]);
}
