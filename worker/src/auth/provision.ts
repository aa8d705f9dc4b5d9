import type { Database } from "../db/client.js";
import { insertOrganization } from "../db/repositories/tenancy.js";
import { hasMembership } from "../db/repositories/members.js";
import { newId } from "../model/ids.js";
import { declaredOrgForOwner, joinAsOwner } from "../db/repositories/config-state.js";

export const DEFAULT_PROJECT_NAME = "production";

export function organizationNameFor(user: { name: string; email: string }): string {
  const who = user.name.trim() || user.email.split("@")[0] || "My";
  return `${who.slice(0, 100)}'s organization`;
}

/**
 * Gives a user their own organization (owner) with a `production` project, in one D1 batch; an
 * owner the declared config names (config/) joins the declared organization instead.
 * Runs after sign-up, and again whenever a signed-in user belongs to no organization (so a
 * failure between creating the user and this batch heals on the next request).
 */
export async function provisionOrganization(db: Database, user: { id: string; name: string; email: string }, now = Date.now()) {
  // An owner named in the declared config (infra/) joins the declared organization instead.
  const declared = await declaredOrgForOwner(db, user.email);
  if (declared) {
    await db.batch([joinAsOwner(db, declared.org_id, user.id, newId("member", now), now)]);
    return declared;
  }
  const org = { id: newId("organization", now), name: organizationNameFor(user), created_at: now };
  const env = { id: newId("environment", now), org_id: org.id, name: DEFAULT_PROJECT_NAME, created_at: now };
  await insertOrganization(db, org, { id: newId("member", now), org_id: org.id, user_id: user.id, role: "owner", created_at: now }, env);
  return { org_id: org.id, env_id: env.id };
}

export async function ensureOrganization(db: Database, user: { id: string; name: string; email: string }): Promise<void> {
  if (!(await hasMembership(db, user.id))) await provisionOrganization(db, user);
}
