import { env } from "cloudflare:workers";
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { client, expectError, expectStatus, hex32, ORIGIN, request } from "../helpers/api.js";
import { createConnection, createDestination, createSource, receiverUrl, uniqueName, waitFor } from "../helpers/fixtures.js";
import { inviteByEmail } from "../helpers/mailbox.js";
import { seedMember } from "../helpers/members.js";
import { queuedRows } from "../helpers/scheduler.js";
import { sha256Hex } from "../helpers/seed.js";
import { authPost, signIn, signUp, sessionClient, uniqueEmail } from "../helpers/session.js";
import type { ApiKey, CreatedApiKey, Environment, Page } from "../helpers/types.js";
import { projectTableNames } from "../../src/db/repositories/tenancy.js";
import { BAD_KEY_LIMIT } from "../../src/api/auth.js";
import { AUTH_ATTEMPTS_PER_MINUTE } from "../../src/auth/better-auth.js";

interface Member {
  id: string;
  user_id: string;
  email: string;
  role: string;
}

async function authJson(res: Response): Promise<{ status: number; body: Record<string, unknown>; cookies: string[] }> {
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, cookies: res.headers.getAll("set-cookie") };
}

describe("sign-up and sign-in", () => {
  it("sign-up provisions an organization (owner) with a production project", async () => {
    const u = await signUp({ name: "Ada" });
    expect(u.org_id).toMatch(/^org_[0-9a-f]{32}$/);
    expect(u.env_id).toMatch(/^env_[0-9a-f]{32}$/);
    expect(u.user_id).toMatch(/^usr_[0-9a-f]{32}$/);
    const s = sessionClient(u.cookie);
    const org = await s.get<{ id: string; name: string; role: string }>("/v1/org");
    expectStatus(org, 200);
    expect(org.body).toMatchObject({ id: u.org_id, name: "Ada's organization", role: "owner" });
    expect((await s.get<Page<Environment>>("/v1/environments")).body.data.map((e) => e.name)).toEqual(["production"]);
    const me = await s.get<{ user: { email: string }; organizations: { id: string; role: string }[] }>("/v1/me");
    expect(me.body).toEqual({ user: { id: u.user_id, email: u.email, name: "Ada" }, organizations: [{ id: u.org_id, name: "Ada's organization", role: "owner" }] });
  });

  it("sign-up answers the same for a taken email (no session either way), so it never says whether an address exists", async () => {
    const u = await signUp();
    const fresh = await authJson(await authPost("/sign-up/email", { email: uniqueEmail(), password: `pw-${hex32()}`, name: "X" }));
    const taken = await authJson(await authPost("/sign-up/email", { email: u.email, password: `pw-${hex32()}`, name: "X" }));
    expect(taken.status).toBe(fresh.status);
    expect(Object.keys(taken.body).sort()).toEqual(Object.keys(fresh.body).sort());
    expect(taken.body.token).toBeNull();
    expect(fresh.body.token).toBeNull();
    expect(taken.cookies.some((c) => c.includes("session_token=") && !c.includes("session_token=;"))).toBe(false);
    // Nothing was created for the duplicate: still one user, one organization.
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email = ?1").bind(u.email).first<{ n: number }>();
    expect(n?.n).toBe(1);
  });

  it("a wrong password and an unknown email fail the same way, in the API's error shape", async () => {
    const u = await signUp();
    const wrong = await authJson(await authPost("/sign-in/email", { email: u.email, password: "not-the-password" }));
    const unknown = await authJson(await authPost("/sign-in/email", { email: uniqueEmail("nobody"), password: "not-the-password" }));
    expect(wrong.status).toBe(401);
    expect(unknown).toEqual(wrong);
    expect(wrong.body).toEqual({ error: { code: "unauthorized", message: expect.any(String), details: { reason: "INVALID_EMAIL_OR_PASSWORD" } } });
  });

  it("rejects bad sign-up input with a 400 and creates nothing", async () => {
    const email = uniqueEmail("bad");
    for (const body of [{ email, password: "short", name: "x" }, { email: "not-an-email", password: `pw-${hex32()}`, name: "x" }, { email, password: "x".repeat(200), name: "x" }]) {
      const res = await authJson(await authPost("/sign-up/email", body));
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toMatchObject({ error: { code: "validation_failed", message: expect.any(String) } });
    }
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email = ?1").bind(email).first<{ n: number }>())?.n).toBe(0);
  });

  it(`limits sign-in attempts per client IP (${AUTH_ATTEMPTS_PER_MINUTE} a minute), in the API's error shape`, async () => {
    const u = await signUp();
    const ip = `192.0.2.${Math.floor(Math.random() * 250) + 1}`;
    for (let i = 0; i < AUTH_ATTEMPTS_PER_MINUTE; i++) expect((await authPost("/sign-in/email", { email: u.email, password: `wrong-${i}-password` }, undefined, ip)).status).toBe(401);
    const limited = await authJson(await authPost("/sign-in/email", { email: u.email, password: u.password }, undefined, ip));
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: { code: "rate_limited" } });
    // Another address is not affected.
    expect((await authPost("/sign-in/email", { email: u.email, password: u.password })).status).toBe(200);
  });

  it("Better Auth refuses a POST from a foreign origin", async () => {
    const res = await SELF.fetch(`${ORIGIN}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example", cookie: "x=1" },
      body: JSON.stringify({ email: "a@b.co", password: "whatever-123" }),
    });
    expect(res.status).toBe(403);
  });

  it("signs out: the cookie stops working", async () => {
    const u = await signUp();
    expectStatus(await sessionClient(u.cookie).get("/v1/me"), 200);
    const out = await authPost("/sign-out", {}, u.cookie);
    expect(out.status).toBe(200);
    expectError(await sessionClient(u.cookie).get("/v1/me"), 401, "unauthorized");
  });

  it("changes the password: the old one stops working, the new one signs in", async () => {
    const u = await signUp();
    const next = `new-${hex32()}`;
    const res = await authPost("/change-password", { currentPassword: u.password, newPassword: next, revokeOtherSessions: true }, u.cookie);
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await authPost("/sign-in/email", { email: u.email, password: u.password })).status).toBe(401);
    expectStatus(await sessionClient(await signIn(u.email, next)).get("/v1/me"), 200);
  });

  it("a session write needs our Origin (a cookie alone is not enough: CSRF)", async () => {
    const u = await signUp();
    const res = await request("POST", "/v1/sources", { headers: { cookie: u.cookie, "x-hookstream-project": u.env_id }, json: { name: "csrf" } });
    expectError(res, 403, "forbidden");
    const ok = await sessionClient(u.cookie, { project: u.env_id }).post("/v1/sources", { name: "fine" });
    expectStatus(ok, 201);
  });
});

describe("choosing a project", () => {
  it("project routes need X-Hookstream-Project; an unknown or foreign project is 404", async () => {
    const u = await signUp();
    const other = await signUp();
    expectError(await sessionClient(u.cookie).get("/v1/sources"), 400, "validation_failed");
    expectError(await sessionClient(u.cookie, { project: other.env_id }).get("/v1/sources"), 404, "not_found");
    expectError(await sessionClient(u.cookie, { project: `env_${hex32()}` }).get("/v1/sources"), 404, "not_found");
    expectError(await sessionClient(u.cookie, { project: "nope" }).get("/v1/sources"), 404, "not_found");
    expectError(await sessionClient(u.cookie, { org: other.org_id }).get("/v1/org"), 404, "not_found");
    const s = sessionClient(u.cookie, { project: u.env_id });
    const src = await s.post<{ id: string }>("/v1/sources", { name: "mine" });
    expectStatus(src, 201);
    expectStatus(await s.get(`/v1/sources/${src.body.id}`), 200);
  });
});

describe("projects", () => {
  it("creates, renames and lists projects (also under /v1/projects)", async () => {
    const u = await signUp();
    const s = sessionClient(u.cookie);
    const created = await s.post<Environment>("/v1/environments", { name: "staging" });
    expectStatus(created, 201);
    expect(created.body).toMatchObject({ org_id: u.org_id, name: "staging" });
    expect(created.body.id).toMatch(/^env_[0-9a-f]{32}$/);
    const renamed = await s.patch<Environment>(`/v1/projects/${created.body.id}`, { name: "qa" });
    expectStatus(renamed, 200);
    expect(renamed.body.name).toBe("qa");
    const listed = await s.get<Page<Environment>>("/v1/environments");
    expect(listed.body.data.map((e) => e.name).sort()).toEqual(["production", "qa"]);
    expect((await s.get<Page<Environment>>("/v1/projects")).body).toEqual(listed.body);
    expectError(await s.patch(`/v1/projects/${created.body.id}`, { name: "x".repeat(129) }), 400, "validation_failed");
    expectError(await s.patch(`/v1/projects/${created.body.id}`, { name: "" }), 400, "validation_failed");
  });

  it("an API key sees only its own project", async () => {
    const u = await signUp();
    const s = sessionClient(u.cookie);
    const other = (await s.post<Environment>("/v1/environments", { name: "staging" })).body;
    const k = (await s.post<CreatedApiKey>("/v1/api-keys", { name: "ci", env_id: u.env_id })).body;
    const seen = await client(k.key).get<Page<Environment>>("/v1/environments");
    expect(seen.body.data.map((e) => e.id)).toEqual([u.env_id]);
    expect(seen.text).not.toContain(other.id);
  });

  it("keeps the last project: deleting it is a 409", async () => {
    const u = await signUp();
    expectError(await sessionClient(u.cookie).delete(`/v1/environments/${u.env_id}`), 409, "conflict");
  });

  it("deletes a project with everything under it: D1 rows, R2 bodies and the schedulers' queues", async () => {
    const u = await signUp();
    const s = sessionClient(u.cookie);
    const doomed = (await s.post<Environment>("/v1/environments", { name: "doomed" })).body;
    const api = sessionClient(u.cookie, { project: doomed.id });
    const k = (await s.post<CreatedApiKey>("/v1/api-keys", { name: "doomed", env_id: doomed.id })).body;
    const src = await createSource(api);
    const paused = await createDestination(api as never, { enabled: false });
    const live = await createDestination(api);
    await createConnection(api as never, src.id, paused.id);
    await createConnection(api as never, src.id, live.id);
    // A body over 10 KB goes to R2.
    const big = JSON.stringify({ pad: "x".repeat(20_000) });
    const ingested = await request<{ event_id: string }>("POST", `/v1/ingest/${src.id}`, { raw: big, headers: { "content-type": "application/json" } });
    expectStatus(ingested, 202);
    await waitFor(async () => (await api.get<Page<unknown>>(`/v1/events/${ingested.body.event_id}/attempts`)).body.data.length > 0, "the live destination's attempt");
    expect((await queuedRows(paused.id)).length).toBe(1);
    const prefix = `events/${u.org_id}/${doomed.id}/`;
    expect((await env.BODIES.list({ prefix })).objects.length).toBe(1);

    // A second project's data must survive.
    const keep = sessionClient(u.cookie, { project: u.env_id });
    const kept = await createSource(keep);

    expectStatus(await s.delete(`/v1/environments/${doomed.id}`), 204);

    for (const table of projectTableNames()) {
      const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE env_id = ?1`).bind(doomed.id).first<{ n: number }>();
      expect(row?.n, `${table} rows left`).toBe(0);
    }
    expect(projectTableNames()).toEqual(expect.arrayContaining(["api_keys", "sources", "destinations", "connections", "events", "deliveries", "delivery_attempts", "dead_letters"]));
    expect(await env.DB.prepare("SELECT id FROM environments WHERE id = ?1").bind(doomed.id).first()).toBeNull();
    expect((await env.BODIES.list({ prefix })).objects).toEqual([]);
    expect(await queuedRows(paused.id)).toEqual([]);
    // Nothing is recorded for the purged queue later on (no dead letters resurrected).
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE env_id = ?1").bind(doomed.id).first<{ n: number }>())?.n).toBe(0);
    expectError(await client(k.key).get("/v1/sources"), 401, "unauthorized");
    expectError(await api.get("/v1/sources"), 404, "not_found");
    expectStatus(await request("POST", `/v1/ingest/${src.id}`, { raw: "{}" }), 404);
    expectStatus(await keep.get(`/v1/sources/${kept.id}`), 200);
    expectError(await s.delete(`/v1/environments/${doomed.id}`), 404, "not_found");
  });
});

