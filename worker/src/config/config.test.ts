import { describe, expect, it } from "vitest";
import { checkGatewayConfig, formatIssues } from "./validate.js";
import { joinSecrets, splitSecrets } from "./secrets.js";
import { declaredIds } from "./ids.js";
import { configHash, loadGatewayConfig } from "./load.js";
import type { GatewayConfigInput } from "./schema.js";

const good = (): GatewayConfigInput => ({
  version: 1,
  project: { organization: "acme", name: "production", owners: ["ops@acme.test"] },
  sources: [{ name: "stripe", template: "stripe", verification: { secret: "whsec_test123" }, declared_in: "infra/index.ts:10" }],
  destinations: [
    { name: "orders", type: "http", config: { url: "https://orders.example.com/hook", signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }, declared_in: "infra/index.ts:11" },
  ],
  connections: [
    {
      name: "stripe-to-orders",
      source: "stripe",
      destination: "orders",
      filters: [{ field: "body.type", op: "eq", value: "checkout.session.completed" }],
      transform: '{ "id": body.id }',
      declared_in: "infra/index.ts:12",
    },
  ],
});

describe("checkGatewayConfig", () => {
  it("accepts a whole config and fills defaults", () => {
    const r = checkGatewayConfig(good());
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config.connections[0]!.source).toBe("stripe");
  });

  it("names the declaration and its file for each problem", () => {
    const c = good();
    c.connections![0]!.source = "strpe";
    (c.connections![0]!.filters as { op: string }[])[0]!.op = "equals";
    c.connections![0]!.transform = "{ id: ";
    c.sources!.push({ name: "stripe", template: "stripe", verification: { secret: "x" }, declared_in: "infra/index.ts:20" });
    c.destinations![0]!.config = { url: "http://169.254.169.254/latest" };
    const r = checkGatewayConfig(c);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = formatIssues(r.issues);
    expect(text).toContain('infra/index.ts:12: connection "stripe-to-orders": source: no source named "strpe" is declared');
    expect(text).toMatch(/infra\/index\.ts:12: connection "stripe-to-orders": filters\.0\.op/);
    expect(text).toMatch(/infra\/index\.ts:12: connection "stripe-to-orders": transform: /);
    expect(text).toContain('infra/index.ts:20: source "stripe": name: another source is already declared with this name (infra/index.ts:10)');
    expect(text).toMatch(/infra\/index\.ts:11: destination "orders": config\.url: unsafe URL: points at a private/);
  });

  it("refuses an unknown template and a missing template secret", () => {
    const c = good();
    c.sources = [{ name: "a", template: "nope" as never, verification: { secret: "x" } }, { name: "b", template: "github" }];
    const r = checkGatewayConfig(c);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => `${i.declaration} ${i.path}`)).toEqual(expect.arrayContaining(['source "a" template']));
    const c2 = good();
    c2.sources = [{ name: "b", template: "github" }];
    c2.connections = [];
    const r2 = checkGatewayConfig(c2);
    expect(r2.ok ? [] : formatIssues(r2.issues)).toContain('source "b": verification.secret: required by template github');
  });

  it("allows private URLs only when asked (local peers)", () => {
    const c = good();
    c.destinations![0]!.config = { url: "http://127.0.0.1:9999/hook" };
    expect(checkGatewayConfig(c).ok).toBe(false);
    expect(checkGatewayConfig(c, { allowPrivateDestinations: true }).ok).toBe(true);
  });
});

describe("secrets split and join", () => {
  it("takes every secret out and puts it back", () => {
    const c = good();
    c.destinations!.push({ name: "q", type: "sqs", config: { queue_url: "https://sqs.us-east-1.amazonaws.com/1/q", region: "us-east-1", access_key_id: "AKIA1", secret_access_key: "s3cr3t" } });
    const { config, secrets } = splitSecrets(c);
    expect(JSON.stringify(config)).not.toContain("whsec_test123");
    expect(JSON.stringify(config)).not.toContain("s3cr3t");
    expect(secrets).toEqual({
      "sources/stripe/verification.secret": "whsec_test123",
      "destinations/orders/config.signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "destinations/q/config.secret_access_key": "s3cr3t",
    });
    expect(joinSecrets(config, secrets)).toEqual(c);
    expect(() => joinSecrets(config, { "sources/nope/verification.secret": "x" })).toThrow(/names no declared source/);
  });
});

describe("declared ids", () => {
  it("are stable, keyed and distinct", async () => {
    const a = await declaredIds("key-1", good());
    expect(a).toEqual(await declaredIds("key-1", good()));
    expect(a.sources.stripe).toMatch(/^src_[0-9a-f]{32}$/);
    expect(a.org_id).toMatch(/^org_[0-9a-f]{32}$/);
    expect(a.env_id).toMatch(/^env_[0-9a-f]{32}$/);
    expect((await declaredIds("key-2", good())).sources.stripe).not.toBe(a.sources.stripe);
    const other = good();
    other.project.name = "staging";
    expect((await declaredIds("key-1", other)).sources.stripe).not.toBe(a.sources.stripe);
  });
});

describe("loadGatewayConfig", () => {
  it("loads split bindings, hashes secrets too, reports bad JSON", async () => {
    const { config, secrets } = splitSecrets(good());
    const ok = await loadGatewayConfig({ GATEWAY_CONFIG: JSON.stringify(config), GATEWAY_SECRETS: JSON.stringify(secrets) });
    expect(ok.status).toBe("ok");
    const changed = await loadGatewayConfig({ GATEWAY_CONFIG: config, GATEWAY_SECRETS: { ...secrets, "sources/stripe/verification.secret": "whsec_other" } });
    expect(changed.status === "ok" && ok.status === "ok" && changed.hash !== ok.hash).toBe(true);
    expect(await loadGatewayConfig({})).toEqual({ status: "none" });
    const bad = await loadGatewayConfig({ GATEWAY_CONFIG: "{nope" });
    expect(bad.status).toBe("invalid");
    expect(await configHash({ b: 1, a: [1, { d: 2, c: 3 }] }, {})).toBe(await configHash({ a: [1, { c: 3, d: 2 }], b: 1 }, {}));
  });
});
