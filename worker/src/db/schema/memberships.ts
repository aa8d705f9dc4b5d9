import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";

/** A user's role in an organization: owner, admin, member or viewer. */
export const memberships = sqliteTable(
  "memberships",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    user_id: text("user_id").notNull(),
    role: text("role", { enum: ["owner", "admin", "member", "viewer"] }).notNull(),
    created_at: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("memberships_org_user_idx").on(t.org_id, t.user_id), index("memberships_user_idx").on(t.user_id)],
);

/** An invitation by email; only the SHA-256 of its token is stored. */
export const invitations = sqliteTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    org_id: text("org_id").notNull(),
    email: text("email").notNull(),
    role: text("role", { enum: ["owner", "admin", "member", "viewer"] }).notNull(),
    token_hash: text("token_hash").notNull(),
    invited_by: text("invited_by").notNull(),
    created_at: integer("created_at").notNull(),
    expires_at: integer("expires_at").notNull(),
    accepted_at: integer("accepted_at"),
    revoked_at: integer("revoked_at"),
  },
  (t) => [uniqueIndex("invitations_token_idx").on(t.token_hash), index("invitations_org_idx").on(t.org_id, t.id)],
);
