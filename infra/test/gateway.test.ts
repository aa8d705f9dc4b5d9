import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { BINDINGS, DURABLE_OBJECT_CLASSES, SECRET_BINDINGS } from "../../worker/src/bindings.js";
import { declaredIds } from "../../worker/src/config/index.js";
import type { CompileLocallyResult } from "../hookstream/local.js";
import { StackConfigError } from "../hookstream/stack-config.js";
import { all, compileExample, only, SCRIPT, SECRETS } from "./helpers.js";

const value = <T>(o: pulumi.Input<T>) => (pulumi.output(o) as unknown as { promise(): Promise<T> }).promise();
const secret = (o: pulumi.Input<unknown>) => pulumi.isSecret(pulumi.output(o));

let r: CompileLocallyResult;
beforeAll(async () => {
  r = await compileExample();
});

describe("the platform", () => {
  it("provisions D1, KV and R2 named after the stack, and the Worker uses them", () => {
    const db = only(r.resources, "cloudflare:index/d1Database:D1Database");
    const kv = only(r.resources, "cloudflare:index/workersKvNamespace:WorkersKvNamespace");
    const r2 = only(r.resources, "cloudflare:index/r2Bucket:R2Bucket");
    expect([db.inputs.name, kv.inputs.title, r2.inputs.name]).toEqual(["hookstream-dev", "hookstream-dev", "hookstream-dev-bodies"]);
    for (const x of [db, kv, r2]) expect(x.inputs.accountId).toBe("0123456789abcdef0123456789abcdef");
    const bindings = only(r.resources, SCRIPT).inputs.bindings as Record<string, string>[];
    expect(bindings.find((b) => b.name === "DB")).toEqual({ name: "DB", type: "d1", id: db.state.uuid });
    expect(bindings.find((b) => b.name === "KV")).toEqual({ name: "KV", type: "kv_namespace", namespaceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(bindings.find((b) => b.name === "BODIES")).toEqual({ name: "BODIES", type: "r2_bucket", bucketName: "hookstream-dev-bodies" });
  });

  it("uploads the esbuild bundle as an ES module with wrangler.jsonc's compatibility settings", () => {
    const s = only(r.resources, SCRIPT).inputs;
    expect(s.scriptName).toBe("hookstream-dev");
    expect(s.mainModule).toBe("index.js");
    expect(s.compatibilityDate).toBe("2026-04-20");
    expect(s.compatibilityFlags).toEqual(["nodejs_compat"]);
    expect(s.content).toMatch(/export\s*\{[^}]*DeliveryScheduler/);
    expect(s.content).toMatch(/export\s*\{[^}]*\bdefault\b/);
    expect(s.observability).toEqual({ enabled: true });
  });

  it("binds every Durable Object class and creates them through append-only migrations", () => {
    const s = only(r.resources, SCRIPT).inputs;
    const durable = (s.bindings as Record<string, string>[]).filter((b) => b.type === "durable_object_namespace");
    expect(durable).toEqual(Object.entries(DURABLE_OBJECT_CLASSES).map(([k, className]) => ({ name: BINDINGS[k as keyof typeof DURABLE_OBJECT_CLASSES], type: "durable_object_namespace", className })));
    expect(s.migrations).toEqual({
      newTag: "v3",
      steps: [{ newSqliteClasses: ["DeliveryScheduler"] }, { newSqliteClasses: ["SourceGuard"] }, { newSqliteClasses: ["WebSocketHub"] }],
    });
  });

  it("binds plain vars as plain_text and secrets as secret_text from secret Outputs", async () => {
    const byName = Object.fromEntries(r.gateway.bindings.map((b) => [b.name, b]));
    for (const name of [BINDINGS.encryptionKey, BINDINGS.betterAuthSecret, BINDINGS.gatewaySecrets]) {
      expect(byName[name]?.type, name).toBe("secret_text");
      expect(await secret(byName[name]!.text as pulumi.Input<string>), name).toBe(true);
    }
    for (const name of [BINDINGS.gatewayConfig, BINDINGS.publicUrl, BINDINGS.notifyFrom, BINDINGS.resendBaseUrl, BINDINGS.allowPrivateDestinations]) {
      expect(byName[name]?.type, name).toBe("plain_text");
      expect(await secret(byName[name]!.text as pulumi.Input<string>), name).toBe(false);
    }
    expect(await value(byName[BINDINGS.encryptionKey]!.text as string)).toBe(SECRETS["hookstream:encryptionKey"]);
    expect(await value(byName[BINDINGS.allowPrivateDestinations]!.text as string)).toBe("false");
    expect(await value(byName[BINDINGS.publicUrl]!.text as string)).toBe("https://hookstream-dev.acme.workers.dev");
    // RESEND_API_KEY is optional: bound only when set.
    expect(byName[BINDINGS.resendApiKey]).toBeUndefined();
    const withResend = await compileExample({ config: { "hookstream:resendApiKey": "re_test_123" } });
    const resend = withResend.gateway.bindings.find((b) => b.name === BINDINGS.resendApiKey)!;
    expect(resend.type).toBe("secret_text");
    expect(await secret(resend.text as pulumi.Input<string>)).toBe(true);
    expect(SECRET_BINDINGS).toEqual(expect.arrayContaining([BINDINGS.encryptionKey, BINDINGS.betterAuthSecret, BINDINGS.resendApiKey, BINDINGS.gatewaySecrets]));
  });

  it("runs the delivery sweep every minute and answers on workers.dev", () => {
    const cron = only(r.resources, "cloudflare:index/workersCronTrigger:WorkersCronTrigger").inputs;
    expect(cron).toMatchObject({ scriptName: "hookstream-dev", schedules: [{ cron: "* * * * *" }] });
    const sub = only(r.resources, "cloudflare:index/workersScriptSubdomain:WorkersScriptSubdomain").inputs;
    expect(sub).toMatchObject({ scriptName: "hookstream-dev", enabled: true, previewsEnabled: false });
    expect(all(r.resources, "cloudflare:index/workersCustomDomain:WorkersCustomDomain")).toHaveLength(0);
  });

  it("serves the dashboard's static files as Workers assets", () => {
    const assets = only(r.resources, SCRIPT).inputs.assets;
    expect(assets.directory).toMatch(/dashboard\/public$/);
    expect(assets.config).toEqual({ htmlHandling: "auto-trailing-slash", notFoundHandling: "none" });
  });

  it("a custom domain replaces workers.dev, and a route can be added", async () => {
    const c = await compileExample({
      config: {
        "hookstream:workersDevSubdomain": "",
        "hookstream:customDomain": JSON.stringify({ hostname: "hooks.acme.example", zoneId: "z".repeat(32) }),
        "hookstream:route": JSON.stringify({ pattern: "hooks.acme.example/v1/ingest/*", zoneId: "z".repeat(32) }),
      },
    });
    expect(only(c.resources, "cloudflare:index/workersCustomDomain:WorkersCustomDomain").inputs).toMatchObject({ hostname: "hooks.acme.example", service: "hookstream-dev", zoneId: "z".repeat(32) });
    expect(only(c.resources, "cloudflare:index/workersRoute:WorkersRoute").inputs).toMatchObject({ pattern: "hooks.acme.example/v1/ingest/*", script: "hookstream-dev" });
    expect(only(c.resources, "cloudflare:index/workersScriptSubdomain:WorkersScriptSubdomain").inputs.enabled).toBe(false);
    expect(c.outputs.apiUrl).toBe("https://hooks.acme.example/v1");
  });

  it("migrates an existing deployment from the tag it is at, and uploads none when it is current", async () => {
    const fromV1 = await compileExample({ config: { "hookstream:durableObjectsMigratedTo": "v1" } });
    expect(only(fromV1.resources, SCRIPT).inputs.migrations).toEqual({
      oldTag: "v1",
      newTag: "v3",
      steps: [{ newSqliteClasses: ["SourceGuard"] }, { newSqliteClasses: ["WebSocketHub"] }],
    });
    const current = await compileExample({ config: { "hookstream:durableObjectsMigratedTo": "v3" } });
    expect(only(current.resources, SCRIPT).inputs.migrations).toBeUndefined();
    await expect(compileExample({ config: { "hookstream:durableObjectsMigratedTo": "v9" } })).rejects.toThrow(/no migration with that tag \(tags: v1, v2, v3\)/);
  });
});

describe("stack outputs", () => {
  it("ingest URLs by declared name, from the same derived ids the Worker computes", async () => {
    const ids = await declaredIds(SECRETS["hookstream:encryptionKey"], r.config);
    expect(r.outputs.ingestUrls).toEqual({
      stripe: `https://hookstream-dev.acme.workers.dev/v1/ingest/${ids.sources.stripe}`,
      github: `https://hookstream-dev.acme.workers.dev/v1/ingest/${ids.sources.github}`,
    });
    expect(await secret(r.gateway.ingestUrls)).toBe(false);
    expect(r.outputs).toMatchObject({ apiUrl: "https://hookstream-dev.acme.workers.dev/v1", dashboardUrl: "https://hookstream-dev.acme.workers.dev/", workerName: "hookstream-dev", durableObjectMigrationTag: "v3" });
  });

  it("names the sinks it created", () => {
    expect(r.outputs.sinks).toEqual({
      "orders-queue": { type: "sqs", name: "https://sqs.us-east-1.amazonaws.com/123456789012/hookstream-dev-orders-queue", arn: "arn:aws:sqs:us-east-1:123456789012:hookstream-dev-orders-queue", created: true },
      "ci-events": { type: "pubsub", name: "hookstream-dev-ci-events", arn: "projects/acme-hookstream-dev/topics/hookstream-dev-ci-events", created: true },
    });
  });
});

describe("the compiled config", () => {
  it("carries every declaration with its file:line, secrets only in GATEWAY_SECRETS", async () => {
    expect(r.issues).toEqual([]);
    const plain = JSON.parse(r.bindings!.GATEWAY_CONFIG);
    const secrets = JSON.parse(r.bindings!.GATEWAY_SECRETS);
    expect(plain.sources.map((s: { name: string; declared_in: string }) => [s.name, s.declared_in])).toEqual([["stripe", "infra/routing.ts:13"], ["github", "infra/routing.ts:19"]]);
    expect(plain.connections.map((c: { name: string; source: string; destination: string }) => [c.name, c.source, c.destination])).toEqual([
      ["paid-orders", "stripe", "orders-queue"], ["stripe-to-fulfilment", "stripe", "fulfilment"], ["github-pushes", "github", "ci-events"],
    ]);
    expect(plain.connections[0].filters).toEqual([{ field: "body.type", op: "eq", value: "checkout.session.completed" }]);
    expect(plain.connections[0].transform).toMatch(/^\{ "order": body\.data\.object\.id/);
    expect(Object.keys(secrets).sort()).toEqual([
      "destinations/ci-events/config.service_account_json", "destinations/orders-queue/config.secret_access_key",
      "sources/github/verification.secret", "sources/stripe/verification.secret",
    ]);
    for (const v of Object.values(secrets)) expect(r.bindings!.GATEWAY_CONFIG).not.toContain(String(v).slice(0, 24));
    expect(await secret(r.gateway.gatewaySecrets)).toBe(true);
    expect(await secret(r.gateway.gatewayConfig)).toBe(false);
  });

  it("gives the SQS destination an IAM user allowed only sqs:SendMessage on that queue, its key as a secret", () => {
    const queue = only(r.resources, "aws:sqs/queue:Queue");
    expect(queue.inputs).toMatchObject({ name: "hookstream-dev-orders-queue", messageRetentionSeconds: 1_209_600 });
    const user = only(r.resources, "aws:iam/user:User");
    const policy = only(r.resources, "aws:iam/userPolicy:UserPolicy");
    expect(policy.inputs.user).toBe(user.state.name);
    expect(JSON.parse(policy.inputs.policy)).toEqual({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [queue.state.arn] }] });
    const key = only(r.resources, "aws:iam/accessKey:AccessKey");
    expect(key.inputs.user).toBe(user.state.name);
    const dest = JSON.parse(r.bindings!.GATEWAY_CONFIG).destinations.find((d: { name: string }) => d.name === "orders-queue");
    expect(dest.config).toEqual({ queue_url: queue.state.url, region: "us-east-1", access_key_id: expect.stringMatching(/^AKIA[0-9A-F]{16}$/) });
    expect(JSON.parse(r.bindings!.GATEWAY_SECRETS)["destinations/orders-queue/config.secret_access_key"]).toBe(key.state.secret);
  });

  it("gives the Pub/Sub destination a service account with publisher on that topic only, and its key", () => {
    const topic = only(r.resources, "gcp:pubsub/topic:Topic");
    const account = only(r.resources, "gcp:serviceaccount/account:Account");
    const member = only(r.resources, "gcp:pubsub/topicIAMMember:TopicIAMMember");
    expect(member.inputs).toEqual({ project: "acme-hookstream-dev", topic: `projects/acme-hookstream-dev/topics/${topic.inputs.name}`, role: "roles/pubsub.publisher", member: `serviceAccount:${account.state.email}` });
    expect(only(r.resources, "gcp:serviceaccount/key:Key").inputs.serviceAccountId).toBe(account.state.name);
    const key = JSON.parse(JSON.parse(r.bindings!.GATEWAY_SECRETS)["destinations/ci-events/config.service_account_json"]);
    expect(key.client_email).toBe(account.state.email);
    expect(key.private_key).toContain("PRIVATE KEY");
    const dest = JSON.parse(r.bindings!.GATEWAY_CONFIG).destinations.find((d: { name: string }) => d.name === "ci-events");
    expect(dest).toMatchObject({ type: "pubsub", ordered: true, config: { project_id: "acme-hookstream-dev", topic: "hookstream-dev-ci-events" } });
  });

  it("points created sinks at local peers when asked", async () => {
    const local = await compileExample({ peers: { awsEndpoint: "http://127.0.0.1:5000", pubsubEndpoint: "http://127.0.0.1:8085" } });
    expect(local.issues).toEqual([]);
    const config = JSON.parse(local.bindings!.GATEWAY_CONFIG);
    const byName = Object.fromEntries(config.destinations.map((d: { name: string }) => [d.name, d]));
    expect(byName["orders-queue"].config).toMatchObject({ queue_url: "http://127.0.0.1:5000/123456789012/hookstream-dev-orders-queue", endpoint: "http://127.0.0.1:5000" });
    expect(byName["ci-events"].config).toMatchObject({ endpoint: "http://127.0.0.1:8085", topic: "hookstream-dev-ci-events" });
    // The deploy path refuses the same private endpoints.
    expect(r.config.destinations?.every((d) => !JSON.stringify(d.config).includes("127.0.0.1"))).toBe(true);
  });
});

describe("stack config", () => {
  it("names every missing secret with the command that sets it", async () => {
    const err = await compileExample({ config: {} }).then(() => null, (e: unknown) => e);
    expect(err).toBeNull(); // all given by the helper
    const missing = await import("../hookstream/local.js").then((m) => m.compileLocally({ config: { "cloudflare:apiToken": "x" } })).then(() => null, (e: unknown) => e);
    expect(missing).toBeInstanceOf(StackConfigError);
    const text = (missing as Error).message;
    for (const k of ["hookstream:encryptionKey", "hookstream:authSecret", "hookstream:stripeWebhookSecret", "hookstream:githubWebhookSecret"]) expect(text).toContain(k);
  });

  it("refuses a malformed account id and a missing endpoint choice, all at once", async () => {
    const err = await compileExample({ config: { "hookstream:accountId": "nope", "hookstream:workersDevSubdomain": "" } }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StackConfigError);
    expect((err as StackConfigError).problems).toEqual([
      expect.stringContaining("hookstream:accountId must be the 32-hex-digit Cloudflare account id"),
      expect.stringContaining("pulumi config set hookstream:workersDevSubdomain"),
    ]);
  });

  it("refuses an encryption key that is not base64 of 32 bytes", async () => {
    await expect(compileExample({ config: { "hookstream:encryptionKey": "short" } })).rejects.toThrow(/hookstream:encryptionKey must be base64 of 32 bytes/);
  });
});
