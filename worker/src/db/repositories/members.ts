import { and, asc, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Database } from "../client.js";
import { invitations, memberships, organizations, users } from "../schema/index.js";
import type { Role } from "../../auth/roles.js";

export type MembershipRow = typeof memberships.$inferSelect;
export type InvitationRow = typeof invitations.$inferSelect;

export interface MemberView {
  id: string;
  user_id: string;
  email: string;
  name: string;
  role: Role;
  created_at: number;
}

export async function membershipOf(db: Database, orgId: string, userId: string): Promise<MembershipRow | null> {
  return (await db.select().from(memberships).where(and(eq(memberships.org_id, orgId), eq(memberships.user_id, userId))).get()) ?? null;
}

/** The user's organizations, oldest membership first (the first is their default). */
export async function organizationsOf(db: Database, userId: string) {
  return db
    .select({ org_id: memberships.org_id, role: memberships.role, name: organizations.name, joined_at: memberships.created_at })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.org_id))
    .where(eq(memberships.user_id, userId))
    .orderBy(asc(memberships.created_at), asc(memberships.id));
}

export async function listMembers(db: Database, orgId: string): Promise<MemberView[]> {
  return db
    .select({ id: memberships.id, user_id: memberships.user_id, email: users.email, name: users.name, role: memberships.role, created_at: memberships.created_at })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.user_id))
    .where(eq(memberships.org_id, orgId))
    .orderBy(asc(memberships.id));
}

export async function getMember(db: Database, orgId: string, id: string): Promise<MembershipRow | null> {
  return (await db.select().from(memberships).where(and(eq(memberships.org_id, orgId), eq(memberships.id, id))).get()) ?? null;
}

export async function countOwners(db: Database, orgId: string): Promise<number> {
  const row = await db.select({ n: sql<number>`count(*)` }).from(memberships).where(and(eq(memberships.org_id, orgId), eq(memberships.role, "owner"))).get();
  return row?.n ?? 0;
}

/**
 * Changes a role unless that would leave the organization without an owner; the check and the
 * write are one statement, so two concurrent demotions cannot both pass.
 */
export async function setRole(db: Database, orgId: string, id: string, role: Role): Promise<MembershipRow | null> {
  return (
    (await db
      .update(memberships)
      .set({ role })
      .where(
        and(
          eq(memberships.org_id, orgId),
          eq(memberships.id, id),
          sql`(${role} = 'owner' OR ${memberships.role} <> 'owner' OR (SELECT count(*) FROM memberships m WHERE m.org_id = ${orgId} AND m.role = 'owner') > 1)`,
        ),
      )
      .returning()
      .get()) ?? null
  );
}

/** Removes a member unless they are the last owner (same single-statement guard). */
export async function removeMember(db: Database, orgId: string, id: string): Promise<MembershipRow | null> {
  return (
    (await db
      .delete(memberships)
      .where(
        and(
          eq(memberships.org_id, orgId),
          eq(memberships.id, id),
          sql`(${memberships.role} <> 'owner' OR (SELECT count(*) FROM memberships m WHERE m.org_id = ${orgId} AND m.role = 'owner') > 1)`,
        ),
      )
      .returning()
      .get()) ?? null
  );
}

// ---- invitations

export async function insertInvitation(db: Database, row: InvitationRow): Promise<void> {
  await db.insert(invitations).values(row);
}

export async function listInvitations(db: Database, orgId: string, now: number): Promise<InvitationRow[]> {
  return db
    .select()
    .from(invitations)
    .where(and(eq(invitations.org_id, orgId), isNull(invitations.accepted_at), isNull(invitations.revoked_at), gt(invitations.expires_at, now)))
    .orderBy(desc(invitations.id));
}

export async function revokeInvitation(db: Database, orgId: string, id: string, now: number): Promise<boolean> {
  const rows = await db
    .update(invitations)
    .set({ revoked_at: now })
    .where(and(eq(invitations.org_id, orgId), eq(invitations.id, id), isNull(invitations.accepted_at), isNull(invitations.revoked_at)))
    .returning({ id: invitations.id });
  return rows.length > 0;
}

export async function findOpenInvitation(db: Database, tokenHash: string, now: number): Promise<InvitationRow | null> {
  return (
    (await db
      .select()
      .from(invitations)
      .where(and(eq(invitations.token_hash, tokenHash), isNull(invitations.accepted_at), isNull(invitations.revoked_at), gt(invitations.expires_at, now)))
      .get()) ?? null
  );
}

/**
 * Accepts in one batch: the invitation is marked (only if still open) and the membership is
 * inserted only if that mark happened, so a token works once and a member is never added twice.
 */
export async function acceptInvitation(db: Database, inv: InvitationRow, membership: MembershipRow, now: number): Promise<boolean> {
  const [marked] = await db.batch([
    db
      .update(invitations)
      .set({ accepted_at: now })
      .where(and(eq(invitations.id, inv.id), isNull(invitations.accepted_at), isNull(invitations.revoked_at)))
      .returning({ id: invitations.id }),
    db
      .insert(memberships)
      .select(
        sql`SELECT ${membership.id}, ${membership.org_id}, ${membership.user_id}, ${membership.role}, ${membership.created_at}
          WHERE EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND accepted_at = ${now})`,
      )
      .onConflictDoNothing(),
  ]);
  return marked.length > 0;
}

export async function hasMembership(db: Database, userId: string): Promise<boolean> {
  return (await db.select({ id: memberships.id }).from(memberships).where(eq(memberships.user_id, userId)).limit(1).get()) !== undefined;
}



export async function findUserByEmail(db: Database, email: string): Promise<{ id: string } | null> {
  return (await db.select({ id: users.id }).from(users).where(eq(users.email, email)).get()) ?? null;
}

export async function getUser(db: Database, id: string): Promise<{ id: string; email: string; name: string } | null> {
  return (await db.select({ id: users.id, email: users.email, name: users.name }).from(users).where(eq(users.id, id)).get()) ?? null;
}
