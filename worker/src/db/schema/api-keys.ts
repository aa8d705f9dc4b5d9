import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Only the SHA-256 of the key is stored; `prefix` and `last4` exist to show it masked. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    env_id: text("env_id").notNull(),
    name: text("name").notNull(),
    key_hash: text("key_hash").notNull(),
    prefix: text("prefix").notNull(),
    last4: text("last4").notNull(),
    created_at: integer("created_at").notNull(),
    last_used_at: integer("last_used_at"),
    revoked_at: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash_idx").on(t.key_hash), index("api_keys_env_idx").on(t.org_id, t.env_id, t.id)],
);
