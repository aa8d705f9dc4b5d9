// Accounts on a real `wrangler dev`: a new user signs up through the API, gets an organization
// and a project, creates an API key, invites a teammate (the email goes through the Resend
// stand-in), who accepts and works with exactly the permissions of their role.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { signIn } from "../../scripts/lib/gateway.mjs";
import { Api, ingestOk, type List, type SourceView } from "./setup/api.js";
import type {} from "./setup/gateway.js";
import { messagesFor } from "./setup/mailbox.js";
import { pollUntil } from "./setup/poll.js";
import { closeAll, startReceiver, type Receiver } from "./setup/receiver.js";

const { baseUrl, tenantB, mailboxUrl } = inject("gateway");
const stamp = Date.now().toString(36);

interface Res<T = unknown> {
  status: number;
  body: T;
}

/** A signed-in user acting on one project (the dashboard's view of the API). */
function session(cookie: string, project?: string) {
  return async <T = unknown>(method: string, path: string, body?: unknown): Promise<Res<T>> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        cookie,
        ...(method === "GET" ? {} : { origin: baseUrl }),
        ...(project ? { "x-hookstream-project": project } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
}

async function signUp(email: string, password: string, name: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl },
    body: JSON.stringify({ email, password, name }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const cookie = await signIn(baseUrl, email, password);
  if (!cookie) throw new Error(`could not sign in as ${email}`);
  return cookie;
}

async function inviteToken(email: string): Promise<string> {
  const [mail] = await pollUntil(() => messagesFor(mailboxUrl, email), (m) => m.length > 0, { what: `the invitation email to ${email}` });
  expect(mail!.authorization).toBe("Bearer re_e2e_key");
  const token = /Invitation token: ([0-9a-f]{64})/.exec(mail!.text)?.[1];
  if (!token) throw new Error(`no token in ${mail!.text}`);
  return token;
}

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => closeAll([receiver]));

