import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    env_id: text("env_id").notNull(),
    source_id: text("source_id").notNull(),
    method: text("method").notNull(),
    /** JSON object, lower-cased names. */
    headers: text("headers").notNull(),
    /** JSON object of query parameters. */
    query: text("query").notNull(),
    /** Inline body when ≤ 10 KB, else null and the body is in R2 at `body_r2_key`. */
    body: text("body"),
    body_encoding: text("body_encoding", { enum: ["utf8", "base64"] }).notNull().default("utf8"),
    body_r2_key: text("body_r2_key"),
    body_size: integer("body_size").notNull(),
    content_type: text("content_type"),
    source_ip: text("source_ip"),
    user_agent: text("user_agent"),
    /** The provider's event type (Stripe's `type`, GitHub's `X-GitHub-Event`…) when the source's template reads one. */
    event_type: text("event_type"),
    /** JSON: connections that did not take this event, with the rule that failed and why. */
    routing: text("routing"),
    status: text("status", { enum: ["received", "processing", "delivered", "failed"] }).notNull(),
    received_at: integer("received_at").notNull(),
    updated_at: integer("updated_at").notNull(),
  },
  (t) => [
    index("events_env_idx").on(t.org_id, t.env_id, t.id),
    index("events_source_idx").on(t.env_id, t.source_id, t.id),
    index("events_status_idx").on(t.env_id, t.status, t.id),
  ],
);
