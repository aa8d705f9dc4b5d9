import { and, desc, eq, getTableColumns, getTableName, inArray, isNull, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { is } from "drizzle-orm";
import { SQLiteTable as SQLiteTableClass } from "drizzle-orm/sqlite-core";
import type { Database, Tenant } from "../client.js";
import * as schema from "../schema/index.js";
import { apiKeys, destinations, environments, invitations, memberships, organizations } from "../schema/index.js";

export type OrganizationRow = typeof organizations.$inferSelect;
export type EnvironmentRow = typeof environments.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type MembershipRow = typeof memberships.$inferSelect;

// ---- organizations

export async function getOrganization(db: Database, orgId: string): Promise<OrganizationRow | null> {
  return (await db.select().from(organizations).where(eq(organizations.id, orgId)).get()) ?? null;
}

export async function renameOrganization(db: Database, orgId: string, name: string): Promise<OrganizationRow | null> {
  return (await db.update(organizations).set({ name }).where(eq(organizations.id, orgId)).returning().get()) ?? null;
}

/** A new organization with its owner and its first project, all or nothing. */
export async function insertOrganization(db: Database, org: OrganizationRow, owner: MembershipRow, env: EnvironmentRow): Promise<void> {
  await db.batch([db.insert(organizations).values(org), db.insert(memberships).values(owner), db.insert(environments).values(env)]);
}

// ---- environments (projects)

export async function listEnvironments(db: Database, orgId: string): Promise<EnvironmentRow[]> {
  return db.select().from(environments).where(eq(environments.org_id, orgId)).orderBy(environments.id);
}

export async function getEnvironment(db: Database, orgId: string, envId: string): Promise<EnvironmentRow | null> {
  return (await db.select().from(environments).where(and(eq(environments.org_id, orgId), eq(environments.id, envId))).get()) ?? null;
}

export async function getEnvironmentById(db: Database, envId: string): Promise<EnvironmentRow | null> {
  return (await db.select().from(environments).where(eq(environments.id, envId)).get()) ?? null;
}

export async function insertEnvironment(db: Database, row: EnvironmentRow): Promise<void> {
  await db.insert(environments).values(row);
}

export async function renameEnvironment(db: Database, orgId: string, envId: string, name: string): Promise<EnvironmentRow | null> {
  return (
    (await db
      .update(environments)
      .set({ name })
      .where(and(eq(environments.org_id, orgId), eq(environments.id, envId)))
      .returning()
      .get()) ?? null
  );
}

/** Every table that holds a project's data: any table with an `env_id` column (tables added later included). */
export function projectTables(): SQLiteTable[] {
  const all = Object.values(schema) as unknown[];
  return all.filter((t): t is SQLiteTable => is(t, SQLiteTableClass) && "env_id" in getTableColumns(t) && "org_id" in getTableColumns(t));
}

export const projectTableNames = () => projectTables().map((t) => getTableName(t));

export async function destinationIdsOf(db: Database, orgId: string, envIds: string[]): Promise<string[]> {
  if (envIds.length === 0) return [];
  const rows = await db.select({ id: destinations.id }).from(destinations).where(and(eq(destinations.org_id, orgId), inArray(destinations.env_id, envIds)));
  return rows.map((r) => r.id);
}

function scopedDelete(db: Database, table: SQLiteTable, orgId: string, envIds: string[]) {
  const cols = getTableColumns(table) as unknown as { org_id: Parameters<typeof eq>[0]; env_id: Parameters<typeof inArray>[0] };
  return db.delete(table).where(and(eq(cols.org_id, orgId), inArray(cols.env_id, envIds)) as SQL);
}

/** Deletes projects and everything under them (every project table, then the project rows) in one D1 batch. */
export async function deleteEnvironments(db: Database, orgId: string, envIds: string[]): Promise<number> {
  if (envIds.length === 0) return 0;
  const [first, ...rest] = [
    ...projectTables().map((t) => scopedDelete(db, t, orgId, envIds)),
    db.delete(environments).where(and(eq(environments.org_id, orgId), inArray(environments.id, envIds))).returning({ id: environments.id }),
  ];
  const results = await db.batch([first!, ...rest]);
  return (results.at(-1) as { id: string }[]).length;
}

/** The organization, its people, invitations and every project: one batch. */
export async function deleteOrganization(db: Database, orgId: string): Promise<void> {
  const envIds = (await listEnvironments(db, orgId)).map((e) => e.id);
  const statements = [
    ...(envIds.length > 0 ? projectTables().map((t) => scopedDelete(db, t, orgId, envIds)) : []),
    db.delete(environments).where(eq(environments.org_id, orgId)),
    db.delete(invitations).where(eq(invitations.org_id, orgId)),
    db.delete(memberships).where(eq(memberships.org_id, orgId)),
    db.delete(organizations).where(eq(organizations.id, orgId)),
  ];
  const [first, ...rest] = statements;
  await db.batch([first!, ...rest]);
}

// ---- API keys

/** Active keys of the organization, or of one project. */
export async function listApiKeys(db: Database, orgId: string, envId?: string): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.org_id, orgId), envId ? eq(apiKeys.env_id, envId) : undefined, isNull(apiKeys.revoked_at)))
    .orderBy(desc(apiKeys.id));
}

export async function insertApiKey(db: Database, row: ApiKeyRow): Promise<void> {
  await db.insert(apiKeys).values(row);
}

export async function revokeApiKey(db: Database, orgId: string, id: string, now: number): Promise<ApiKeyRow | null> {
  return (
    (await db
      .update(apiKeys)
      .set({ revoked_at: now })
      .where(and(eq(apiKeys.org_id, orgId), eq(apiKeys.id, id), isNull(apiKeys.revoked_at)))
      .returning()
      .get()) ?? null
  );
}

export type { Tenant };
