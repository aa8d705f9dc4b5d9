import { and, desc, eq, isNull } from "drizzle-orm";
import type { Database, Tenant } from "../client.js";
import { apiKeys, environments } from "../schema/index.js";

export type EnvironmentRow = typeof environments.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

export async function listEnvironments(db: Database, orgId: string): Promise<EnvironmentRow[]> {
  return db.select().from(environments).where(eq(environments.org_id, orgId)).orderBy(environments.id);
}

export async function insertEnvironment(db: Database, row: EnvironmentRow): Promise<void> {
  await db.insert(environments).values(row);
}

export async function listApiKeys(db: Database, t: Tenant): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.org_id, t.org_id), eq(apiKeys.env_id, t.env_id), isNull(apiKeys.revoked_at)))
    .orderBy(desc(apiKeys.id));
}

export async function insertApiKey(db: Database, row: ApiKeyRow): Promise<void> {
  await db.insert(apiKeys).values(row);
}

export async function revokeApiKey(db: Database, t: Tenant, id: string, now: number): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revoked_at: now })
    .where(and(eq(apiKeys.org_id, t.org_id), eq(apiKeys.env_id, t.env_id), eq(apiKeys.id, id), isNull(apiKeys.revoked_at)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}
