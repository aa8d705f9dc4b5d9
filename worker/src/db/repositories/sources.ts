import { and, desc, eq, lt } from "drizzle-orm";
import type { Database, Tenant } from "../client.js";
import { connections, sources } from "../schema/index.js";
import { toPage, type Page, type PageQuery } from "./pagination.js";

export type SourceRow = typeof sources.$inferSelect;

const scope = (t: Tenant) => and(eq(sources.org_id, t.org_id), eq(sources.env_id, t.env_id));

export async function insertSource(db: Database, row: SourceRow): Promise<void> {
  await db.insert(sources).values(row);
}

export async function getSource(db: Database, t: Tenant, id: string): Promise<SourceRow | null> {
  return (await db.select().from(sources).where(and(scope(t), eq(sources.id, id))).get()) ?? null;
}

export async function listSources(db: Database, t: Tenant, q: PageQuery): Promise<Page<SourceRow>> {
  const rows = await db
    .select()
    .from(sources)
    .where(and(scope(t), q.cursor ? lt(sources.id, q.cursor) : undefined))
    .orderBy(desc(sources.id))
    .limit(q.limit + 1);
  return toPage(rows, q.limit);
}

export async function updateSource(
  db: Database,
  t: Tenant,
  id: string,
  patch: Partial<Pick<SourceRow, "name" | "description" | "config" | "secrets" | "updated_at">>,
): Promise<SourceRow | null> {
  const rows = await db.update(sources).set(patch).where(and(scope(t), eq(sources.id, id))).returning();
  return rows[0] ?? null;
}

/** Its connections go with it (in the same batch); its events stay. */
export async function deleteSource(db: Database, t: Tenant, id: string): Promise<boolean> {
  const [, deleted] = await db.batch([
    db.delete(connections).where(and(eq(connections.org_id, t.org_id), eq(connections.env_id, t.env_id), eq(connections.source_id, id))),
    db.delete(sources).where(and(scope(t), eq(sources.id, id))).returning({ id: sources.id }),
  ]);
  return deleted.length > 0;
}