describe("API keys", () => {
  it("shows a new key once, lists it masked, stores only its SHA-256, and rejects it at once when revoked", async () => {
    const u = await signUp();
    const s = sessionClient(u.cookie);
    const created = await s.post<CreatedApiKey>("/v1/api-keys", { name: "ci", env_id: u.env_id });
    expectStatus(created, 201);
    const k = created.body;
    expect(k.key).toMatch(/^hs_live_[0-9a-f]{64}$/);
    expect(k).toMatchObject({ name: "ci", env_id: u.env_id, masked_key: `hs_live_…${k.key.slice(-4)}`, last_used_at: null });
    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?1").bind(k.id).first<Record<string, unknown>>();
    expect(row).toMatchObject({ org_id: u.org_id, env_id: u.env_id, key_hash: await sha256Hex(k.key), prefix: "hs_live_", last4: k.key.slice(-4) });
    expect(JSON.stringify(row)).not.toContain(k.key);

    const withKey = client(k.key);
    expectStatus(await withKey.get("/v1/sources"), 200);
    await waitFor(async () => (await s.get<Page<ApiKey>>("/v1/api-keys")).body.data.find((x) => x.id === k.id)?.last_used_at, "last_used_at");
    const listed = await s.get<Page<ApiKey>>(`/v1/api-keys?env_id=${u.env_id}`);
    expect(listed.text).not.toContain(k.key);
    expect(listed.body.data.find((x) => x.id === k.id)).toMatchObject({ id: k.id, name: "ci", env_id: u.env_id, masked_key: k.masked_key, created_at: k.created_at });

    // The key was just used (cached in this isolate); revocation must not wait for the cache.
    expectStatus(await s.delete(`/v1/api-keys/${k.id}`), 204);
    expectError(await withKey.get("/v1/sources"), 401, "unauthorized");
    expect((await s.get<Page<ApiKey>>("/v1/api-keys")).body.data.map((x) => x.id)).not.toContain(k.id);
    expectError(await s.delete(`/v1/api-keys/${k.id}`), 404, "not_found");
  });

  it("creates test-mode keys bound to the chosen project", async () => {
    const u = await signUp();
    const s = sessionClient(u.cookie);
    const staging = (await s.post<Environment>("/v1/environments", { name: "staging" })).body;
    const k = (await s.post<CreatedApiKey>("/v1/api-keys", { name: "local", env_id: staging.id, mode: "test" })).body;
    expect(k.key).toMatch(/^hs_test_[0-9a-f]{64}$/);
    const src = await client(k.key).post<{ id: string }>("/v1/sources", { name: "on-staging" });
    expectStatus(src, 201);
    expectError(await sessionClient(u.cookie, { project: u.env_id }).get(`/v1/sources/${src.body.id}`), 404, "not_found");
    expectStatus(await sessionClient(u.cookie, { project: staging.id }).get(`/v1/sources/${src.body.id}`), 200);
  });

  it("refuses a project of another organization, a missing env_id and bad input", async () => {
    const u = await signUp();
    const other = await signUp();
    const s = sessionClient(u.cookie);
    expectError(await s.post("/v1/api-keys", { name: "x", env_id: other.env_id }), 404, "not_found");
    expectError(await s.post("/v1/api-keys", { name: "x" }), 400, "validation_failed");
    expectError(await s.post("/v1/api-keys", { name: "x".repeat(129), env_id: u.env_id }), 400, "validation_failed");
    expectError(await s.post("/v1/api-keys", { name: "x", env_id: u.env_id, mode: "prod" }), 400, "validation_failed");
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE org_id = ?1").bind(u.org_id).first<{ n: number }>())?.n).toBe(0);
  });

  it("an API key cannot mint keys, invite people or manage projects (session-only routes)", async () => {
    const u = await signUp();
    const k = (await sessionClient(u.cookie).post<CreatedApiKey>("/v1/api-keys", { name: "ci", env_id: u.env_id })).body;
    const c = client(k.key);
    expectError(await c.post("/v1/api-keys", { name: "more", env_id: u.env_id }), 403, "forbidden");
    expectError(await c.post("/v1/invitations", { email: uniqueEmail(), role: "admin" }), 403, "forbidden");
    expectError(await c.post("/v1/environments", { name: "x" }), 403, "forbidden");
    expectError(await c.get("/v1/members"), 403, "forbidden");
    expectError(await c.delete("/v1/org"), 403, "forbidden");
    // …but it lists its own project's keys, masked.
    const listed = await c.get<Page<ApiKey>>("/v1/api-keys");
    expect(listed.body.data.map((x) => x.id)).toEqual([k.id]);
  });

  it(`rate-limits repeated bad keys from one IP (${BAD_KEY_LIMIT.max} a minute), before any lookup`, async () => {
    const u = await signUp();
    const good = (await sessionClient(u.cookie).post<CreatedApiKey>("/v1/api-keys", { name: "ci", env_id: u.env_id })).body.key;
    const ip = `198.51.100.${Math.floor(Math.random() * 200) + 1}`;
    for (let i = 0; i < BAD_KEY_LIMIT.max; i++) {
      expectError(await request("GET", "/v1/sources", { key: `hs_live_${hex32()}${hex32()}`, headers: { "cf-connecting-ip": ip } }), 401, "unauthorized");
    }
    expectError(await request("GET", "/v1/sources", { key: `hs_live_${hex32()}${hex32()}`, headers: { "cf-connecting-ip": ip } }), 429, "rate_limited");
    expectError(await request("GET", "/v1/sources", { key: good, headers: { "cf-connecting-ip": ip } }), 429, "rate_limited");
    expectStatus(await request("GET", "/v1/sources", { key: good, headers: { "cf-connecting-ip": "203.0.113.77" } }), 200);
  });
});

