import { and, desc, eq, lt } from "drizzle-orm";
import type { Database, Tenant } from "../client.js";
import { connections, destinations } from "../schema/index.js";
import { toPage, type Page, type PageQuery } from "./pagination.js";

export type DestinationRow = typeof destinations.$inferSelect;

const scope = (t: Tenant) => and(eq(destinations.org_id, t.org_id), eq(destinations.env_id, t.env_id));

export async function insertDestination(db: Database, row: DestinationRow): Promise<void> {
  await db.insert(destinations).values(row);
}

export async function getDestination(db: Database, t: Tenant, id: string): Promise<DestinationRow | null> {
  return (await db.select().from(destinations).where(and(scope(t), eq(destinations.id, id))).get()) ?? null;
}

/** For the scheduler, which is addressed by destination id alone; the row carries its tenant. */
export async function getDestinationById(db: Database, id: string): Promise<DestinationRow | null> {
  return (await db.select().from(destinations).where(eq(destinations.id, id)).get()) ?? null;
}

export async function listDestinations(db: Database, t: Tenant, q: PageQuery): Promise<Page<DestinationRow>> {
  const rows = await db
    .select()
    .from(destinations)
    .where(and(scope(t), q.cursor ? lt(destinations.id, q.cursor) : undefined))
    .orderBy(desc(destinations.id))
    .limit(q.limit + 1);
  return toPage(rows, q.limit);
}

export async function updateDestination(
  db: Database,
  t: Tenant,
  id: string,
  patch: Partial<Omit<DestinationRow, "id" | "org_id" | "env_id" | "type" | "created_at" | "managed_by">>,
): Promise<DestinationRow | null> {
  const rows = await db.update(destinations).set(patch).where(and(scope(t), eq(destinations.id, id))).returning();
  return rows[0] ?? null;
}

export async function countConnectionsTo(db: Database, t: Tenant, destinationId: string): Promise<number> {
  const rows = await db
    .select({ id: connections.id })
    .from(connections)
    .where(and(eq(connections.org_id, t.org_id), eq(connections.env_id, t.env_id), eq(connections.destination_id, destinationId)))
    .limit(1);
  return rows.length;
}

export async function deleteDestination(db: Database, t: Tenant, id: string): Promise<boolean> {
  const rows = await db.delete(destinations).where(and(scope(t), eq(destinations.id, id))).returning({ id: destinations.id });
  return rows.length > 0;
}
