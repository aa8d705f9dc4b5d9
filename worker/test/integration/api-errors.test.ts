import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_STATUS, type ErrorCode } from "../../src/lib/errors.js";
import { client, expectError, expectStatus, hex32, request, type Client } from "../helpers/api.js";
import { createConnection, createDestination, createSource } from "../helpers/fixtures.js";
import { countRows, seedTenant, type SeededTenant } from "../helpers/seed.js";
import { sessionClient, signUp, type SessionClient } from "../helpers/session.js";
import type { Destination, Source } from "../helpers/types.js";

let tenant: SeededTenant;
let api: Client;
let source: Source;
let destination: Destination;
/** People, projects and keys are managed with a session (API keys may not). */
let owner: SessionClient;

beforeAll(async () => {
  const u = await signUp();
  owner = sessionClient(u.cookie, { project: u.env_id });
  tenant = await seedTenant();
  api = client(tenant.key);
  source = await createSource(api);
  destination = await createDestination(api);
});

const json = { "content-type": "application/json" };

describe("malformed JSON", () => {
  it.each([
    ["POST", "/v1/sources", "{bad"],
    ["POST", "/v1/connections", '{"source_id":'],
    ["POST", "/v1/api-keys", "[1,2"],
    ["POST", "/v1/environments", ""],
    ["POST", "/v1/invitations", "{"],
    ["PATCH", "/v1/org", "nope"],
  ])("%s %s with %j → 400 invalid_json", async (method, path, raw) => {
    const by = path.startsWith("/v1/api-keys") || path.startsWith("/v1/environments") || path.startsWith("/v1/invitations") || path.startsWith("/v1/org") ? owner : api;
    expectError(await by.request(method, path, { raw, headers: json }), 400, "invalid_json");
  });

  it("PATCH with a broken body → 400 invalid_json and nothing changes", async () => {
    expectError(await api.request("PATCH", `/v1/destinations/${destination.id}`, { raw: "{'name': 'x'}", headers: json }), 400, "invalid_json");
    expect((await api.get<Destination>(`/v1/destinations/${destination.id}`)).body.name).toBe(destination.name);
  });
});

describe("validation", () => {
  it("rejects an unknown top-level field, naming it", async () => {
    const before = await countRows("sources");
    const e = expectError(await api.post("/v1/sources", { name: "x", bogus: 1 }), 400, "validation_failed");
    expect(e.message).toContain("bogus");
    expect(await countRows("sources")).toBe(before);
  });

  it("rejects an unknown nested field with its path", async () => {
    const e = expectError(
      await api.post("/v1/destinations", {
        name: "d", type: "http", config: { url: "https://example.com" },
        retry_policy: { strategy: "fixed", max_retries: 1, interval_seconds: 1, jitter: true },
      }),
      400, "validation_failed",
    );
    expect(e.message).toMatch(/^retry_policy: /);
    expect(e.message).toContain("jitter");
    expect(e.details).toEqual({ issues: [expect.objectContaining({ path: "retry_policy" })] });
  });

  it("rejects an unknown field inside a destination's config, prefixed with config", async () => {
    const e = expectError(await api.post("/v1/destinations", { name: "d", type: "http", config: { url: "https://example.com", verb: "POST" } }), 400, "validation_failed");
    expect(e.message).toMatch(/^config: /);
    expect(e.message).toContain("verb");
  });

  it.each([
    { path: "/v1/connections", body: { source_id: `src_${"0".repeat(32)}`, destination_id: `dst_${"0".repeat(32)}`, rules: [] }, field: "rules" },
    { path: "/v1/api-keys", body: { name: "k", scopes: ["all"] }, field: "scopes" },
    { path: "/v1/environments", body: { name: "e", region: "eu" }, field: "region" },
    { path: "/v1/invitations", body: { email: "a@example.com", role: "viewer", message: "hi" }, field: "message" },
  ])("POST $path rejects the unknown field $field", async ({ path, body, field }) => {
    const e = expectError(await (path === "/v1/connections" ? api : owner).post(path, body), 400, "validation_failed");
    expect(e.message).toContain(field);
  });

  it("rejects an unknown field on PATCH", async () => {
    const e = expectError(await api.patch(`/v1/sources/${source.id}`, { name: "x", secret: "y" }), 400, "validation_failed");
    expect(e.message).toContain("secret");
  });

  it("names the field path of a wrong type or value", async () => {
    expect(expectError(await api.post("/v1/sources", { name: 5 }), 400, "validation_failed").message).toMatch(/^name: /);
    expect(expectError(await api.post("/v1/sources", { name: "x", max_body_bytes: -1 }), 400, "validation_failed").message).toMatch(/^max_body_bytes: /);
    expect(expectError(await api.post("/v1/destinations", { name: "d", type: "http", config: { url: "ftp://example.com" } }), 400, "validation_failed").message).toMatch(/^config\.url: /);
    expect(expectError(await api.post("/v1/destinations", { name: "d", type: "http", config: { url: "https://example.com", signing_secret: "nope" } }), 400, "validation_failed").message).toMatch(/^config\.signing_secret: /);
    expect(expectError(await api.post("/v1/sources", {}), 400, "validation_failed").message).toMatch(/^name: /);
  });

  it.each(["limit=0", "limit=251", "limit=ten", `cursor=${"a".repeat(65)}`, "status=lost"])("rejects list query %s", async (q) => {
    expectError(await api.get(`/v1/events?${q}`), 400, "validation_failed");
  });
});

