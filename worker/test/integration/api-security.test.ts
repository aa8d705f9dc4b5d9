import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { PERMISSIONS, permissionFor } from "../../src/auth/permissions.js";
import { atLeast, ROLES, type Role } from "../../src/auth/roles.js";
import { client, expectError, expectStatus, hex32, ORIGIN, request, type ApiResponse } from "../helpers/api.js";
import { createConnection, createDestination, createSource, waitFor } from "../helpers/fixtures.js";
import { seedMember } from "../helpers/members.js";
import { documentRoutes, key, type OpenApiDocument, type Route } from "../helpers/routes.js";
import { authPost, sessionClient, signUp, type SignedIn } from "../helpers/session.js";
import type { Connection, CreatedApiKey, Destination, Page, Source } from "../helpers/types.js";

/**
 * The route table comes from the served OpenAPI document, and each route's rules from the
 * permission table the middleware enforces, so a new route is covered by construction: it
 * either fits a rule below or fails the test until someone adds one.
 */
const doc = (await (await SELF.fetch(`${ORIGIN}/v1/openapi.json`)).json()) as OpenApiDocument;
const routes = documentRoutes(doc);

/** Path resource → id prefix, for the tenant-A object each `{id}` route is pointed at. */
const RESOURCE_ID_PREFIX: Record<string, string> = {
  sources: "src", destinations: "dst", connections: "con", events: "evt", "api-keys": "key", environments: "env", projects: "env", members: "mem", invitations: "inv",
};
const QUERY_ID_PREFIX: Record<string, string> = { source_id: "src", destination_id: "dst", event_id: "evt", connection_id: "con", env_id: "env" };

/** A caller: an API key, or a session cookie with the project it names (if any). */
interface Caller {
  key?: string | null;
  cookie?: string;
  project?: string;
}

interface TenantA {
  owner: SignedIn;
  key: string;
  extraKey: string;
  objects: Record<string, string>;
  names: string[];
  roles: Record<Exclude<Role, "owner">, SignedIn>;
}

let a: TenantA;
let revokedKey: string;
let signedOutCookie: string;
let otherOrg: SignedIn & { key: string };
let otherEnvKey: string;
let otherEnvId: string;

async function keyFor(owner: SignedIn, env_id: string, name: string): Promise<CreatedApiKey> {
  const res = await sessionClient(owner.cookie).post<CreatedApiKey>("/v1/api-keys", { name, env_id });
  expectStatus(res, 201);
  return res.body;
}

beforeAll(async () => {
  const owner = await signUp({ name: "a-secret-owner" });
  const mainKey = await keyFor(owner, owner.env_id, "a-main");
  const api = client(mainKey.key);
  const src = await createSource(api, { name: "a-secret-source" });
  const dst = await createDestination(api, { name: "a-secret-destination" });
  const con = await createConnection(api, src.id, dst.id, { name: "a-secret-connection" });
  const ingested = await request<{ event_id: string }>("POST", `/v1/ingest/${src.id}`, { raw: '{"a":"secret-payload"}', headers: { "content-type": "application/json" } });
  expectStatus(ingested, 202);
  const extra = await keyFor(owner, owner.env_id, "a-secret-key");
  const revoked = await keyFor(owner, owner.env_id, "a-revoked");
  expectStatus(await sessionClient(owner.cookie).delete(`/v1/api-keys/${revoked.id}`), 204);
  revokedKey = revoked.key;
  const invitation = await sessionClient(owner.cookie).post<{ id: string }>("/v1/invitations", { email: "a-secret-invitee@example.com", role: "member" });
  expectStatus(invitation, 201);
  const [viewer, member, admin] = [await seedMember(owner.org_id, "viewer"), await seedMember(owner.org_id, "member"), await seedMember(owner.org_id, "admin")];
  a = {
    owner,
    key: mainKey.key,
    extraKey: extra.key,
    objects: { src: src.id, dst: dst.id, con: con.id, evt: ingested.body.event_id, key: extra.id, env: owner.env_id, mem: viewer.member_id, inv: invitation.body.id },
    names: ["a-secret-source", "a-secret-destination", "a-secret-connection", "secret-payload", "a-secret-key", "a-secret-owner", "a-secret-invitee", owner.email],
    roles: { viewer, member, admin },
  };
  // Let the event's delivery finish so attempts exist for tenant A too.
  await waitFor(async () => (await api.get<Page<unknown>>(`/v1/events/${a.objects.evt}/attempts`)).body.data.length > 0, "tenant A's first attempt");

  const staging = await sessionClient(owner.cookie).post<{ id: string }>("/v1/environments", { name: "a-staging" });
  expectStatus(staging, 201);
  otherEnvId = staging.body.id;
  otherEnvKey = (await keyFor(owner, otherEnvId, "a-staging-key")).key;

  const c = await signUp({ name: "tenant-c" });
  otherOrg = { ...c, key: (await keyFor(c, c.env_id, "c-key")).key };

  const gone = await signUp();
  expect((await authPost("/sign-out", {}, gone.cookie)).status).toBe(200);
  signedOutCookie = gone.cookie;
});

