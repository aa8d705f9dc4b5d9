// Issue 7 on the real runtime: a gateway started with a declared config (the GATEWAY_CONFIG /
// GATEWAY_SECRETS bindings infra sets) on an EMPTY D1 migrates itself, applies the config, and
// routes a signed webhook to a real receiver through the declared connection's filter and
// transform; the API refuses to change declared rows (409 naming the file); a restart with a
// changed config applies the change and removes what is no longer declared; an invalid config
// is refused while the last good one keeps working. This file runs its OWN wrangler dev.
import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { d1Query, freePort, startGateway, type Gateway } from "../../scripts/lib/gateway.mjs";
import { declaredIds, type DeclaredIds, type GatewayConfigInput } from "../../worker/src/config/index.js";
import { Api, ingest, type ConnectionView } from "./setup/api.js";
import { gatewayConfigVars, healthz, seedKeyFor } from "./setup/declared.js";
import { closeAll, startReceiver, type Receiver } from "./setup/receiver.js";

const GITHUB_SECRET = `gh-${randomBytes(12).toString("hex")}`;

let tmp: string;
let stateDir: string;
let port: number;
let gateway: Gateway | undefined;
let receiver: Receiver;
let ids: DeclaredIds;
let api: Api;
let restarts = 0;
const encryptionKey = randomBytes(32).toString("base64");

function config(version: 1 | 2): GatewayConfigInput {
  const orders = { name: "orders", type: "http" as const, config: { url: `${receiver.url}/orders` }, declared_in: "infra/index.ts:20" };
  const audit = { name: "audit", type: "http" as const, config: { url: `${receiver.url}/audit` }, declared_in: "infra/index.ts:21" };
  return {
    version: 1,
    project: { organization: "acme", name: "production", owners: [] },
    sources: [{ name: "github", template: "github", verification: { secret: GITHUB_SECRET }, declared_in: "infra/index.ts:14" }],
    destinations: version === 1 ? [orders, audit] : [orders],
    connections: [
      {
        name: "pushes",
        source: "github",
        destination: "orders",
        filters: [{ field: "headers.x-github-event", op: "eq", value: "push" }],
        transform: version === 1 ? '{ "repo": body.repository.name }' : '{ "repository": body.repository.name, "v": 2 }',
        declared_in: "infra/index.ts:30",
      },
      ...(version === 1 ? [{ name: "everything", source: "github", destination: "audit", declared_in: "infra/index.ts:31" }] : []),
    ],
  };
}

async function start(vars: Record<string, string>): Promise<Gateway> {
  await gateway?.stop();
  gateway = await startGateway({ port, stateDir, vars, log: path.join(tmp, `wrangler-${++restarts}.log`) });
  api = new Api(gateway.baseUrl, apiKey ?? "none");
  return gateway;
}
let apiKey: string | undefined;