describe("members and invitations", () => {
  it("invites by email, the invitee accepts and works with the permissions of their role", async () => {
    const owner = await signUp({ name: "Owner" });
    const s = sessionClient(owner.cookie, { project: owner.env_id });
    const src = (await s.post<{ id: string }>("/v1/sources", { name: "shared-source" })).body;
    const email = uniqueEmail("teammate");
    const invited = await inviteByEmail(owner.cookie, owner.org_id, email, "viewer");
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ email, role: "viewer", invited_by: owner.user_id });
    expect(JSON.stringify(invited.body)).not.toMatch(/[0-9a-f]{64}/);
    expect(invited.mail).toMatchObject({ path: expect.stringMatching(/\/emails$/), authorization: "Bearer re_test_key", to: [email], subject: expect.stringContaining("Owner's organization") });
    expect(invited.token).toMatch(/^[0-9a-f]{64}$/);
    const row = await env.DB.prepare("SELECT token_hash FROM invitations WHERE email = ?1").bind(email).first<{ token_hash: string }>();
    expect(row?.token_hash).toBe(await sha256Hex(invited.token!));

    const open = await sessionClient(owner.cookie).get<Page<{ email: string }>>("/v1/invitations");
    expect(open.body.data.map((i) => i.email)).toEqual([email]);

    // Someone else cannot use the token; the invitee can, once.
    const stranger = await signUp();
    expectError(await sessionClient(stranger.cookie).post("/v1/invitations/accept", { token: invited.token }), 404, "not_found");
    const mate = await signUp({ email, name: "Mate" });
    const accepted = await sessionClient(mate.cookie).post("/v1/invitations/accept", { token: invited.token });
    expectStatus(accepted, 200);
    expect(accepted.body).toEqual({ org_id: owner.org_id, role: "viewer" });
    expectError(await sessionClient(mate.cookie).post("/v1/invitations/accept", { token: invited.token }), 404, "not_found");
    expect((await sessionClient(owner.cookie).get<Page<unknown>>("/v1/invitations")).body.data).toEqual([]);

    const me = await sessionClient(mate.cookie).get<{ organizations: { id: string; role: string }[] }>("/v1/me");
    expect(me.body.organizations).toEqual(expect.arrayContaining([{ id: owner.org_id, name: "Owner's organization", role: "viewer" }]));
    const asMate = sessionClient(mate.cookie, { project: owner.env_id });
    expectStatus(await asMate.get(`/v1/sources/${src.id}`), 200);
    expectError(await asMate.post("/v1/sources", { name: "nope" }), 403, "forbidden");
    expectError(await asMate.delete(`/v1/sources/${src.id}`), 403, "forbidden");

    // Promote to member: sources yes, API keys no.
    const members = await sessionClient(owner.cookie).get<Page<Member>>("/v1/members");
    expect(members.body.data.map((m) => [m.email, m.role])).toEqual(expect.arrayContaining([[owner.email, "owner"], [email, "viewer"]]));
    const mateId = members.body.data.find((m) => m.email === email)!.id;
    expectStatus(await sessionClient(owner.cookie).patch(`/v1/members/${mateId}`, { role: "member" }), 200);
    expectStatus(await asMate.post("/v1/sources", { name: "by-member" }), 201);
    expectError(await sessionClient(mate.cookie, { org: owner.org_id }).post("/v1/api-keys", { name: "k", env_id: owner.env_id }), 403, "forbidden");

    // Remove: access ends.
    expectStatus(await sessionClient(owner.cookie).delete(`/v1/members/${mateId}`), 204);
    expectError(await asMate.get(`/v1/sources/${src.id}`), 404, "not_found");
  });

  it("guards the owner role: only owners grant it, and the last owner stays", async () => {
    const owner = await signUp();
    const admin = await seedMember(owner.org_id, "admin");
    const viewer = await seedMember(owner.org_id, "viewer");
    const asAdmin = sessionClient(admin.cookie, { org: owner.org_id });
    const ownerMember = (await asAdmin.get<Page<Member>>("/v1/members")).body.data.find((m) => m.role === "owner")!;
    expectError(await asAdmin.patch(`/v1/members/${viewer.member_id}`, { role: "owner" }), 403, "forbidden");
    expectError(await asAdmin.patch(`/v1/members/${ownerMember.id}`, { role: "viewer" }), 403, "forbidden");
    expectError(await asAdmin.delete(`/v1/members/${ownerMember.id}`), 403, "forbidden");
    expect((await inviteByEmail(admin.cookie, owner.org_id, uniqueEmail(), "owner")).status).toBe(403);
    expectStatus(await asAdmin.patch(`/v1/members/${viewer.member_id}`, { role: "member" }), 200);

    const asOwner = sessionClient(owner.cookie);
    expectError(await asOwner.patch(`/v1/members/${ownerMember.id}`, { role: "admin" }), 409, "conflict");
    expectError(await asOwner.delete(`/v1/members/${ownerMember.id}`), 409, "conflict");
    expectStatus(await asOwner.patch(`/v1/members/${admin.member_id}`, { role: "owner" }), 200);
    expectStatus(await asOwner.patch(`/v1/members/${ownerMember.id}`, { role: "admin" }), 200);
    expectError(await asOwner.delete("/v1/org"), 403, "forbidden");

    expectError(await asOwner.patch(`/v1/members/${viewer.member_id}`, { role: "god" }), 400, "validation_failed");
    expectError(await asOwner.patch(`/v1/members/nope`, { role: "viewer" }), 400, "validation_failed");
  });

  it("revokes an invitation; refuses bad emails and existing members", async () => {
    const owner = await signUp();
    const s = sessionClient(owner.cookie);
    const email = uniqueEmail();
    const inv = await inviteByEmail(owner.cookie, owner.org_id, email, "member");
    expectStatus(await s.delete(`/v1/invitations/${(inv.body as { id: string }).id}`), 204);
    const mate = await signUp({ email });
    expectError(await sessionClient(mate.cookie).post("/v1/invitations/accept", { token: inv.token }), 404, "not_found");
    expectError(await s.post("/v1/invitations", { email: "not-an-email", role: "member" }), 400, "validation_failed");
    expectError(await s.post("/v1/invitations", { email: owner.email, role: "member" }), 409, "conflict");
    expectError(await sessionClient(mate.cookie).post("/v1/invitations/accept", { token: "nope" }), 400, "validation_failed");
  });
});

