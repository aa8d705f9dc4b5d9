import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { client, expectError, expectStatus, hex32, ORIGIN, request, type ApiResponse, type Client } from "../helpers/api.js";
import { createConnection, createDestination, createSource, waitFor } from "../helpers/fixtures.js";
import { documentRoutes, key, type OpenApiDocument, type Route } from "../helpers/routes.js";
import { seedEnvironment, seedKey, seedTenant, type SeededTenant } from "../helpers/seed.js";
import type { Connection, CreatedApiKey, Destination, Page, Source } from "../helpers/types.js";

/**
 * The route table comes from the served OpenAPI document, so a new route is covered by
 * construction: it either fits a rule below or fails the test until someone adds one.
 */
const doc = (await (await SELF.fetch(`${ORIGIN}/v1/openapi.json`)).json()) as OpenApiDocument;
const routes = documentRoutes(doc);

/** Path resource → id prefix, for the tenant-A object each `{id}` route is pointed at. */
const RESOURCE_ID_PREFIX: Record<string, string> = { sources: "src", destinations: "dst", connections: "con", events: "evt", "api-keys": "key" };
/** Lists scoped to the organization, not the environment: a same-org key may see them. */
const ORG_SCOPED = new Set(["/environments", "/projects"]);

interface TenantA extends SeededTenant {
  objects: Record<string, string>;
  names: string[];
  sourceName: string;
  destinationName: string;
  extraKey: string;
}

let a: TenantA;
let revokedKey: string;
let otherOrg: SeededTenant;
let otherEnv: SeededTenant;

beforeAll(async () => {
  const t = await seedTenant("tenant-a");
  const api = client(t.key);
  const src = await createSource(api, { name: "a-secret-source" });
  const dst = await createDestination(api, { name: "a-secret-destination" });
  const con = await createConnection(api, src.id, dst.id, { name: "a-secret-connection" });
  const ingested = await request<{ event_id: string }>("POST", `/v1/ingest/${src.id}`, { raw: '{"a":"secret-payload"}', headers: { "content-type": "application/json" } });
  expectStatus(ingested, 202);
  const extra = await api.post<CreatedApiKey>("/v1/api-keys", { name: "a-secret-key" });
  expectStatus(extra, 201);
  a = {
    ...t,
    objects: { src: src.id, dst: dst.id, con: con.id, evt: ingested.body.event_id, key: extra.body.id },
    names: ["a-secret-source", "a-secret-destination", "a-secret-connection", "secret-payload", "a-secret-key"],
    sourceName: src.name,
    destinationName: dst.name,
    extraKey: extra.body.key,
  };
  // Let the event's delivery finish so attempts exist for tenant A too.
  await waitFor(async () => (await api.get<Page<unknown>>(`/v1/events/${a.objects.evt}/attempts`)).body.data.length > 0, "tenant A's first attempt");
  revokedKey = (await seedKey(t, { revoked: true })).key;
  otherOrg = await seedTenant("tenant-b");
  otherEnv = await seedEnvironment(t.org_id, "a-staging");
});

function resourceOf(route: Route): string {
  return route.path.split("/")[1] ?? "";
}

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
    const prefix = { source_id: "src", destination_id: "dst", event_id: "evt", connection_id: "con" }[p.name];
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
  if (route.path.endsWith("{id}")) return resource === "connections" ? { name: "hijacked", enabled: false } : { name: "hijacked" };
  if (route.path.endsWith("/redrive")) return {};
  if (route.path.endsWith("/rotate-secret")) return { secret: "hijacked-secret" };
  switch (route.path) {
    case "/sources":
    case "/environments":
    case "/projects":
    case "/api-keys":
      return { name: "b-object" };
    case "/destinations":
      return { name: "b-object", type: "http", config: { url: "https://example.com/hook" } };
    case "/connections":
      return { source_id: a.objects.src, destination_id: a.objects.dst };
    case "/connections/test":
      // Would echo tenant A's stored body back if the event were reachable.
      return { event_id: a.objects.evt, transform: "body" };
  }
  throw new Error(`no sample body for ${key(route)}: add one to bodyFor`);
}

function send(route: Route, keyText: string | null, path = concretePath(route)): Promise<ApiResponse> {
  const body = bodyFor(route);
  return request(route.method.toUpperCase(), path, { key: keyText, ...(body === undefined ? {} : { json: body }) });
}