describe("ids", () => {
  const malformed = ["nope", `src_${"0".repeat(31)}`, `src_${"A".repeat(32)}`, `src_${"0".repeat(32)}x`, "src_../../etc"];

  it.each(["sources", "destinations", "connections", "events"])("malformed ids on /v1/%s/{id} → 400 on every method", async (resource) => {
    for (const id of malformed) {
      const e = expectError(await api.get(`/v1/${resource}/${encodeURIComponent(id)}`), 400, "validation_failed");
      expect(e.message).toMatch(/^id: /);
    }
    if (resource !== "events") {
      expectError(await api.patch(`/v1/${resource}/nope`, {}), 400, "validation_failed");
      expectError(await api.delete(`/v1/${resource}/nope`), 400, "validation_failed");
    }
  });

  it("an id of the wrong kind → 400", async () => {
    expectError(await api.get(`/v1/sources/${destination.id}`), 400, "validation_failed");
    expectError(await api.get(`/v1/destinations/${source.id}`), 400, "validation_failed");
    expectError(await owner.delete(`/v1/api-keys/${source.id}`), 400, "validation_failed");
    expectError(await api.post(`/v1/events/${source.id}/retry`), 400, "validation_failed");
  });

  it("malformed ids in bodies and filters → 400", async () => {
    expectError(await api.post("/v1/connections", { source_id: "nope", destination_id: destination.id }), 400, "validation_failed");
    expectError(await api.post("/v1/connections", { source_id: source.id, destination_id: source.id }), 400, "validation_failed");
    expectError(await api.get("/v1/events?source_id=nope"), 400, "validation_failed");
    expectError(await api.get("/v1/connections?destination_id=nope"), 400, "validation_failed");
    expectError(await api.get("/v1/delivery-attempts?event_id=nope"), 400, "validation_failed");
    expectError(await api.post(`/v1/destinations/${destination.id}/dlq/redrive`, { ids: ["nope"] }), 400, "validation_failed");
  });

  it("well-formed ids that do not exist → 404 on every route with an id", async () => {
    const id = (p: string) => `${p}_${hex32()}`;
    const cases: [string, string, unknown?][] = [
      ["GET", `/v1/sources/${id("src")}`], ["PATCH", `/v1/sources/${id("src")}`, { name: "x" }], ["DELETE", `/v1/sources/${id("src")}`],
      ["GET", `/v1/destinations/${id("dst")}`], ["PATCH", `/v1/destinations/${id("dst")}`, { name: "x" }], ["DELETE", `/v1/destinations/${id("dst")}`],
      ["GET", `/v1/destinations/${id("dst")}/circuit`], ["GET", `/v1/destinations/${id("dst")}/dlq`], ["POST", `/v1/destinations/${id("dst")}/dlq/redrive`, {}],
      ["GET", `/v1/connections/${id("con")}`], ["PATCH", `/v1/connections/${id("con")}`, { enabled: false }], ["DELETE", `/v1/connections/${id("con")}`],
      ["GET", `/v1/events/${id("evt")}`], ["GET", `/v1/events/${id("evt")}/attempts`], ["POST", `/v1/events/${id("evt")}/retry`],
      ["DELETE", `/v1/api-keys/${id("key")}`], ["DELETE", `/v1/environments/${id("env")}`], ["PATCH", `/v1/projects/${id("env")}`, { name: "x" }],
      ["PATCH", `/v1/members/${id("mem")}`, { role: "viewer" }], ["DELETE", `/v1/members/${id("mem")}`], ["DELETE", `/v1/invitations/${id("inv")}`],
    ];
    for (const [method, path, body] of cases) {
      const by = /\/v1\/(api-keys|environments|projects|members|invitations)/.test(path) ? owner : api;
      const res = await by.request(method, path, body === undefined ? {} : { json: body });
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(404);
      expectError(res, 404, "not_found");
    }
  });
});

