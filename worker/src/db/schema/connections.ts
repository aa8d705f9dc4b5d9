import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

export const connections = sqliteTable(
  "connections",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    env_id: text("env_id").notNull(),
    name: text("name"),
    source_id: text("source_id").notNull(),
    destination_id: text("destination_id").notNull(),
    /** JSON array of filter rules (routing/), `[]` when none. */
    filters: text("filters").notNull().default("[]"),
    transform: text("transform"),
    schema: text("schema"),
    schema_mode: text("schema_mode", { enum: ["reject", "warn"] }).notNull().default("reject"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    managed_by: text("managed_by", { enum: ["api", "config"] }).notNull().default("api"),
    /** Where a `config`-managed row is declared (`infra/index.ts:42`); null for API rows. */
    declared_in: text("declared_in"),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
  },
  (t) => [
    index("connections_env_idx").on(t.org_id, t.env_id, t.id),
    index("connections_source_idx").on(t.source_id),
    index("connections_destination_idx").on(t.destination_id),
  ],
);
