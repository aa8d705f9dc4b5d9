import { and, desc, eq, lt } from "drizzle-orm";
import type { Database, Tenant } from "../client.js";
import { connections, destinations, sources } from "../schema/index.js";
import { toPage, type Page, type PageQuery } from "./pagination.js";

export type ConnectionRow = typeof connections.$inferSelect;

const scope = (t: Tenant) => and(eq(connections.org_id, t.org_id), eq(connections.env_id, t.env_id));

export async function insertConnection(db: Database, row: ConnectionRow): Promise<void> {
  await db.insert(connections).values(row);
}

export async function getConnection(db: Database, t: Tenant, id: string): Promise<ConnectionRow | null> {
  return (await db.select().from(connections).where(and(scope(t), eq(connections.id, id))).get()) ?? null;
}

export interface ConnectionListQuery extends PageQuery {
  source_id?: string | undefined;
  destination_id?: string | undefined;
}

export async function listConnections(db: Database, t: Tenant, q: ConnectionListQuery): Promise<Page<ConnectionRow>> {
  const rows = await db
    .select()
    .from(connections)
    .where(
      and(
        scope(t),
        q.source_id ? eq(connections.source_id, q.source_id) : undefined,
        q.destination_id ? eq(connections.destination_id, q.destination_id) : undefined,
        q.cursor ? lt(connections.id, q.cursor) : undefined,
      ),
    )
    .orderBy(desc(connections.id))
    .limit(q.limit + 1);
  return toPage(rows, q.limit);
}

export async function updateConnection(
  db: Database,
  t: Tenant,
  id: string,
  patch: Partial<Pick<ConnectionRow, "name" | "enabled" | "filters" | "transform" | "schema" | "schema_mode" | "updated_at">>,
): Promise<ConnectionRow | null> {
  const rows = await db.update(connections).set(patch).where(and(scope(t), eq(connections.id, id))).returning();
  return rows[0] ?? null;
}

export async function deleteConnection(db: Database, t: Tenant, id: string): Promise<boolean> {
  const rows = await db.delete(connections).where(and(scope(t), eq(connections.id, id))).returning({ id: connections.id });
  return rows.length > 0;
}

/** Both ends must exist in the same tenant: a connection never crosses projects. */
export async function endpointsExist(db: Database, t: Tenant, sourceId: string, destinationId: string) {
  const [src, dst] = await db.batch([
    db.select({ id: sources.id }).from(sources).where(and(eq(sources.org_id, t.org_id), eq(sources.env_id, t.env_id), eq(sources.id, sourceId))),
    db
      .select({ id: destinations.id })
      .from(destinations)
      .where(and(eq(destinations.org_id, t.org_id), eq(destinations.env_id, t.env_id), eq(destinations.id, destinationId))),
  ]);
  return { source: src.length > 0, destination: dst.length > 0 };
}
