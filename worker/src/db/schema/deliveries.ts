import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

/** One event × one connection: the unit the scheduler delivers, retries and dead-letters. */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    env_id: text("env_id").notNull(),
    event_id: text("event_id").notNull(),
    connection_id: text("connection_id").notNull(),
    destination_id: text("destination_id").notNull(),
    status: text("status", { enum: ["pending", "retrying", "delivered", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    next_attempt_at: integer("next_attempt_at"),
    last_error: text("last_error"),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
  },
  (t) => [
    index("deliveries_event_idx").on(t.event_id),
    index("deliveries_sweep_idx").on(t.status, t.id),
    index("deliveries_destination_idx").on(t.destination_id, t.id),
  ],
);
