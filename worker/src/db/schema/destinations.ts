import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

export const destinations = sqliteTable(
  "destinations",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    env_id: text("env_id").notNull(),
    name: text("name").notNull(),
    type: text("type").notNull(),
    /** JSON of the non-secret config fields. */
    config: text("config").notNull().default("{}"),
    /** AES-GCM ciphertext of the provider's secret fields (JSON object), or null. */
    secrets: text("secrets"),
    retry_policy: text("retry_policy").notNull(),
    circuit_breaker: text("circuit_breaker").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** Most attempt starts per second; null = unlimited. */
    rate_limit_per_second: integer("rate_limit_per_second"),
    /** Most attempts in flight at once. */
    max_in_flight: integer("max_in_flight").notNull().default(10),
    /** One attempt at a time, in queue order; a failing head blocks the rest. */
    ordered: integer("ordered", { mode: "boolean" }).notNull().default(false),
    managed_by: text("managed_by", { enum: ["api", "config"] }).notNull().default("api"),
    /** Where a `config`-managed row is declared (`infra/index.ts:42`); null for API rows. */
    declared_in: text("declared_in"),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
  },
  (t) => [index("destinations_env_idx").on(t.org_id, t.env_id, t.id)],
);
