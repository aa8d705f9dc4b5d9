import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CIRCUIT_BREAKER, DEFAULT_MAX_BODY_BYTES, DEFAULT_RETRY_POLICY } from "../../src/model/types.js";
import { client, expectError, expectStatus, ORIGIN, request, type ApiResponse, type Client } from "../helpers/api.js";
import { createConnection, createDestination, createSource, receiverUrl, uniqueName } from "../helpers/fixtures.js";
import { documentRoutes, key, publicDocumentRoutes, servedRoutes, type OpenApiDocument } from "../helpers/routes.js";
import { fromBase64, openSealed } from "../helpers/secrets.js";
import { seedTenant, type SeededTenant } from "../helpers/seed.js";
import type { Connection, Destination, EventSummary, Page, Source } from "../helpers/types.js";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let tenant: SeededTenant;
let api: Client;

beforeAll(async () => {
  tenant = await seedTenant();
  api = client(tenant.key);
});

/** Walks a list to its end with `limit`, returning each page's ids. */
async function pages(c: Client, path: string, limit: number): Promise<string[][]> {
  const out: string[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const res: ApiResponse<Page<{ id: string }>> = await c.get<Page<{ id: string }>>(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expectStatus(res, 200);
    out.push(res.body.data.map((d) => d.id));
    cursor = res.body.next_cursor;
    if (cursor === null) return out;
  }
  throw new Error("pagination did not end");
}

async function ingest(sourceId: string, body = "{}") {
  const res = await request<{ event_id: string }>("POST", `/v1/ingest/${sourceId}`, { raw: body, headers: { "content-type": "application/json" } });
  expectStatus(res, 202);
  return res.body.event_id;
}

describe("sources", () => {
  it("create, read, update, list and delete", async () => {
    const created = await api.post<Source>("/v1/sources", { name: "stripe", description: "payments", max_body_bytes: 2048 });
    expectStatus(created, 201);
    const s = created.body;
    expect(s.id).toMatch(/^src_[0-9a-f]{32}$/);
    expect(s).toMatchObject({ name: "stripe", description: "payments", max_body_bytes: 2048, managed_by: "api", ingest_url: `${ORIGIN}/v1/ingest/${s.id}` });
    expect(s.created_at).toMatch(ISO);

    const got = await api.get<Source>(`/v1/sources/${s.id}`);
    expectStatus(got, 200);
    expect(got.body).toEqual(s);

    const patched = await api.patch<Source>(`/v1/sources/${s.id}`, { name: "stripe-live", description: null });
    expectStatus(patched, 200);
    expect(patched.body).toMatchObject({ id: s.id, name: "stripe-live", description: null, max_body_bytes: 2048, created_at: s.created_at });
    expect(Date.parse(patched.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(s.updated_at));
    expect((await api.get<Source>(`/v1/sources/${s.id}`)).body.name).toBe("stripe-live");

    const listed = await api.get<Page<Source>>("/v1/sources?limit=250");
    expect(listed.body.data.find((x) => x.id === s.id)?.name).toBe("stripe-live");

    expectStatus(await api.delete(`/v1/sources/${s.id}`), 204);
    expectError(await api.get(`/v1/sources/${s.id}`), 404, "not_found");
    expect((await api.get<Page<Source>>("/v1/sources?limit=250")).body.data.map((x) => x.id)).not.toContain(s.id);
  });

  it("defaults max_body_bytes to 10 MiB", async () => {
    const s = await createSource(api);
    expect(s.max_body_bytes).toBe(DEFAULT_MAX_BODY_BYTES);
    expect(DEFAULT_MAX_BODY_BYTES).toBe(10 * 1024 * 1024);
  });
});

describe("destinations", () => {
  it("generates a signing secret, shows it in full once, masks it afterwards and stores it encrypted", async () => {
    const url = receiverUrl(uniqueName());
    const res = await api.post<Destination>("/v1/destinations", { name: "orders", type: "http", config: { url, headers: { "x-api-key": "abc" } } });
    expectStatus(res, 201);
    const d = res.body;
    expect(d.id).toMatch(/^dst_[0-9a-f]{32}$/);
    expect(d).toMatchObject({ name: "orders", type: "http", enabled: true, managed_by: "api", retry_policy: DEFAULT_RETRY_POLICY, circuit_breaker: DEFAULT_CIRCUIT_BREAKER });
    expect(d.config).toMatchObject({ url, method: "POST", timeout_ms: 30_000, headers: { "x-api-key": "abc" } });
    const secret = d.config.signing_secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(fromBase64(secret.slice("whsec_".length)).length).toBe(32);
    const masked = `whsec_…${secret.slice(-4)}`;

    const got = await api.get<Destination>(`/v1/destinations/${d.id}`);
    expectStatus(got, 200);
    expect(got.body.config.signing_secret).toBe(masked);
    expect(got.text).not.toContain(secret.slice("whsec_".length, -4));
    const listed = await api.get<Page<Destination>>("/v1/destinations?limit=250");
    expect(listed.body.data.find((x) => x.id === d.id)?.config.signing_secret).toBe(masked);
    expect(listed.text).not.toContain(secret);

    const row = await env.DB.prepare("SELECT * FROM destinations WHERE id = ?1").bind(d.id).first<Record<string, unknown>>();
    expect(row).not.toBeNull();
    const rowText = JSON.stringify(row);
    expect(rowText).not.toContain(secret);
    expect(rowText).not.toContain(secret.slice("whsec_".length));
    expect(JSON.parse(row!.config as string).signing_secret).toBe(masked);
    expect(row!.secrets).toMatch(/^v1\./);
    expect(JSON.parse(await openSealed(row!.secrets as string))).toEqual({ signing_secret: secret });
  });

  it("accepts a caller-provided signing secret, keeps it across a config update, and updates other fields", async () => {
    const secret = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
    const d = await createDestination(api, {}, { signing_secret: secret });
    // A supplied secret is never echoed, not even by the create response.
    expect(d.config.signing_secret).toBe(`whsec_…${secret.slice(-4)}`);

    const newUrl = receiverUrl(uniqueName());
    const policy = { strategy: "fixed", max_retries: 3, interval_seconds: 10 };
    const patched = await api.patch<Destination>(`/v1/destinations/${d.id}`, {
      name: "renamed",
      enabled: false,
      config: { url: newUrl },
      retry_policy: policy,
      circuit_breaker: { failure_threshold: 3, cooldown_seconds: 30 },
    });
    expectStatus(patched, 200);
    expect(patched.body).toMatchObject({ name: "renamed", enabled: false, retry_policy: policy, circuit_breaker: { failure_threshold: 3, cooldown_seconds: 30 } });
    expect(patched.body.config).toMatchObject({ url: newUrl, signing_secret: `whsec_…${secret.slice(-4)}` });
    expect(patched.text).not.toContain(secret);

    const row = await env.DB.prepare("SELECT secrets FROM destinations WHERE id = ?1").bind(d.id).first<{ secrets: string }>();
    expect(JSON.parse(await openSealed(row!.secrets))).toEqual({ signing_secret: secret });
  });

  it("deletes an unused destination", async () => {
    const d = await createDestination(api);
    expectStatus(await api.delete(`/v1/destinations/${d.id}`), 204);
    expectError(await api.get(`/v1/destinations/${d.id}`), 404, "not_found");
  });

  it("reports a closed circuit and an empty dead letter queue for a new destination", async () => {
    const d = await createDestination(api);
    const circuit = await api.get(`/v1/destinations/${d.id}/circuit`);
    expectStatus(circuit, 200);
    expect(circuit.body).toEqual({ state: "closed", consecutive_failures: 0, opened_at: null, queue_depth: 0 });
    const dlq = await api.get(`/v1/destinations/${d.id}/dlq`);
    expectStatus(dlq, 200);
    expect(dlq.body).toEqual({ data: [], next_cursor: null });
  });
});

describe("connections", () => {
  it("create, read, update, list with filters and delete", async () => {
    const [s1, s2] = [await createSource(api), await createSource(api)];
    const dst = await createDestination(api);
    const created = await api.post<Connection>("/v1/connections", { name: "first", source_id: s1.id, destination_id: dst.id });
    expectStatus(created, 201);
    const c = created.body;
    expect(c.id).toMatch(/^con_[0-9a-f]{32}$/);
    expect(c).toMatchObject({ name: "first", source_id: s1.id, destination_id: dst.id, enabled: true, managed_by: "api" });
    const other = await createConnection(api, s2.id, dst.id);
    expect(other.name).toBeNull();

    expect((await api.get<Connection>(`/v1/connections/${c.id}`)).body).toEqual(c);

    const patched = await api.patch<Connection>(`/v1/connections/${c.id}`, { enabled: false, name: null });
    expectStatus(patched, 200);
    expect(patched.body).toMatchObject({ id: c.id, enabled: false, name: null, source_id: s1.id });

    const bySource = await api.get<Page<Connection>>(`/v1/connections?source_id=${s1.id}`);
    expect(bySource.body.data.map((x) => x.id)).toEqual([c.id]);
    const byDestination = await api.get<Page<Connection>>(`/v1/connections?destination_id=${dst.id}`);
    expect(byDestination.body.data.map((x) => x.id).sort()).toEqual([c.id, other.id].sort());

    expectStatus(await api.delete(`/v1/connections/${c.id}`), 204);
    expectError(await api.get(`/v1/connections/${c.id}`), 404, "not_found");
    expect((await api.get<Page<Connection>>(`/v1/connections?destination_id=${dst.id}`)).body.data.map((x) => x.id)).toEqual([other.id]);
  });
});

describe("pagination", () => {
  it("walks every item exactly once, newest first, with next_cursor null on the last page", async () => {
    const t = await seedTenant();
    const c = client(t.key);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await createSource(c)).id);
    const walked = await pages(c, "/v1/sources", 3);
    expect(walked.map((p) => p.length)).toEqual([3, 3, 1]);
    const flat = walked.flat();
    expect(new Set(flat).size).toBe(7);
    expect([...flat].sort()).toEqual([...ids].sort());
    expect(flat).toEqual([...flat].sort().reverse());

    const exact = await c.get<Page<Source>>("/v1/sources?limit=7");
    expect(exact.body.data).toHaveLength(7);
    expect(exact.body.next_cursor).toBeNull();
  });

  it("pages destinations and connections the same way", async () => {
    const t = await seedTenant();
    const c = client(t.key);
    const src = await createSource(c);
    const dsts: string[] = [];
    for (let i = 0; i < 4; i++) dsts.push((await createDestination(c)).id);
    for (const d of dsts) await createConnection(c, src.id, d);
    expect((await pages(c, "/v1/destinations", 3)).map((p) => p.length)).toEqual([3, 1]);
    expect((await pages(c, "/v1/connections", 2)).map((p) => p.length)).toEqual([2, 2]);
  });
});

