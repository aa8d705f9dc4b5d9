import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { looksLikeApiKey } from "../auth/api-keys.js";
import { authFor, trustedOrigin } from "../auth/better-auth.js";
import { permissionFor, type Permission } from "../auth/permissions.js";
import { ensureOrganization } from "../auth/provision.js";
import { createFailureLimiter } from "../auth/rate-limit.js";
import { API_KEY_ROLE, atLeast, type Role } from "../auth/roles.js";
import { sha256Hex, timingSafeEqual } from "../lib/crypto.js";
import { AppError, notFound } from "../lib/errors.js";
import { database, type Database } from "../db/client.js";
import { findActiveKeyByHash, touchKey, type KeyPrincipal } from "../db/repositories/api-keys.js";
import { membershipOf, organizationsOf } from "../db/repositories/members.js";
import { getEnvironmentById } from "../db/repositories/tenancy.js";
import { isId } from "../model/ids.js";
import type { Actor, AppEnv } from "./context.js";
import { apiKeyFromWebSocketProtocol } from "./websocket-auth.js";

/** A revoked key stops working in this isolate at once and in every other within this. */
export const KEY_CACHE_TTL_MS = 5_000;
const LAST_USED_RESOLUTION_MS = 60_000;

/** Headers a signed-in user picks the organization / project with. */
export const PROJECT_HEADER = "x-hookstream-project";
export const ORG_HEADER = "x-hookstream-org";

/** Bad API keys from one IP: 30 a minute, then 429 until the minute is over (see rate-limit.ts for why per isolate). */
export const BAD_KEY_LIMIT = { max: 30, windowMs: 60_000 };
const badKeys = createFailureLimiter(BAD_KEY_LIMIT);

const cache = new Map<string, { principal: KeyPrincipal | null; expires: number }>();

export function forgetKeys(): void {
  cache.clear();
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Authentication (API key or Better Auth session cookie) and authorization (the permission
 * table, keyed by method + route pattern) for every /v1 route, in one place.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const db = database(c.env.DB);
  c.set("db", db);
  // Who is it? (401 before anything else, so unknown routes tell a stranger nothing either.)
  // A WebSocket listener from a browser sends its key as a subprotocol entry (listen route only).
  const wsKey = apiKeyFromWebSocketProtocol(c.req.raw);
  const header = c.req.header("authorization") ?? (wsKey === undefined ? undefined : `Bearer ${wsKey}`);
  let identity: { key: KeyPrincipal } | { session: SessionUser };
  if (header !== undefined) identity = { key: await apiKeyOf(c, db, header) };
  else if (c.req.header("cookie")) identity = { session: await sessionOf(c) };
  else throw new AppError("unauthorized", "missing credentials: send Authorization: Bearer hs_… or sign in (session cookie)");
  // What may they do here? Deny by default: a route without a permission entry is not served.
  const path = new URL(c.req.url).pathname.replace(/^\/v1/, "") || "/";
  const match = permissionFor(c.req.method, path);
  if (!match) throw new AppError("not_found", "no such route");
  if ("key" in identity) authorizeKey(c, db, identity.key, match.permission);
  else await authorizeSession(c, db, identity.session, match.permission);
  await next();
});

interface SessionUser {
  id: string;
  name: string;
  email: string;
}

async function apiKeyOf(c: Context<AppEnv>, db: Database, header: string): Promise<KeyPrincipal> {
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  const ip = c.req.header("cf-connecting-ip");
  const now = Date.now();
  if (ip && badKeys.blocked(ip, now)) throw new AppError("rate_limited", "too many invalid API keys from this address; try again in a minute");
  const fail = (message: string): never => {
    if (ip) badKeys.fail(ip, now);
    throw new AppError("unauthorized", message);
  };
  if (!token || !looksLikeApiKey(token)) return fail("missing or malformed API key (Authorization: Bearer hs_…)");
  const hash = await sha256Hex(token);
  let hit = cache.get(hash);
  if (!hit || hit.expires <= now) {
    hit = { principal: await findActiveKeyByHash(db, hash), expires: now + KEY_CACHE_TTL_MS };
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, hit);
  }
  const p = hit.principal;
  // The lookup is by hash; the comparison below keeps the final check constant-time anyway.
  if (!p || !timingSafeEqual(p.key_hash, hash)) return fail("invalid or revoked API key");
  return p;
}