describe("tenancy and integrity", () => {
  it("a connection to another tenant's destination or source → 400, and none is created", async () => {
    const other = client((await seedTenant("other")).key);
    const foreignDst = await createDestination(other);
    const foreignSrc = await createSource(other);
    const before = await countRows("connections");
    const e1 = expectError(await api.post("/v1/connections", { source_id: source.id, destination_id: foreignDst.id }), 400, "validation_failed");
    expect(e1.message).toMatch(/^destination_id: /);
    const e2 = expectError(await api.post("/v1/connections", { source_id: foreignSrc.id, destination_id: destination.id }), 400, "validation_failed");
    expect(e2.message).toMatch(/^source_id: /);
    expect(await countRows("connections")).toBe(before);
  });

  it("deleting a destination still used by a connection → 409; it can be deleted once the connection is gone", async () => {
    const dst = await createDestination(api);
    const con = await createConnection(api, source.id, dst.id);
    expectError(await api.delete(`/v1/destinations/${dst.id}`), 409, "conflict");
    expectStatus(await api.get(`/v1/destinations/${dst.id}`), 200);
    expectStatus(await api.delete(`/v1/connections/${con.id}`), 204);
    expectStatus(await api.delete(`/v1/destinations/${dst.id}`), 204);
  });

  it("an incomplete sink config or an unknown type → 400 naming the field", async () => {
    const before = await countRows("destinations");
    // Sink types exist now: an incomplete config is a 400 naming the missing config field.
    const sqs = expectError(await api.post("/v1/destinations", { name: "q", type: "sqs", config: { queue_url: "https://sqs.example.com/1/q" } }), 400, "validation_failed");
    expect(sqs.message).toMatch(/config\.(access_key_id|secret_access_key)/);
    const kafka = expectError(await api.post("/v1/destinations", { name: "q", type: "kafka", config: { rest_url: "https://kafka.example.com", topic: "t" } }), 400, "validation_failed");
    expect(kafka.message).toMatch(/config\.cluster_id/);
    const unknown = expectError(await api.post("/v1/destinations", { name: "q", type: "carrier-pigeon", config: {} }), 400, "validation_failed");
    expect(unknown.message).toMatch(/^type: /);
    expect(await countRows("destinations")).toBe(before);
  });
});

describe("routing and error shape", () => {
  it("an unknown route → 404 with the error shape", async () => {
    expectError(await request("GET", "/nope"), 404, "not_found");
    expectError(await request("POST", "/v1"), 401, "unauthorized");
    expectError(await api.get("/v1/nope"), 404, "not_found");
    expectError(await api.get("/v1/sources/extra/segments/here"), 404, "not_found");
    expectError(await api.request("PUT", "/v1/sources"), 404, "not_found");
  });

  it("a missing, malformed or unknown key → 401 with the error shape", async () => {
    expectError(await request("GET", "/v1/sources"), 401, "unauthorized");
    expectError(await request("GET", "/v1/sources", { headers: { authorization: `Basic ${btoa("a:b")}` } }), 401, "unauthorized");
    expectError(await request("GET", "/v1/sources", { headers: { authorization: "Bearer hs_live_short" } }), 401, "unauthorized");
    expectError(await request("GET", "/v1/sources", { key: `hs_live_${"0".repeat(64)}` }), 401, "unauthorized");
  });

  it("an internal error → 500 with a generic message and no internals", async () => {
    const dst = await createDestination(api);
    // Corrupt the sealed secret so that merging a config update has to fail while decrypting.
    await env.DB.prepare("UPDATE destinations SET secrets = 'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAA' WHERE id = ?1").bind(dst.id).run();
    const res = await api.patch(`/v1/destinations/${dst.id}`, { config: { timeout_ms: 1000 } });
    const e = expectError(res, 500, "internal");
    expect(e).toEqual({ code: "internal", message: "internal error" });
    expect(res.text).not.toMatch(/decrypt|OperationError|crypto|AES/i);
  });

  it("every error code agrees with its HTTP status (a non-JSON content type)", async () => {
    const res = await api.request("POST", "/v1/sources", { raw: '{"name":"x"}', headers: { "content-type": "text/plain" } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const code = (res.body as { error: { code: ErrorCode } }).error.code;
    expect(ERROR_STATUS[code], `code ${code} with HTTP ${res.status}`).toBe(res.status);
  });
});