function githubWebhook(event: string, payload: unknown) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac("sha256", GITHUB_SECRET).update(body).digest("hex")}`;
  return ingest(gateway!.baseUrl, ids.sources.github!, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": randomBytes(8).toString("hex"), "x-hub-signature-256": signature },
  });
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "hookstream-e2e-declared-"));
  stateDir = path.join(tmp, "state");
  await fs.mkdir(stateDir, { recursive: true });
  // Secrets but no `wrangler d1 migrations apply`: the D1 starts empty, as one Pulumi created.
  await fs.writeFile(path.join(stateDir, "secrets.json"), JSON.stringify({ ENCRYPTION_KEY: encryptionKey, BETTER_AUTH_SECRET: randomBytes(32).toString("base64") }));
  port = await freePort();
  receiver = await startReceiver();
  ids = await declaredIds(encryptionKey, config(1));
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await closeAll([receiver]);
  if (tmp && !process.env.HOOKSTREAM_E2E_KEEP) await fs.rm(tmp, { recursive: true, force: true });
});

describe("declared config on wrangler dev", () => {
  it("an empty D1 is migrated by the Worker and the config applied", async () => {
    await start(gatewayConfigVars(config(1)));
    const health = await healthz(gateway!.baseUrl);
    expect(health.config).toMatchObject({ status: "applied" });
    expect(health.config.applied_hash).toBe(health.config.hash);
    const [migrations] = await d1Query(stateDir, "SELECT name FROM d1_migrations ORDER BY id");
    expect(migrations!.map((r) => r.name)).toEqual(["0000_init.sql", "0001_warm_miracleman.sql", "0002_declared_config.sql"]);
    const [org] = await d1Query(stateDir, `SELECT name FROM organizations WHERE id = '${ids.org_id}'`);
    expect(org).toEqual([{ name: "acme" }]);
    apiKey = await seedKeyFor(stateDir, ids.org_id, ids.env_id);
    api = new Api(gateway!.baseUrl, apiKey);
  }, 90_000);

  it("a signed webhook to the declared source is delivered through the declared filter + transform", async () => {
    const push = await githubWebhook("push", { ref: "refs/heads/main", repository: { name: "hookstream" } });
    expect(push.status, JSON.stringify(push.body)).toBe(202);
    const ping = await githubWebhook("ping", { zen: "hi", repository: { name: "hookstream" } });
    expect(ping.status).toBe(202);
    const [order] = await receiver.waitForRequests(1, { filter: (r) => r.url === "/orders", what: "the push at /orders" });
    expect(JSON.parse(order!.body.toString())).toEqual({ repo: "hookstream" });
    await receiver.waitForRequests(2, { filter: (r) => r.url === "/audit", what: "both events at /audit" });
    expect(receiver.requests.filter((r) => r.url === "/orders")).toHaveLength(1);
    const unsigned = await ingest(gateway!.baseUrl, ids.sources.github!, { method: "POST", body: "{}", headers: { "content-type": "application/json", "x-github-event": "push" } });
    expect(unsigned.status).toBe(401);
  });

  it("the API reads declared rows and refuses to change them, naming the file", async () => {
    const con = await api.expect<ConnectionView & { managed_by: string; declared_in: string }>(200, "GET", `/v1/connections/${ids.connections.pushes}`);
    expect(con).toMatchObject({ managed_by: "config", declared_in: "infra/index.ts:30" });
    const patch = await api.request<{ error: { code: string; message: string; details: unknown } }>("PATCH", `/v1/connections/${ids.connections.pushes}`, { enabled: false });
    expect(patch.status).toBe(409);
    expect(patch.body.error).toEqual({
      code: "managed_by_config",
      message: 'connection "pushes" is declared in infra/index.ts:30; change it there and deploy',
      details: { declared_in: "infra/index.ts:30", name: "pushes" },
    });
    const del = await api.request<{ error: { code: string } }>("DELETE", `/v1/sources/${ids.sources.github}`);
    expect([del.status, del.body.error.code]).toEqual([409, "managed_by_config"]);
  });

  it("a restart with a changed config applies the change and removes what is no longer declared", async () => {
    const before = await healthz(gateway!.baseUrl);
    await start(gatewayConfigVars(config(2)));
    const health = await healthz(gateway!.baseUrl);
    expect(health.config.status).toBe("applied");
    expect(health.config.hash).not.toBe(before.config.hash);
    expect((await api.request("GET", `/v1/connections/${ids.connections.everything}`)).status).toBe(404);
    expect((await api.request("GET", `/v1/destinations/${ids.destinations.audit}`)).status).toBe(404);
    const sameSource = await api.expect<{ id: string; ingest_url: string }>(200, "GET", `/v1/sources/${ids.sources.github}`);
    expect(sameSource.ingest_url).toBe(`${gateway!.baseUrl}/v1/ingest/${ids.sources.github}`);

    const auditBefore = receiver.requests.filter((r) => r.url === "/audit").length;
    expect((await githubWebhook("push", { repository: { name: "gitops" } })).status).toBe(202);
    const orders = await receiver.waitForRequests(2, { filter: (r) => r.url === "/orders", what: "the second push at /orders" });
    expect(JSON.parse(orders[1]!.body.toString())).toEqual({ repository: "gitops", v: 2 });
    expect(receiver.requests.filter((r) => r.url === "/audit")).toHaveLength(auditBefore);
    // The events the removed connection delivered stay.
    const [events] = await d1Query(stateDir, `SELECT COUNT(*) AS n FROM events WHERE source_id = '${ids.sources.github}'`);
    expect(events![0]!.n).toBe(3);
  }, 90_000);

  it("an invalid config is refused: /healthz says rejected, the last good config keeps routing", async () => {
    const good = await healthz(gateway!.baseUrl);
    const bad = config(2);
    bad.connections![0]!.destination = "nowhere";
    await start(gatewayConfigVars(bad));
    const health = await healthz(gateway!.baseUrl);
    expect(health.config.status).toBe("rejected");
    expect(health.config.applied_hash).toBe(good.config.applied_hash);
    expect(health.config.issues).toEqual(['infra/index.ts:30: connection "pushes": destination: no destination named "nowhere" is declared']);
    expect(JSON.stringify(health)).not.toContain(GITHUB_SECRET);
    expect((await githubWebhook("push", { repository: { name: "still" } })).status).toBe(202);
    const orders = await receiver.waitForRequests(3, { filter: (r) => r.url === "/orders", what: "the third push at /orders" });
    expect(JSON.parse(orders[2]!.body.toString())).toEqual({ repository: "still", v: 2 });
  }, 90_000);
});