function authorizeKey(c: Context<AppEnv>, db: Database, p: KeyPrincipal, permission: Permission): void {
  if (!permission.keys) throw new AppError("forbidden", "this route needs a signed-in user; API keys cannot manage people, projects or keys");
  authorize(API_KEY_ROLE, permission);
  const chosen = c.req.header(PROJECT_HEADER);
  if (chosen !== undefined && chosen !== p.env_id) throw notFound("project");
  const now = Date.now();
  if (p.last_used_at === null || now - p.last_used_at > LAST_USED_RESOLUTION_MS) {
    p.last_used_at = now;
    c.executionCtx.waitUntil(touchKey(db, p.key_id, now).catch(() => undefined));
  }
  const actor: Actor = { kind: "key", org_id: p.org_id, env_id: p.env_id, role: API_KEY_ROLE, key_id: p.key_id, user_id: null, email: null };
  c.set("actor", actor);
  c.set("principal", { org_id: p.org_id, env_id: p.env_id, key_id: p.key_id, user_id: null, role: API_KEY_ROLE });
}

async function sessionOf(c: Context<AppEnv>): Promise<SessionUser> {
  const session = await authFor(c.env, c.req.url).api.getSession({ headers: c.req.raw.headers });
  if (!session) throw new AppError("unauthorized", "not signed in (or the session expired)");
  return { id: session.user.id, name: session.user.name, email: session.user.email };
}

async function authorizeSession(c: Context<AppEnv>, db: Database, user: SessionUser, permission: Permission): Promise<void> {
  // A cookie rides along on cross-site requests; a write must come from our own origin.
  if (!SAFE_METHODS.has(c.req.method) && c.req.header("origin") !== trustedOrigin(c.env, c.req.url)) {
    throw new AppError("forbidden", "cross-origin request refused: send the Origin header of the dashboard");
  }
  const base = { kind: "session" as const, key_id: null, user_id: user.id, email: user.email };
  if (permission.scope === "user") {
    c.set("actor", { ...base, org_id: null, env_id: null, role: "viewer" });
    return;
  }
  const { orgId, envId, role } = await chooseTenant(c, db, user);
  if (permission.scope === "project" && envId === null) {
    throw new AppError("validation_failed", `choose a project: send the ${PROJECT_HEADER} header with its env_… id`);
  }
  authorize(role, permission);
  c.set("actor", { ...base, org_id: orgId, env_id: envId, role });
  if (envId !== null) c.set("principal", { org_id: orgId, env_id: envId, key_id: null, user_id: user.id, role });
}

/** The session's organization and project: from the project header, the org header, or the user's first organization. */
async function chooseTenant(c: Context<AppEnv>, db: Database, user: SessionUser): Promise<{ orgId: string; envId: string | null; role: Role }> {
  const project = c.req.header(PROJECT_HEADER);
  if (project !== undefined) {
    const env = isId("environment", project) ? await getEnvironmentById(db, project) : null;
    const m = env ? await membershipOf(db, env.org_id, user.id) : null;
    if (!env || !m) throw notFound("project");
    const org = c.req.header(ORG_HEADER);
    if (org !== undefined && org !== env.org_id) throw notFound("project");
    return { orgId: env.org_id, envId: env.id, role: m.role };
  }
  const org = c.req.header(ORG_HEADER);
  if (org !== undefined) {
    const m = isId("organization", org) ? await membershipOf(db, org, user.id) : null;
    if (!m) throw notFound("organization");
    return { orgId: org, envId: null, role: m.role };
  }
  let orgs = await organizationsOf(db, user.id);
  if (orgs.length === 0) {
    await ensureOrganization(db, user);
    orgs = await organizationsOf(db, user.id);
  }
  const first = orgs[0];
  if (!first) throw new AppError("unavailable", "could not set up an organization for this user; try again");
  return { orgId: first.org_id, envId: null, role: first.role };
}

function authorize(role: Role, permission: Permission): void {
  if (!atLeast(role, permission.role)) throw new AppError("forbidden", `the ${role} role cannot do this (needs ${permission.role})`);
}
