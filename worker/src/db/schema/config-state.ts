import { sqliteTable, text, integer } from "drizzle-orm/sqlite-core";

/**
 * One row (`id = 1`): which GatewayConfig (declared routing, by hash) is applied to D1, and
 * what happened to the last one the Worker tried. Read by /healthz and the config sync.
 */
export const configState = sqliteTable("config_state", {
  id: integer("id").primaryKey(),
  /** Hash of the config whose rows are live; null before the first good one. */
  applied_hash: text("applied_hash"),
  applied_at: integer("applied_at"),
  /** The org and project the applied config declares. */
  org_id: text("org_id"),
  env_id: text("env_id"),
  /** JSON array of the applied config's owner emails (lower case): their sign-up joins org_id. */
  owners: text("owners"),
  /** The last config seen in the bindings (it may be the applied one). */
  last_hash: text("last_hash"),
  last_status: text("last_status", { enum: ["applied", "rejected", "failed"] }),
  /** JSON array of formatted issue lines when rejected (never secret values). */
  last_issues: text("last_issues"),
  last_attempt_at: integer("last_attempt_at"),
});
