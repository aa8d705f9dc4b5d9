import { sqliteTable, text, integer, index, primaryKey } from "drizzle-orm/sqlite-core";

/**
 * A source's dedup window: one row per key, claimed in the same D1 batch that stores the event,
 * so a key is taken by exactly one event (two concurrent sends included) until `expires_at`.
 */
export const dedupKeys = sqliteTable(
  "dedup_keys",
  {
    source_id: text("source_id").notNull(),
    /** `dedup:<source>:<basis>:<sha256>` (dedup-key.ts): bounded whatever the provider's id looks like. */
    key: text("key").notNull(),
    event_id: text("event_id").notNull(),
    expires_at: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source_id, t.key] }), index("dedup_keys_expiry_idx").on(t.expires_at)],
);