function resourceOf(route: Route): string {
  return route.path.split("/")[1] ?? "";
}

const permissionOf = (route: Route) => {
  const p = PERMISSIONS[key(route)];
  if (!p) throw new Error(`no permission entry for ${key(route)}: add one to auth/permissions.ts`);
  return p;
};

/** The route's path with `{id}` pointed at tenant A's object of that resource. */
function concretePath(route: Route, ids: Record<string, string> = a.objects): string {
  return `/v1${route.path.replace(/\{(\w+)\}/g, (_, param: string) => {
    const prefix = RESOURCE_ID_PREFIX[resourceOf(route)];
    if (param !== "id" || !prefix) throw new Error(`no tenant-A fixture for {${param}} in ${key(route)}: add one to RESOURCE_ID_PREFIX`);
    return ids[prefix]!;
  })}`;
}

/** Query filters that take an id are pointed at tenant A's objects too. */
function foreignFilters(route: Route): string {
  const op = doc.paths[route.path]![route.method]!;
  const params = (op.parameters ?? []).filter((p) => p.in === "query" && p.name.endsWith("_id"));
  const q = params.map((p) => {
    const prefix = QUERY_ID_PREFIX[p.name];
    if (!prefix) throw new Error(`no tenant-A fixture for query ${p.name} in ${key(route)}`);
    return `${p.name}=${a.objects[prefix]}`;
  });
  return q.length > 0 ? `?${q.join("&")}` : "";
}

/** A valid body for each write, so that only authorization can stop it. */
function bodyFor(route: Route): unknown {
  const op = doc.paths[route.path]![route.method]!;
  if (!op.requestBody) return undefined;
  const resource = resourceOf(route);
  if (route.path.endsWith("{id}")) {
    if (resource === "connections") return { name: "hijacked", enabled: false };
    if (resource === "members") return { role: "viewer" };
    return { name: "hijacked" };
  }
  if (route.path.endsWith("/redrive")) return {};
  if (route.path.endsWith("/rotate-secret")) return { secret: "hijacked-secret" };
  switch (route.path) {
    case "/sources":
    case "/environments":
    case "/projects":
    case "/org":
      return { name: "b-object" };
    case "/api-keys":
      // Pointed at tenant A's project: must be refused as if it did not exist.
      return { name: "b-object", env_id: a.objects.env };
    case "/destinations":
      return { name: "b-object", type: "http", config: { url: "https://example.com/hook" } };
    case "/connections":
      return { source_id: a.objects.src, destination_id: a.objects.dst };
    case "/connections/test":
      // Would echo tenant A's stored body back if the event were reachable.
      return { event_id: a.objects.evt, transform: "body" };
    case "/invitations":
      return { email: "b-invitee@example.com", role: "viewer" };
    case "/invitations/accept":
      return { token: `${hex32()}${hex32()}` };
  }
  throw new Error(`no sample body for ${key(route)}: add one to bodyFor`);
}

function send(route: Route, who: Caller, path = concretePath(route)): Promise<ApiResponse> {
  const body = bodyFor(route);
  const method = route.method.toUpperCase();
  const headers: Record<string, string> = {};
  if (who.cookie) {
    headers.cookie = who.cookie;
    if (method !== "GET") headers.origin = ORIGIN;
  }
  if (who.project) headers["x-hookstream-project"] = who.project;
  return request(method, path, { key: who.key ?? null, headers, ...(body === undefined ? {} : { json: body }) });
}

function expectNothingOfA(res: ApiResponse, opts: { orgIds: boolean }): void {
  for (const [kind, id] of Object.entries(a.objects)) {
    if (kind === "env" && !opts.orgIds) continue;
    expect(res.text, `leaks ${id}`).not.toContain(id);
  }
  for (const name of a.names) expect(res.text, `leaks ${name}`).not.toContain(name);
  if (opts.orgIds) {
    expect(res.text).not.toContain(a.owner.org_id);
    expect(res.text).not.toContain(a.owner.env_id);
  }
}