describe("events", () => {
  it("lists events filtered by source_id and status, and pages through them", async () => {
    const t = await seedTenant();
    const c = client(t.key);
    const quiet = await createSource(c);
    const routed = await createSource(c);
    // A disabled destination holds its queue, so the routed event stays "processing" for the test.
    const held = await createDestination(c, { enabled: false });
    await createConnection(c, routed.id, held.id);

    const quietEvents = [await ingest(quiet.id), await ingest(quiet.id)];
    const routedEvent = await ingest(routed.id);

    const all = await c.get<Page<EventSummary>>("/v1/events");
    expectStatus(all, 200);
    expect(all.body.data.map((e) => e.id).sort()).toEqual([...quietEvents, routedEvent].sort());

    const bySource = await c.get<Page<EventSummary>>(`/v1/events?source_id=${quiet.id}`);
    expect(bySource.body.data.map((e) => e.id).sort()).toEqual([...quietEvents].sort());
    expect(bySource.body.data.every((e) => e.source_id === quiet.id && e.status === "received")).toBe(true);

    const received = await c.get<Page<EventSummary>>("/v1/events?status=received");
    expect(received.body.data.map((e) => e.id).sort()).toEqual([...quietEvents].sort());
    const processing = await c.get<Page<EventSummary>>("/v1/events?status=processing");
    expect(processing.body.data.map((e) => e.id)).toEqual([routedEvent]);
    const none = await c.get<Page<EventSummary>>(`/v1/events?source_id=${quiet.id}&status=processing`);
    expect(none.body.data).toEqual([]);

    expect((await pages(c, "/v1/events", 2)).map((p) => p.length)).toEqual([2, 1]);
    expect((await pages(c, `/v1/events?source_id=${quiet.id}`, 1)).flat().sort()).toEqual([...quietEvents].sort());
  });
});

