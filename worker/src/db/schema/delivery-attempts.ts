import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    env_id: text("env_id").notNull(),
    event_id: text("event_id").notNull(),
    delivery_id: text("delivery_id").notNull(),
    destination_id: text("destination_id").notNull(),
    connection_id: text("connection_id").notNull(),
    attempt_number: integer("attempt_number").notNull(),
    status: text("status", { enum: ["success", "failed"] }).notNull(),
    status_code: integer("status_code"),
    latency_ms: integer("latency_ms").notNull(),
    response_body: text("response_body"),
    error: text("error"),
    /** JSON: schema errors of a payload delivered anyway (schema_mode "warn"). */
    validation_errors: text("validation_errors"),
    created_at: integer("created_at").notNull(),
  },
  (t) => [
    index("attempts_event_idx").on(t.event_id, t.id),
    index("attempts_env_idx").on(t.org_id, t.env_id, t.id),
    index("attempts_destination_idx").on(t.destination_id, t.id),
  ],
);