describe("the organization", () => {
  it("the owner renames and deletes it, with every project's data", async () => {
    const owner = await signUp();
    const s = sessionClient(owner.cookie);
    expectStatus(await s.patch("/v1/org", { name: "Renamed" }), 200);
    expect((await s.get<{ name: string }>("/v1/org")).body.name).toBe("Renamed");
    const api = sessionClient(owner.cookie, { project: owner.env_id });
    const src = await createSource(api);
    const dst = await createDestination(api as never, { enabled: false });
    await createConnection(api as never, src.id, dst.id);
    expectStatus(await request("POST", `/v1/ingest/${src.id}`, { raw: "{}" }), 202);
    const member = await seedMember(owner.org_id, "admin");
    expectError(await sessionClient(member.cookie, { org: owner.org_id }).delete("/v1/org"), 403, "forbidden");

    expectStatus(await s.delete("/v1/org"), 204);
    for (const table of ["organizations", "memberships", "environments"]) {
      const col = table === "organizations" ? "id" : "org_id";
      expect((await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${col} = ?1`).bind(owner.org_id).first<{ n: number }>())?.n, table).toBe(0);
    }
    for (const table of projectTableNames()) {
      expect((await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE org_id = ?1`).bind(owner.org_id).first<{ n: number }>())?.n, table).toBe(0);
    }
    expect(await queuedRows(dst.id)).toEqual([]);
    // The member still has their own organization; the deleted one is gone from their list.
    const me = await sessionClient(member.cookie).get<{ organizations: { id: string }[] }>("/v1/me");
    expect(me.body.organizations.map((o) => o.id)).not.toContain(owner.org_id);
    // The owner, with no organization left, gets a fresh one on their next request.
    const again = await sessionClient(owner.cookie).get<{ organizations: { id: string }[] }>("/v1/me");
    expect(again.body.organizations).toHaveLength(1);
    expect(again.body.organizations[0]!.id).not.toBe(owner.org_id);
  });
});