/** The same caller as tenant A's owner would be for this route: a session on A's project. */
const asA = (): Caller => ({ cookie: a.owner.cookie, project: a.owner.env_id });

describe("route table", () => {
  it("covers the API, and every documented route has exactly one permission entry (and no entry is stale)", () => {
    expect(routes.length).toBeGreaterThanOrEqual(40);
    for (const r of routes) {
      expect(() => concretePath(r)).not.toThrow();
      expect(() => bodyFor(r)).not.toThrow();
      expect(() => foreignFilters(r)).not.toThrow();
      expect(() => permissionOf(r)).not.toThrow();
      // The middleware resolves the concrete path to this very entry.
      expect(permissionFor(r.method, concretePath(r).replace(/^\/v1/, ""))?.pattern, key(r)).toBe(key(r));
    }
    expect(Object.keys(PERMISSIONS).sort()).toEqual(routes.map(key).sort());
  });

  it("roles: viewer reads; member manages sources, destinations, connections and retries; admin keys, projects, members; owner deletes the org", () => {
    const writes = Object.entries(PERMISSIONS).filter(([k]) => !k.startsWith("GET "));
    for (const [k, p] of writes) if (p.role === "viewer") expect(["POST /connections/test", "POST /invitations/accept"], `${k} is a write open to viewers`).toContain(k);
    const ofRole = (r: Role) => Object.entries(PERMISSIONS).filter(([, p]) => p.role === r).map(([k]) => k);
    for (const k of ofRole("member")) expect(k).toMatch(/ \/(sources|destinations|connections|events)/);
    for (const k of ofRole("admin")) expect(k).toMatch(/ \/(api-keys|environments|projects|members|invitations|org)/);
    expect(ofRole("owner")).toEqual(["DELETE /org"]);
  });
});

