import { and, desc, eq, inArray, isNull, lt } from "drizzle-orm";
import type { Database, Tenant } from "../client.js";
import { deadLetters } from "../schema/index.js";
import { toPage, type Page, type PageQuery } from "./pagination.js";

export type DeadLetterRow = typeof deadLetters.$inferSelect;

const open = (t: Tenant, destinationId: string) =>
  and(
    eq(deadLetters.org_id, t.org_id),
    eq(deadLetters.env_id, t.env_id),
    eq(deadLetters.destination_id, destinationId),
    isNull(deadLetters.redriven_at),
  );

/** The DLQ of a destination: entries not yet redriven, newest first. */
export async function listDeadLetters(db: Database, t: Tenant, destinationId: string, q: PageQuery): Promise<Page<DeadLetterRow>> {
  const rows = await db
    .select()
    .from(deadLetters)
    .where(and(open(t, destinationId), q.cursor ? lt(deadLetters.id, q.cursor) : undefined))
    .orderBy(desc(deadLetters.id))
    .limit(q.limit + 1);
  return toPage(rows, q.limit);
}

export async function openDeadLetters(db: Database, t: Tenant, destinationId: string, ids: string[] | undefined, limit: number) {
  return db
    .select()
    .from(deadLetters)
    .where(and(open(t, destinationId), ids ? inArray(deadLetters.id, ids) : undefined))
    .orderBy(deadLetters.id)
    .limit(limit);
}
