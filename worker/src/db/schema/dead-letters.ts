import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    env_id: text("env_id").notNull(),
    destination_id: text("destination_id").notNull(),
    delivery_id: text("delivery_id").notNull(),
    event_id: text("event_id").notNull(),
    connection_id: text("connection_id").notNull(),
    reason: text("reason").notNull(),
    attempts: integer("attempts").notNull(),
    last_status_code: integer("last_status_code"),
    created_at: integer("created_at").notNull(),
    redriven_at: integer("redriven_at"),
  },
  (t) => [index("dead_letters_destination_idx").on(t.destination_id, t.redriven_at, t.id)],
);
