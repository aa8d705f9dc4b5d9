import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.js";
import { declaredIds, loadGatewayConfig, splitSecrets, type GatewayConfigInput } from "../../src/config/index.js";
import { migrate } from "../../src/db/migrate.js";
import { database } from "../../src/db/client.js";
import { organizations } from "../../src/db/schema/index.js";
import { planApply } from "../../src/declared/apply.js";
import { MIGRATIONS } from "../../src/db/migrations.generated.js";
import { syncDeclaredConfig, syncOnSchedule, type ConfigHealth } from "../../src/declared/sync.js";
import { redactSecrets } from "../../src/declared/redact.js";
import { client, expectError, expectStatus, ORIGIN, request } from "../helpers/api.js";
import { createConnection, createDestination, receivedBy, receiverUrl, uniqueName, waitFor } from "../helpers/fixtures.js";
import { openSealed } from "../helpers/secrets.js";
import { seedKey } from "../helpers/seed.js";
import { authPost, signIn, uniqueEmail } from "../helpers/session.js";
import type { Connection, Destination, Source } from "../helpers/types.js";

type Env = typeof env;

const OWNER = uniqueEmail("owner");
const receiver = uniqueName("declared");
const GITHUB_SECRET_A = "github-secret-aaaaaaaa";
const GITHUB_SECRET_B = "github-secret-bbbbbbbb";

function baseConfig(): GatewayConfigInput {
  return {
    version: 1,
    project: { organization: `acme-${receiver}`, name: "production", owners: [OWNER] },
    sources: [
      { name: "github", template: "github", verification: { secret: GITHUB_SECRET_A }, declared_in: "infra/index.ts:14" },
      { name: "plain", description: "no verification", declared_in: "infra/index.ts:15" },
    ],
    destinations: [{ name: "orders", type: "http", config: { url: receiverUrl(receiver) }, declared_in: "infra/index.ts:20" }],
    connections: [
      {
        name: "plain-to-orders",
        source: "plain",
        destination: "orders",
        filters: [{ field: "body.type", op: "eq", value: "order.created" }],
        transform: '{ "order": body.id }',
        declared_in: "infra/index.ts:25",
      },
      { name: "github-to-orders", source: "github", destination: "orders", declared_in: "infra/index.ts:30" },
    ],
  };
}

/** The bindings infra would set: the config with its secrets split out. */
function bindingsFor(config: GatewayConfigInput): Env {
  const split = splitSecrets(config);
  return { ...env, GATEWAY_CONFIG: JSON.stringify(split.config), GATEWAY_SECRETS: JSON.stringify(split.secrets) };
}

const sync = (config: GatewayConfigInput) => syncDeclaredConfig(bindingsFor(config));

