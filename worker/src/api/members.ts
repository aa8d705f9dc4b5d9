import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteOrganizationEverywhere } from "../auth/purge.js";
import { ensureOrganization } from "../auth/provision.js";
import { atLeast, type Role } from "../auth/roles.js";
import { randomHex, sha256Hex } from "../lib/crypto.js";
import { AppError, notFound } from "../lib/errors.js";
import { newId } from "../model/ids.js";
import { notificationSender } from "../notify/index.js";
import {
  acceptInvitation, findOpenInvitation, findUserByEmail, getUser, getMember, insertInvitation, listInvitations, listMembers, membershipOf, organizationsOf, removeMember, revokeInvitation, setRole,
  type InvitationRow,
} from "../db/repositories/members.js";
import { getOrganization, listEnvironments, renameOrganization } from "../db/repositories/tenancy.js";
import { publicBaseUrl } from "./shared.js";
import { body, iso, json, router, type Actor, type AppEnv } from "./context.js";
import { errorResponses } from "./errors.js";
import { ErrorSchema, listOf } from "./schemas.js";
import {
  InvitationAcceptedSchema, InvitationAcceptSchema, InvitationCreateSchema, InvitationSchema, MemberSchema, MemberUpdateSchema, MeSchema, OrganizationSchema,
  OrganizationUpdateSchema, idOf,
} from "./account-schemas.js";

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

function who(actor: Actor): { orgId: string; userId: string; role: Role } {
  if (!actor.org_id || !actor.user_id) throw new AppError("internal", "org route without a signed-in user");
  return { orgId: actor.org_id, userId: actor.user_id, role: actor.role };
}

/** Only an owner may hand out, change or take away the owner role. */
function guardOwnerRole(actorRole: Role, ...roles: Role[]): void {
  if (roles.includes("owner") && !atLeast(actorRole, "owner")) throw new AppError("forbidden", "only an owner can grant, change or remove the owner role");
}

const tags = ["Organization"];