describe.each(routes.map((r) => ({ ...r, name: key(r) })))("$name", (route) => {
  const permission = () => permissionOf(route);

  it("without credentials → 401", async () => {
    expectError(await send(route, {}), 401, "unauthorized");
  });

  it("with a revoked key → 401", async () => {
    expectError(await send(route, { key: revokedKey }), 401, "unauthorized");
  });

  it("with a signed-out session → 401", async () => {
    expectError(await send(route, { cookie: signedOutCookie, project: otherEnvId }), 401, "unauthorized");
  });

  const principals: [string, () => Caller & { org: string; env: string; kind: "key" | "session"; namesAProject?: boolean }][] = [
    ["a key of another organization", () => ({ kind: "key", key: otherOrg.key, org: otherOrg.org_id, env: otherOrg.env_id })],
    ["a key of another project of the same organization", () => ({ kind: "key", key: otherEnvKey, org: a.owner.org_id, env: otherEnvId })],
    ["a session of another organization", () => ({ kind: "session", cookie: otherOrg.cookie, project: otherOrg.env_id, org: otherOrg.org_id, env: otherOrg.env_id })],
    ["a session of another organization naming tenant A's project", () => ({ kind: "session", cookie: otherOrg.cookie, project: a.owner.env_id, org: otherOrg.org_id, env: otherOrg.env_id, namesAProject: true })],
  ];

  for (const [who, principal] of principals) {
    it(`${who} never reaches tenant A's objects`, async () => {
      let p = principal();
      const perm = permission();
      const sameOrg = p.org === a.owner.org_id;
      if (p.kind === "key" && !perm.keys) {
        // Session-only route: refused before any lookup, whatever the target.
        const res = await send(route, p);
        expectError(res, 403, "forbidden");
        expectNothingOfA(res, { orgIds: !sameOrg });
        return;
      }
      if (p.namesAProject && perm.scope !== "user") {
        const res = await send(route, p);
        expectError(res, 404, "not_found");
        expectNothingOfA(res, { orgIds: true });
        return;
      }
      if (route.path.includes("{")) {
        const res = await send(route, p);
        expectError(res, 404, "not_found");
        expectNothingOfA(res, { orgIds: !sameOrg });
        // Indistinguishable from an id that does not exist at all.
        const missing = await send(route, p, concretePath(route, Object.fromEntries(Object.keys(a.objects).map((k) => [k, `${k}_${hex32()}`]))));
        expect(res.body).toEqual(missing.body);
        return;
      }
      if (route.method === "get") {
        for (const query of ["", foreignFilters(route)]) {
          const res = await request("GET", `/v1${route.path}${query}`, { key: p.key ?? null, headers: p.cookie ? { cookie: p.cookie, "x-hookstream-project": p.project! } : {} });
          expectStatus(res, 200);
          expectNothingOfA(res, { orgIds: !sameOrg });
          if (query) expect((res.body as Page<unknown>).data).toEqual([]);
        }
        return;
      }
      if (route.method === "post" && ["/connections/test", "/api-keys", "/invitations/accept"].includes(route.path)) {
        // Tenant A's event, tenant A's project, an invitation token that is not theirs: the same 404 as nothing at all.
        const res = await send(route, p);
        expectError(res, 404, "not_found");
        expectNothingOfA(res, { orgIds: true });
        return;
      }
      if (route.method === "post" && route.path === "/connections") {
        const e = expectError(await send(route, p), 400, "validation_failed");
        expect(e.message).toMatch(/^(source|destination)_id: no such/);
        return;
      }
      if (route.method === "post") {
        // Creating is allowed, but the new object belongs to the caller's tenant, not A's.
        const res = await send(route, p);
        expectStatus(res, 201);
        expectNothingOfA(res, { orgIds: !sameOrg });
        const created = res.body as { id: string; org_id?: string; env_id?: string };
        if (created.org_id) expect(created.org_id).toBe(p.org);
        if (created.env_id) expect(created.env_id).toBe(p.env);
        const listedForA = await request("GET", `/v1${route.path}`, { headers: { cookie: a.owner.cookie, "x-hookstream-project": a.owner.env_id } });
        expectStatus(listedForA, 200);
        expect(listedForA.text).not.toContain(created.id);
        return;
      }
      if (route.method === "patch" || route.method === "delete") {
        // Org-level writes (PATCH/DELETE /org) act on the caller's own organization only.
        if (route.method === "delete" && route.path === "/org") {
          const throwaway = await signUp();
          p = { ...p, cookie: throwaway.cookie, project: throwaway.env_id, org: throwaway.org_id, env: throwaway.env_id };
        }
        const res = await send(route, p);
        expect(res.status, res.text).toBeLessThan(300);
        expectNothingOfA(res, { orgIds: true });
        return;
      }
      throw new Error(`no cross-tenant rule for ${key(route)}: add one`);
    });
  }

  it("roles below the one the permission table names → 403; the roles it names are let through", async () => {
    const perm = permission();
    if (perm.scope === "user") return;
    for (const role of ROLES.filter((r) => r !== "owner") as Exclude<Role, "owner">[]) {
      const res = await (atLeast(role, perm.role) && route.method !== "get" ? null : send(route, { cookie: a.roles[role].cookie, project: a.owner.env_id }));
      if (res === null) continue; // allowed writes are exercised by the happy-path tests, not on tenant A's fixtures
      if (atLeast(role, perm.role)) expect([401, 403], `${role} on ${key(route)}: ${res.text}`).not.toContain(res.status);
      else expectError(res, 403, "forbidden");
    }
  });
});

// Declared last, so it runs after every route above has been tried by the other tenants.
it("leaves tenant A's objects, keys, people and name untouched", async () => {
  const api = client(a.key);
  expect((await api.get<Source>(`/v1/sources/${a.objects.src}`)).body.name).toBe("a-secret-source");
  expect((await api.get<Destination>(`/v1/destinations/${a.objects.dst}`)).body.name).toBe("a-secret-destination");
  const con = (await api.get<Connection>(`/v1/connections/${a.objects.con}`)).body;
  expect(con).toMatchObject({ name: "a-secret-connection", enabled: true });
  expectStatus(await client(a.extraKey).get("/v1/sources"), 200);
  expectStatus(await api.get(`/v1/events/${a.objects.evt}`), 200);
  const owner = sessionClient(a.owner.cookie, { project: a.owner.env_id });
  expect((await owner.get<{ name: string }>("/v1/org")).body.name).toBe("a-secret-owner's organization");
  const members = (await owner.get<Page<{ id: string; role: string }>>("/v1/members")).body.data;
  expect(members.find((m) => m.id === a.objects.mem)?.role).toBe("viewer");
  expect(members).toHaveLength(4);
  expect((await owner.get<Page<{ id: string }>>("/v1/invitations")).body.data.map((i) => i.id)).toContain(a.objects.inv);
  expect((await owner.get<Page<{ id: string; name: string }>>("/v1/environments")).body.data.map((e) => e.id)).toEqual(expect.arrayContaining([a.owner.env_id, otherEnvId]));
  expect(asA().project).toBe(a.owner.env_id);
});