async function workerFetch(e: Env, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(new Request(`${ORIGIN}${path}`, init) as Request<unknown, IncomingRequestCfProperties>, e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function hmacHex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return [...new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function githubPost(sourceId: string, secret: string, body = JSON.stringify({ zen: "hi" })) {
  return request<{ event_id: string }>("POST", `/v1/ingest/${sourceId}`, {
    raw: body,
    headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": crypto.randomUUID(), "x-hub-signature-256": `sha256=${await hmacHex(secret, body)}` },
  });
}

const rows = async (table: string, where = "managed_by = 'config'") =>
  (await env.DB.prepare(`SELECT * FROM ${table} WHERE ${where} ORDER BY id`).all<Record<string, unknown>>()).results;

let ids: {
  org_id: string;
  env_id: string;
  sources: Record<"github" | "plain", string>;
  destinations: Record<"orders", string>;
  connections: Record<"plain-to-orders" | "github-to-orders", string>;
};
let api: ReturnType<typeof client>;

beforeAll(async () => {
  ids = (await declaredIds(env.ENCRYPTION_KEY, baseConfig())) as typeof ids;
});

describe("applying the declared config", () => {
  it("creates the org, project and declared rows under derived ids, marked config", async () => {
    const health = await sync(baseConfig());
    expect(health).toMatchObject({ status: "applied", hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(health.applied_hash).toBe(health.hash);

    expect(await env.DB.prepare("SELECT name FROM organizations WHERE id = ?").bind(ids.org_id).first()).toEqual({ name: `acme-${receiver}` });
    expect(await env.DB.prepare("SELECT org_id, name FROM environments WHERE id = ?").bind(ids.env_id).first()).toEqual({ org_id: ids.org_id, name: "production" });
    const sources = await rows("sources", `env_id = '${ids.env_id}'`);
    expect(sources.map((s) => s.id).sort()).toEqual([ids.sources.github, ids.sources.plain].sort());
    expect(sources.every((s) => s.managed_by === "config")).toBe(true);

    api = client((await seedKey({ org_id: ids.org_id, env_id: ids.env_id })).key);
    const github = await api.get<Source & { declared_in: string }>(`/v1/sources/${ids.sources.github}`);
    expectStatus(github, 200);
    expect(github.body).toMatchObject({ name: "github", managed_by: "config", declared_in: "infra/index.ts:14", ingest_url: `${ORIGIN}/v1/ingest/${ids.sources.github}` });
    expect(github.text).not.toContain(GITHUB_SECRET_A);
    const stored = await env.DB.prepare("SELECT config, secrets FROM sources WHERE id = ?").bind(ids.sources.github).first<{ config: string; secrets: string }>();
    expect(stored!.config).not.toContain(GITHUB_SECRET_A);
    expect(JSON.parse(await openSealed(stored!.secrets))).toEqual({ verification: [{ value: GITHUB_SECRET_A, expires_at: null }] });

    const dst = await api.get<Destination & { declared_in: string }>(`/v1/destinations/${ids.destinations.orders}`);
    expect(dst.body).toMatchObject({ name: "orders", type: "http", managed_by: "config", declared_in: "infra/index.ts:20" });
    const con = await api.get<Connection & { declared_in: string }>(`/v1/connections/${ids.connections["plain-to-orders"]}`);
    expect(con.body).toMatchObject({ source_id: ids.sources.plain, destination_id: ids.destinations.orders, transform: '{ "order": body.id }', managed_by: "config", declared_in: "infra/index.ts:25" });
  });

  it("re-applying the same config changes nothing (and is skipped by hash)", async () => {
    const before = await rows("destinations");
    const secretBefore = (before.find((d) => d.id === ids.destinations.orders) as { secrets: string }).secrets;
    const health = await sync(baseConfig());
    expect(health.status).toBe("applied");
    expect(await rows("destinations")).toEqual(before);
    // Forced through a new hash (a cosmetic change): the generated signing secret is kept.
    const c = baseConfig();
    c.project.owners = [OWNER, OWNER.toUpperCase()];
    expect((await sync(c)).status).toBe("applied");
    const after = (await rows("destinations")).find((d) => d.id === ids.destinations.orders) as { secrets: string };
    expect(JSON.parse(await openSealed(after.secrets)).signing_secret).toBe(JSON.parse(await openSealed(secretBefore)).signing_secret);
  });

  it("ingest through a declared source's derived id routes through the declared connection (filter + transform)", async () => {
    const skipped = await request<{ event_id: string }>("POST", `/v1/ingest/${ids.sources.plain}`, { raw: JSON.stringify({ type: "order.cancelled", id: "o-0" }), headers: { "content-type": "application/json" } });
    expectStatus(skipped, 202);
    const res = await request<{ event_id: string }>("POST", `/v1/ingest/${ids.sources.plain}`, { raw: JSON.stringify({ type: "order.created", id: "o-1" }), headers: { "content-type": "application/json" } });
    expectStatus(res, 202);
    const delivery = await env.DB.prepare("SELECT connection_id, destination_id FROM deliveries WHERE event_id = ?").bind(res.body.event_id).first();
    expect(delivery).toEqual({ connection_id: ids.connections["plain-to-orders"], destination_id: ids.destinations.orders });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE event_id = ?").bind(skipped.body.event_id).first()).toEqual({ n: 0 });
    const got = await waitFor(async () => (await receivedBy(receiver)).find((r) => atob(r.body_base64).includes("o-1")), "delivery to the receiver");
    expect(JSON.parse(atob(got.body_base64))).toEqual({ order: "o-1" });
    expect(got.headers["webhook-signature"]).toMatch(/^v1,/);
  });

  it("refuses API changes to managed rows with 409 naming the file; runtime reads stay", async () => {
    const patch = expectError(await api.patch(`/v1/sources/${ids.sources.github}`, { description: "x" }), 409, "managed_by_config");
    expect(patch.message).toBe('source "github" is declared in infra/index.ts:14; change it there and deploy');
    expect(patch.details).toEqual({ declared_in: "infra/index.ts:14", name: "github" });
    expectError(await api.delete(`/v1/sources/${ids.sources.github}`), 409, "managed_by_config");
    expectError(await api.post(`/v1/sources/${ids.sources.github}/rotate-secret`, { secret: "new-secret-value" }), 409, "managed_by_config");
    const d = expectError(await api.patch(`/v1/destinations/${ids.destinations.orders}`, { enabled: false }), 409, "managed_by_config");
    expect(d.message).toBe('destination "orders" is declared in infra/index.ts:20; change it there and deploy');
    expectError(await api.delete(`/v1/destinations/${ids.destinations.orders}`), 409, "managed_by_config");
    const c = expectError(await api.patch(`/v1/connections/${ids.connections["plain-to-orders"]}`, { enabled: false }), 409, "managed_by_config");
    expect(c.details).toEqual({ declared_in: "infra/index.ts:25", name: "plain-to-orders" });
    expectError(await api.delete(`/v1/connections/${ids.connections["plain-to-orders"]}`), 409, "managed_by_config");
    expectStatus(await api.get(`/v1/destinations/${ids.destinations.orders}/dlq`), 200);
    expectStatus(await api.post(`/v1/destinations/${ids.destinations.orders}/dlq/redrive`, {}), 202);
  });

  it("a changed source secret is rotated with the default grace: the old one keeps verifying", async () => {
    expectStatus(await githubPost(ids.sources.github, GITHUB_SECRET_A), 202);
    const c = baseConfig();
    c.sources![0]!.verification = { secret: GITHUB_SECRET_B };
    const before = Date.now();
    expect((await sync(c)).status).toBe("applied");
    const stored = await env.DB.prepare("SELECT secrets FROM sources WHERE id = ?").bind(ids.sources.github).first<{ secrets: string }>();
    const secrets = JSON.parse(await openSealed(stored!.secrets)).verification as { value: string; expires_at: number | null }[];
    expect(secrets[0]).toEqual({ value: GITHUB_SECRET_B, expires_at: null });
    expect(secrets[1]!.value).toBe(GITHUB_SECRET_A);
    expect(secrets[1]!.expires_at).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(secrets[1]!.expires_at).toBeLessThanOrEqual(Date.now() + 86_400_000);
    expectStatus(await githubPost(ids.sources.github, GITHUB_SECRET_B), 202);
    expectStatus(await githubPost(ids.sources.github, GITHUB_SECRET_A), 202);
    expectError(await githubPost(ids.sources.github, "github-secret-wrong"), 401);
    // Applying the same secrets again keeps the grace secret.
    c.project.owners = [OWNER, "second@example.com"];
    expect((await sync(c)).status).toBe("applied");
    expectStatus(await githubPost(ids.sources.github, GITHUB_SECRET_A), 202);
  });

  it("a declared owner's sign-up joins the declared organization as owner", async () => {
    const password = `pw-${crypto.randomUUID()}`;
    const up = await authPost("/sign-up/email", { email: OWNER, password, name: "Owner" });
    expect(up.status).toBe(200);
    const cookie = await signIn(OWNER, password);
    const me = await request<{ organizations: { id: string; role: string }[] }>("GET", "/v1/me", { headers: { cookie } });
    expectStatus(me, 200);
    expect(me.body.organizations).toEqual([expect.objectContaining({ id: ids.org_id, role: "owner" })]);
    const sources = await request<{ data: { id: string }[] }>("GET", "/v1/sources", { headers: { cookie, "x-hookstream-org": ids.org_id, "x-hookstream-project": ids.env_id } });
    expectStatus(sources, 200);
    expect(sources.body.data.map((s) => s.id)).toContain(ids.sources.github);
  });

  it("an existing user named as owner becomes an owner at apply", async () => {
    const email = uniqueEmail("later-owner");
    const password = `pw-${crypto.randomUUID()}`;
    expect((await authPost("/sign-up/email", { email, password, name: "Later" })).status).toBe(200);
    const c = baseConfig();
    c.project.owners = [OWNER, email];
    expect((await sync(c)).status).toBe("applied");
    const cookie = await signIn(email, password);
    const me = await request<{ organizations: { id: string; role: string }[] }>("GET", "/v1/me", { headers: { cookie } });
    expect(me.body.organizations).toEqual(expect.arrayContaining([expect.objectContaining({ id: ids.org_id, role: "owner" })]));
  });

  it("an invalid config is never applied: the last good rows stay, /healthz says rejected without secrets", async () => {
    const before = await rows("connections");
    const bad = baseConfig();
    bad.connections![0]!.source = "nope";
    bad.sources![0]!.verification = { secret: GITHUB_SECRET_B };
    const e = bindingsFor(bad);
    const res = await workerFetch(e, "/healthz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; config: ConfigHealth };
    expect(body.ok).toBe(true);
    expect(body.config.status).toBe("rejected");
    expect(body.config.applied_hash).not.toBe(body.config.hash);
    expect(body.config.issues).toEqual(['infra/index.ts:25: connection "plain-to-orders": source: no source named "nope" is declared']);
    expect(JSON.stringify(body)).not.toContain(GITHUB_SECRET_B);
    expect(await rows("connections")).toEqual(before);
    const state = await env.DB.prepare("SELECT last_status, last_issues FROM config_state").first<{ last_status: string; last_issues: string }>();
    expect(state!.last_status).toBe("rejected");
    // Ingest keeps working on the last good config.
    expectStatus(await request("POST", `/v1/ingest/${ids.sources.plain}`, { raw: "{}", headers: { "content-type": "application/json" } }), 202);
  });

  it("a secret quoted in a validation message is redacted", async () => {
    expect(redactSecrets(['source "x": verification.secret: "s3cr3t-value" is too short'], JSON.stringify({ "sources/x/verification.secret": "s3cr3t-value" }))).toEqual([
      'source "x": verification.secret: "[secret]" is too short',
    ]);
    const bad = baseConfig();
    bad.destinations!.push({ name: "q", type: "sqs", config: { queue_url: "not a url", region: "us-east-1", access_key_id: "AKIAEXAMPLE", secret_access_key: "not a url" } });
    const health = await sync(bad);
    expect(health.status).toBe("rejected");
    expect(JSON.stringify(health.issues)).not.toContain("not a url");
  });

  it("a change is applied; removed rows go (API connections on a removed source with them), events stay", async () => {
    const apiDest = await createDestination(api);
    const apiConn = await createConnection(api, ids.sources.plain, apiDest.id);
    const eventsBefore = (await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE source_id = ?").bind(ids.sources.plain).first<{ n: number }>())!.n;
    expect(eventsBefore).toBeGreaterThan(0);

    const c = baseConfig();
    c.sources = c.sources!.filter((s) => s.name !== "plain");
    c.connections = c.connections!.filter((x) => x.source !== "plain");
    c.connections![0]!.filters = [{ field: "headers.x-github-event", op: "eq", value: "push" }];
    const health = await sync(c);
    expect(health.status).toBe("applied");
    expect(await env.DB.prepare("SELECT id FROM sources WHERE id = ?").bind(ids.sources.plain).first()).toBeNull();
    expect(await env.DB.prepare("SELECT id FROM connections WHERE id IN (?, ?)").bind(ids.connections["plain-to-orders"], apiConn.id).first()).toBeNull();
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE source_id = ?").bind(ids.sources.plain).first<{ n: number }>())!.n).toBe(eventsBefore);
    // The API-created destination is not the config's to remove.
    expectStatus(await api.get(`/v1/destinations/${apiDest.id}`), 200);
    const con = await api.get<Connection>(`/v1/connections/${ids.connections["github-to-orders"]}`);
    expect(con.body.filters).toEqual([{ field: "headers.x-github-event", op: "eq", value: "push" }]);
    expectError(await request("POST", `/v1/ingest/${ids.sources.plain}`, { raw: "{}" }), 404);
  });

  it("removing a destination removes it the way the API's DELETE does; its deliveries stay", async () => {
    const deliveries = (await env.DB.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE destination_id = ?").bind(ids.destinations.orders).first<{ n: number }>())!.n;
    const c = baseConfig();
    c.sources = [c.sources![0]!];
    c.sources[0]!.verification = { secret: GITHUB_SECRET_B };
    c.destinations = [];
    c.connections = [];
    expect((await sync(c)).status).toBe("applied");
    expect(await env.DB.prepare("SELECT id FROM destinations WHERE id = ?").bind(ids.destinations.orders).first()).toBeNull();
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE destination_id = ?").bind(ids.destinations.orders).first<{ n: number }>())!.n).toBe(deliveries);
    expect(await rows("connections")).toEqual([]);
    // Back to the full config: the same ids come back.
    expect((await sync(baseConfig())).status).toBe("applied");
    expectStatus(await api.get(`/v1/connections/${ids.connections["plain-to-orders"]}`), 200);
  });

  it("an apply that fails half-way writes nothing; the next run applies it", async () => {
    const c = baseConfig();
    c.sources![1]!.description = "after the crash";
    const loaded = await loadGatewayConfig(bindingsFor(c), { allowPrivateDestinations: true });
    if (loaded.status !== "ok") throw new Error("config should be valid");
    const db = database(env.DB);
    const stateBefore = await env.DB.prepare("SELECT applied_hash FROM config_state").first();
    const { batch } = await planApply(db, env.ENCRYPTION_KEY, loaded.config, loaded.hash, Date.now());
    // A statement that fails between the upserts and the new applied_hash, like a crash of D1 mid-batch.
    const poison = db.insert(organizations).values({ id: "org_poison", name: null as unknown as string, created_at: 0 });
    await expect(db.batch([...batch.slice(0, -1), poison, batch.at(-1)!] as unknown as [typeof poison])).rejects.toThrow();
    expect(await env.DB.prepare("SELECT description FROM sources WHERE id = ?").bind(ids.sources.plain).first()).toEqual({ description: "no verification" });
    expect(await env.DB.prepare("SELECT applied_hash FROM config_state").first()).toEqual(stateBefore);
    expect((await sync(c)).status).toBe("applied");
    expect(await env.DB.prepare("SELECT description FROM sources WHERE id = ?").bind(ids.sources.plain).first()).toEqual({ description: "after the crash" });
  });

  it("concurrent applies of the same config are harmless", async () => {
    const c = baseConfig();
    c.project.owners = [];
    const results = await Promise.all([sync(c), sync(c), sync(c)]);
    expect(results.map((r) => r.status)).toEqual(["applied", "applied", "applied"]);
    expect((await rows("sources", `env_id = '${ids.env_id}' AND managed_by = 'config'`)).length).toBe(2);
    expect((await rows("connections", `env_id = '${ids.env_id}' AND managed_by = 'config'`)).length).toBe(2);
  });
});

describe("self-migration and the once-per-isolate check", () => {
  async function resetScratch(): Promise<D1Database> {
    const db = env.SCRATCH_DB;
    const { results } = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{ name: string }>();
    for (const { name } of results) await db.prepare(`DROP TABLE IF EXISTS "${name}"`).run();
    return db;
  }

  it("an empty D1 comes up: migrations applied in wrangler's d1_migrations format, /healthz answers, the config applies", async () => {
    const none = await request<{ ok: boolean; config: ConfigHealth }>("GET", "/healthz");
    expect(none.body).toMatchObject({ ok: true, config: { status: "none", hash: null } });
    // The isolate's first request on this database migrates it (a memo per database).
    const db = await resetScratch();
    const res = await workerFetch({ ...bindingsFor(baseConfig()), DB: db }, "/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, config: { status: "applied" } });
    expect(await db.prepare("SELECT COUNT(*) AS n FROM sources WHERE managed_by = 'config'").first()).toEqual({ n: 2 });
    const applied = await db.prepare("SELECT id, name, applied_at FROM d1_migrations ORDER BY id").all<{ id: number; name: string; applied_at: string }>();
    expect(applied.results.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(applied.results[0]!.applied_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await migrate(db)).toEqual([]);
  });

  it("after the first request of an isolate, the check touches no D1", async () => {
    let queries = 0;
    const counted = new Proxy(env.DB, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (prop === "prepare" || prop === "batch" || prop === "exec") queries++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const e = { ...bindingsFor(baseConfig()), DB: counted };
    expect((await workerFetch(e, "/healthz")).status).toBe(200);
    expect(queries).toBeGreaterThan(0);
    const after = queries;
    expect((await workerFetch(e, "/healthz")).status).toBe(200);
    expect((await workerFetch(e, "/healthz")).status).toBe(200);
    expect(queries).toBe(after);
  });

  it("an apply D1 refuses is reported as failed, not retried by every request, and retried by the cron tick", async () => {
    let refuse = true;
    let batches = 0;
    const flaky = new Proxy(env.DB, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (prop === "batch") {
            batches++;
            if (refuse && (args[0] as unknown[]).length > 3) return Promise.reject(new Error("D1_ERROR: simulated outage"));
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const c = baseConfig();
    c.sources![1]!.description = "after an outage";
    const e = { ...bindingsFor(c), DB: flaky };
    const first = (await (await workerFetch(e, "/healthz")).json()) as { config: ConfigHealth };
    expect(first.config.status).toBe("failed");
    expect(first.config.issues).toEqual(["the apply failed; it is retried within a minute"]);
    expect(JSON.stringify(first)).not.toContain("simulated");
    const seen = batches;
    expect(((await (await workerFetch(e, "/healthz")).json()) as { config: ConfigHealth }).config.status).toBe("failed");
    expect(batches).toBe(seen);
    refuse = false;
    expect((await syncOnSchedule(e)).status).toBe("applied");
    expect(((await (await workerFetch(e, "/healthz")).json()) as { config: ConfigHealth }).config.status).toBe("applied");
    expect(await env.DB.prepare("SELECT description FROM sources WHERE id = ?").bind(ids.sources.plain).first()).toEqual({ description: "after an outage" });
  });

  it("several isolates racing on an empty D1 apply each migration once", async () => {
    const db = await resetScratch();
    const results = await Promise.all([migrate(db), migrate(db), migrate(db), migrate(db)]);
    expect(results.flat().sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    const applied = await db.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{ name: string }>();
    expect(applied.results.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
  });

  it("picks up where wrangler left off, and a failing migration leaves nothing behind", async () => {
    const db = await resetScratch();
    await migrate(db, MIGRATIONS.slice(0, 2));
    const broken = [...MIGRATIONS.slice(0, 2), { name: "0002_broken.sql", statements: ["CREATE TABLE half_done (id text)", "CREATE TABLE nope ("] }];
    await expect(migrate(db, broken)).rejects.toThrow();
    expect(await db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").first()).toBeNull();
    expect(await db.prepare("SELECT name FROM d1_migrations WHERE name = '0002_broken.sql'").first()).toBeNull();
    expect(await migrate(db)).toEqual(["0002_declared_config.sql"]);
  });
});
