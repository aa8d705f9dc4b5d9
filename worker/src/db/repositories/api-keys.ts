import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "../client.js";
import { apiKeys } from "../schema/index.js";

export interface KeyPrincipal {
  key_id: string;
  org_id: string;
  env_id: string;
  key_hash: string;
  last_used_at: number | null;
}

export async function findActiveKeyByHash(db: Database, keyHash: string): Promise<KeyPrincipal | null> {
  const row = await db
    .select({
      key_id: apiKeys.id,
      org_id: apiKeys.org_id,
      env_id: apiKeys.env_id,
      key_hash: apiKeys.key_hash,
      last_used_at: apiKeys.last_used_at,
    })
    .from(apiKeys)
    .where(and(eq(apiKeys.key_hash, keyHash), isNull(apiKeys.revoked_at)))
    .get();
  return row ?? null;
}

export async function touchKey(db: Database, keyId: string, now: number): Promise<void> {
  await db.update(apiKeys).set({ last_used_at: now }).where(eq(apiKeys.id, keyId));
}
