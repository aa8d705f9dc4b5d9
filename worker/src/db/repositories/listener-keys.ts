import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Database, Tenant } from "../client.js";
import { apiKeys } from "../schema/index.js";

/** Which of these keys of the tenant are still active: a WebSocket listener's key may be revoked while it is connected. */
export async function activeKeyIds(db: Database, t: Tenant, keyIds: string[]): Promise<Set<string>> {
  if (keyIds.length === 0) return new Set();
  const rows = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.org_id, t.org_id), eq(apiKeys.env_id, t.env_id), inArray(apiKeys.id, keyIds), isNull(apiKeys.revoked_at)));
  return new Set(rows.map((r) => r.id));
}