export const orgApi = router()
  .openapi(
    createRoute({ method: "get", path: "/", tags, responses: { 200: json(OrganizationSchema, "the current organization"), ...errorResponses } }),
    async (c) => {
      const { orgId, role } = who(c.var.actor);
      const org = await getOrganization(c.var.db, orgId);
      if (!org) throw notFound("organization");
      return c.json({ id: org.id, name: org.name, role, created_at: iso(org.created_at) }, 200);
    },
  )
  .openapi(
    createRoute({ method: "patch", path: "/", tags, request: { body: body(OrganizationUpdateSchema) }, responses: { 200: json(OrganizationSchema, "renamed"), ...errorResponses } }),
    async (c) => {
      const { orgId, role } = who(c.var.actor);
      const org = await renameOrganization(c.var.db, orgId, c.req.valid("json").name);
      if (!org) throw notFound("organization");
      return c.json({ id: org.id, name: org.name, role, created_at: iso(org.created_at) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete", path: "/", tags,
      description: "Owner only: deletes the organization, every project in it (with all their data), its members and invitations.",
      responses: { 204: { description: "deleted" }, ...errorResponses },
    }),
    async (c) => {
      const { orgId } = who(c.var.actor);
      const envIds = (await listEnvironments(c.var.db, orgId)).map((e) => e.id);
      await deleteOrganizationEverywhere(c.env, c.var.db, orgId, envIds);
      return c.body(null, 204);
    },
  );

const memberView = (m: { id: string; user_id: string; email: string; name: string; role: Role; created_at: number }) => ({ ...m, created_at: iso(m.created_at) });

export const membersApi = router()
  .openapi(
    createRoute({ method: "get", path: "/", tags, responses: { 200: json(listOf(MemberSchema, "MemberList"), "members of the organization"), ...errorResponses } }),
    async (c) => {
      const rows = await listMembers(c.var.db, who(c.var.actor).orgId);
      return c.json({ data: rows.map(memberView), next_cursor: null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch", path: "/{id}", tags, request: { params: idOf("mem"), body: body(MemberUpdateSchema) },
      responses: { 200: json(MemberSchema, "role changed"), 409: json(ErrorSchema, "would leave the organization without an owner"), ...errorResponses },
    }),
    async (c) => {
      const { orgId, role } = who(c.var.actor);
      const id = c.req.valid("param").id;
      const next = c.req.valid("json").role;
      const current = await getMember(c.var.db, orgId, id);
      if (!current) throw notFound("member");
      guardOwnerRole(role, current.role, next);
      const updated = await setRole(c.var.db, orgId, id, next);
      if (!updated) throw new AppError("conflict", "an organization needs at least one owner; make someone else owner first");
      const view = (await listMembers(c.var.db, orgId)).find((m) => m.id === id);
      if (!view) throw notFound("member");
      return c.json(memberView(view), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete", path: "/{id}", tags, request: { params: idOf("mem") },
      responses: { 204: { description: "removed" }, 409: json(ErrorSchema, "the last owner"), ...errorResponses },
    }),
    async (c) => {
      const { orgId, role } = who(c.var.actor);
      const id = c.req.valid("param").id;
      const current = await getMember(c.var.db, orgId, id);
      if (!current) throw notFound("member");
      guardOwnerRole(role, current.role);
      if (!(await removeMember(c.var.db, orgId, id))) throw new AppError("conflict", "an organization needs at least one owner; make someone else owner first");
      return c.body(null, 204);
    },
  );

const invitationView = (r: InvitationRow) => ({ id: r.id, email: r.email, role: r.role, invited_by: r.invited_by, created_at: iso(r.created_at), expires_at: iso(r.expires_at) });

async function sendInvitation(c: Context<AppEnv>, inv: InvitationRow, token: string, orgName: string, inviter: string): Promise<boolean> {
  const base = publicBaseUrl(c);
  const result = await notificationSender(c.env).send({
    to: inv.email,
    subject: `You are invited to ${orgName} on hookstream`,
    text: [
      `${inviter} invited you to join ${orgName} on hookstream as ${inv.role}.`,
      "",
      `Sign up or sign in with this email address (${base}/api/auth), then accept:`,
      `  POST ${base}/v1/invitations/accept  {"token":"${token}"}`,
      "",
      `Invitation token: ${token}`,
      `It expires on ${iso(inv.expires_at)}.`,
    ].join("\n"),
  });
  if (!result.ok) console.error("invitation email failed", { invitation: inv.id, error: result.error });
  return result.ok;
}

export const invitationsApi = router()
  .openapi(
    createRoute({ method: "get", path: "/", tags, responses: { 200: json(listOf(InvitationSchema, "InvitationList"), "open invitations"), ...errorResponses } }),
    async (c) => {
      const rows = await listInvitations(c.var.db, who(c.var.actor).orgId, Date.now());
      return c.json({ data: rows.map(invitationView), next_cursor: null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post", path: "/", tags, request: { body: body(InvitationCreateSchema) },
      description: "Emails an invitation (Resend; logged in local development). The token is only in the email.",
      responses: { 201: json(InvitationSchema, "invited"), 409: json(ErrorSchema, "already a member"), ...errorResponses },
    }),
    async (c) => {
      const { orgId, userId, role } = who(c.var.actor);
      const input = c.req.valid("json");
      guardOwnerRole(role, input.role);
      const email = input.email.toLowerCase();
      const existing = await findUserByEmail(c.var.db, email);
      if (existing && (await membershipOf(c.var.db, orgId, existing.id))) throw new AppError("conflict", "already a member of this organization");
      const org = await getOrganization(c.var.db, orgId);
      if (!org) throw notFound("organization");
      const now = Date.now();
      const token = randomHex(32);
      const inv: InvitationRow = {
        id: newId("invitation", now), org_id: orgId, email, role: input.role, token_hash: await sha256Hex(token), invited_by: userId,
        created_at: now, expires_at: now + INVITATION_TTL_MS, accepted_at: null, revoked_at: null,
      };
      await insertInvitation(c.var.db, inv);
      await sendInvitation(c, inv, token, org.name, c.var.actor.email ?? "A teammate");
      return c.json(invitationView(inv), 201);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/{id}", tags, request: { params: idOf("inv") }, responses: { 204: { description: "revoked" }, ...errorResponses } }),
    async (c) => {
      if (!(await revokeInvitation(c.var.db, who(c.var.actor).orgId, c.req.valid("param").id, Date.now()))) throw notFound("invitation");
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post", path: "/accept", tags, request: { body: body(InvitationAcceptSchema) },
      description: "The signed-in user accepts an invitation sent to their email address. Any unknown, used, expired or someone else's token is the same 404.",
      responses: { 200: json(InvitationAcceptedSchema, "now a member"), ...errorResponses },
    }),
    async (c) => {
      const actor = c.var.actor;
      const now = Date.now();
      const inv = await findOpenInvitation(c.var.db, await sha256Hex(c.req.valid("json").token), now);
      if (!inv || !actor.user_id || inv.email !== (actor.email ?? "").toLowerCase()) throw notFound("invitation");
      if (await membershipOf(c.var.db, inv.org_id, actor.user_id)) throw new AppError("conflict", "already a member of this organization");
      const ok = await acceptInvitation(c.var.db, inv, { id: newId("member", now), org_id: inv.org_id, user_id: actor.user_id, role: inv.role, created_at: now }, now);
      if (!ok) throw notFound("invitation");
      return c.json({ org_id: inv.org_id, role: inv.role }, 200);
    },
  );

export const meApi = router().openapi(
  createRoute({ method: "get", path: "/", tags, description: "The signed-in user and their organizations (oldest first).", responses: { 200: json(MeSchema, "you"), ...errorResponses } }),
  async (c) => {
    const actor = c.var.actor;
    const user = await getUser(c.var.db, actor.user_id!);
    if (!user) throw new AppError("unauthorized", "not signed in");
    await ensureOrganization(c.var.db, user);
    const orgs = await organizationsOf(c.var.db, user.id);
    return c.json({ user, organizations: orgs.map((o) => ({ id: o.org_id, name: o.name, role: o.role })) }, 200);
  },
);
