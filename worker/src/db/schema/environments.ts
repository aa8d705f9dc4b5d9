import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

/** A project. The API and DB call it environment (`env_`). */
export const environments = sqliteTable(
  "environments",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    name: text("name").notNull(),
    created_at: integer("created_at").notNull(),
  },
  (t) => [index("environments_org_idx").on(t.org_id, t.id)],
);