describe("OpenAPI document", () => {
  it("is OpenAPI 3.1 and lists exactly the REST routes the app serves", async () => {
    const res = await request<OpenApiDocument>("GET", "/v1/openapi.json");
    expectStatus(res, 200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    expect(doc.servers?.[0]?.url).toBe("/v1");
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(expect.arrayContaining(["Error", "Source", "Destination", "Connection", "Event"]));

    const documented = documentRoutes(doc).map((r) => key({ ...r, path: `/v1${r.path}` })).sort();
    const served = servedRoutes().filter((r) => r.includes(" /v1/") && r !== "GET /v1/openapi.json" && !r.includes("/v1/ingest/"));
    expect(served.length).toBeGreaterThan(20);
    expect(documented).toEqual(served);
    for (const r of documentRoutes(doc)) {
      const op = doc.paths[r.path]![r.method]!;
      expect(Object.keys(op.responses), key(r)).toContain("401");
    }
  });

  it("documents the ingest endpoint, and it is the only route declared public", async () => {
    const doc = (await request<OpenApiDocument>("GET", "/v1/openapi.json")).body;
    expect(servedRoutes()).toContain("ALL /v1/ingest/{source_id}");
    expect(publicDocumentRoutes(doc)).toEqual([{ method: "post", path: "/ingest/{source_id}" }]);
  });
});

// Projects and API keys are managed with sessions now: see accounts.test.ts.
