import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

export const sources = sqliteTable(
  "sources",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    env_id: text("env_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    /** JSON: verification, ip rules, dedup, limits (non-secret parts). */
    config: text("config").notNull().default("{}"),
    /** AES-GCM ciphertext of the secret parts of `config`, or null. */
    secrets: text("secrets"),
    managed_by: text("managed_by", { enum: ["api", "config"] }).notNull().default("api"),
    /** Where a `config`-managed row is declared (`infra/index.ts:42`); null for API rows. */
    declared_in: text("declared_in"),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
  },
  (t) => [index("sources_env_idx").on(t.org_id, t.env_id, t.id)],
);