describe("a team on its own gateway", () => {
  it("signs up, gets an org and a project, creates a key, invites a teammate who works with their role's permissions", async () => {
    const owner = { email: `owner-${stamp}@e2e.test`, password: `pw-owner-${stamp}` };
    const ownerCookie = await signUp(owner.email, owner.password, "Olivia");
    const me = await session(ownerCookie)<{ organizations: { id: string; name: string; role: string }[] }>("GET", "/v1/me");
    expect(me.status).toBe(200);
    expect(me.body.organizations).toEqual([{ id: expect.stringMatching(/^org_[0-9a-f]{32}$/), name: "Olivia's organization", role: "owner" }]);
    const orgId = me.body.organizations[0]!.id;
    const projects = await session(ownerCookie)<List<{ id: string; name: string }>>("GET", "/v1/projects");
    expect(projects.body.data.map((p) => p.name)).toEqual(["production"]);
    const envId = projects.body.data[0]!.id;

    // An API key for the project; the plaintext is shown once.
    const created = await session(ownerCookie)<{ id: string; key: string; masked_key: string }>("POST", "/v1/api-keys", { name: "ci", env_id: envId });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^hs_live_[0-9a-f]{64}$/);
    const listed = await session(ownerCookie)<List<{ id: string; masked_key: string }>>("GET", "/v1/api-keys");
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    expect(listed.body.data.find((k) => k.id === created.body.id)?.masked_key).toBe(`hs_live_…${created.body.key.slice(-4)}`);

    // The key works: a source delivering to a real receiver.
    const api = new Api(baseUrl, created.body.key);
    const src = await api.createSource({ name: `shop-${stamp}` });
    const dst = await api.createHttpDestination({ url: `${receiver.url}/hook` });
    await api.connect(src.id, dst.id);
    const eventId = await ingestOk(baseUrl, src.id, { body: '{"order":1}', headers: { "content-type": "application/json" } });
    await api.waitForEventStatus(eventId, "delivered");

    // Invite a teammate as member: the email carries the token; only its hash is stored.
    const mate = { email: `mate-${stamp}@e2e.test`, password: `pw-mate-${stamp}` };
    const invited = await session(ownerCookie, envId)("POST", "/v1/invitations", { email: mate.email, role: "member" });
    expect(invited.status).toBe(201);
    expect(JSON.stringify(invited.body)).not.toMatch(/[0-9a-f]{64}/);
    const token = await inviteToken(mate.email);

    const mateCookie = await signUp(mate.email, mate.password, "Mo");
    // Tenant B's owner cannot use the teammate's token.
    const bCookie = await signIn(baseUrl, tenantB.email, tenantB.password);
    expect((await session(bCookie!)("POST", "/v1/invitations/accept", { token })).status).toBe(404);
    const accepted = await session(mateCookie)("POST", "/v1/invitations/accept", { token });
    expect(accepted).toEqual({ status: 200, body: { org_id: orgId, role: "member" } });

    // Same resources, member permissions.
    const asMate = session(mateCookie, envId);
    const sources = await asMate<List<SourceView>>("GET", "/v1/sources");
    expect(sources.body.data.map((s) => s.id)).toEqual([src.id]);
    expect((await asMate("GET", `/v1/events/${eventId}`)).status).toBe(200);
    expect((await asMate("POST", `/v1/events/${eventId}/retry`)).status).toBeLessThan(300);
    expect((await asMate("POST", "/v1/sources", { name: `by-mate-${stamp}` })).status).toBe(201);
    expect((await asMate("POST", "/v1/api-keys", { name: "mine", env_id: envId })).status).toBe(403);
    expect((await asMate("POST", "/v1/invitations", { email: `x-${stamp}@e2e.test`, role: "viewer" })).status).toBe(403);
    expect((await asMate("DELETE", "/v1/org")).status).toBe(403);

    // Demoted to viewer: reads only.
    const members = await session(ownerCookie)<List<{ id: string; email: string; role: string }>>("GET", "/v1/members");
    const mateMember = members.body.data.find((m) => m.email === mate.email)!;
    expect(mateMember.role).toBe("member");
    expect((await session(ownerCookie)("PATCH", `/v1/members/${mateMember.id}`, { role: "viewer" })).status).toBe(200);
    expect((await asMate("GET", `/v1/sources/${src.id}`)).status).toBe(200);
    expect((await asMate("POST", "/v1/sources", { name: "nope" })).status).toBe(403);
    expect((await asMate("DELETE", `/v1/sources/${src.id}`)).status).toBe(403);

    // Removed: the organization's project no longer exists for them.
    expect((await session(ownerCookie)("DELETE", `/v1/members/${mateMember.id}`)).status).toBe(204);
    expect((await asMate("GET", `/v1/sources/${src.id}`)).status).toBe(404);

    // Other tenants see nothing of it.
    const b = new Api(baseUrl, tenantB.api_key);
    expect((await b.request("GET", `/v1/sources/${src.id}`)).status).toBe(404);
    expect((await b.request("GET", `/v1/events/${eventId}`)).status).toBe(404);

    // Revoking the key stops it within seconds (the per-isolate cache lives 5 s).
    expect((await session(ownerCookie)("DELETE", `/v1/api-keys/${created.body.id}`)).status).toBe(204);
    await pollUntil(async () => (await api.request("GET", "/v1/sources")).status, (s) => s === 401, { what: "the revoked key to be refused", timeoutMs: 10_000 });
  });

  it("sign-in errors never tell whether an email exists", async () => {
    const post = (email: string) =>
      fetch(`${baseUrl}/api/auth/sign-in/email`, { method: "POST", headers: { "content-type": "application/json", origin: baseUrl }, body: JSON.stringify({ email, password: "wrong-password-123" }) });
    const known = await post(tenantB.email);
    const unknown = await post(`nobody-${stamp}@e2e.test`);
    expect(known.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await known.json()).toEqual(await unknown.json());
  });
});