function expectNothingOfA(res: ApiResponse, opts: { orgIds: boolean }): void {
  for (const id of Object.values(a.objects)) expect(res.text, `leaks ${id}`).not.toContain(id);
  for (const name of a.names) expect(res.text, `leaks ${name}`).not.toContain(name);
  if (opts.orgIds) {
    expect(res.text).not.toContain(a.org_id);
    expect(res.text).not.toContain(a.env_id);
  }
}

describe("route table", () => {
  it("covers the API", () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
    for (const r of routes) {
      expect(() => concretePath(r)).not.toThrow();
      expect(() => bodyFor(r)).not.toThrow();
      expect(() => foreignFilters(r)).not.toThrow();
    }
  });
});

describe.each(routes.map((r) => ({ ...r, name: key(r) })))("$name", (route) => {
  it("without credentials → 401", async () => {
    expectError(await send(route, null), 401, "unauthorized");
  });

  it("with a revoked key → 401", async () => {
    expectError(await send(route, revokedKey), 401, "unauthorized");
  });

  for (const [who, principal] of [
    ["another organization", () => otherOrg],
    ["another environment of the same organization", () => otherEnv],
  ] as const) {
    it(`a key of ${who} never reaches tenant A's objects`, async () => {
      const p = principal();
      const sameOrg = p.org_id === a.org_id;
      if (route.path.includes("{")) {
        const res = await send(route, p.key);
        expectError(res, 404, "not_found");
        expectNothingOfA(res, { orgIds: !sameOrg });
        // Indistinguishable from an id that does not exist at all.
        const missing = await send(route, p.key, concretePath(route, Object.fromEntries(Object.keys(a.objects).map((k) => [k, `${k}_${hex32()}`]))));
        expect(res.body).toEqual(missing.body);
        return;
      }
      if (route.method === "get") {
        for (const query of ["", foreignFilters(route)]) {
          const res = await request("GET", `/v1${route.path}${query}`, { key: p.key });
          expectStatus(res, 200);
          if (!(sameOrg && ORG_SCOPED.has(route.path))) expectNothingOfA(res, { orgIds: !sameOrg });
          if (query) expect((res.body as Page<unknown>).data).toEqual([]);
        }
        return;
      }
      if (route.method === "post" && route.path === "/connections/test") {
        // A dry run over tenant A's event: the same 404 as an event that does not exist.
        const res = await send(route, p.key);
        expectError(res, 404, "not_found");
        expectNothingOfA(res, { orgIds: true });
        return;
      }
      if (route.method === "post" && route.path === "/connections") {
        const e = expectError(await send(route, p.key), 400, "validation_failed");
        expect(e.message).toMatch(/^(source|destination)_id: no such/);
        return;
      }
      if (route.method === "post") {
        // Creating is allowed, but the new object belongs to the caller's tenant, not A's.
        const res = await send(route, p.key);
        expectStatus(res, 201);
        const created = res.body as { id: string; org_id?: string; env_id?: string };
        if (created.org_id) expect(created.org_id).toBe(p.org_id);
        if (created.env_id) expect(created.env_id).toBe(p.env_id);
        if (!(sameOrg && ORG_SCOPED.has(route.path))) {
          const listedForA = await request("GET", `/v1${route.path}`, { key: a.key });
          expect(listedForA.text).not.toContain(created.id);
        }
        return;
      }
      throw new Error(`no cross-tenant rule for ${key(route)}: add one`);
    });
  }
});

// Declared last, so it runs after every route above has been tried by the other tenants.
it("leaves tenant A's objects and keys untouched", async () => {
  const api: Client = client(a.key);
  expect((await api.get<Source>(`/v1/sources/${a.objects.src}`)).body.name).toBe(a.sourceName);
  expect((await api.get<Destination>(`/v1/destinations/${a.objects.dst}`)).body.name).toBe(a.destinationName);
  const con = (await api.get<Connection>(`/v1/connections/${a.objects.con}`)).body;
  expect(con).toMatchObject({ name: "a-secret-connection", enabled: true });
  expectStatus(await client(a.extraKey).get("/v1/sources"), 200);
  expectStatus(await api.get(`/v1/events/${a.objects.evt}`), 200);
});
