// config:plan's routing diff: declarations against the rows a gateway's API returns.
import { describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../worker/src/config/index.js";
import { maskSecret } from "../../worker/src/lib/crypto.js";
import { DEFAULT_RETRY_POLICY } from "../../worker/src/model/types.js";
import { getProvider } from "../../worker/src/providers/destinations/registry.js";
import { covers, diffRouting, type CurrentState } from "../../scripts/config/diff.js";

const SECRET = "whsec_c3RyaXBlLXNlY3JldC1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==";

const declared = (): GatewayConfigInput => ({
  version: 1,
  project: { organization: "acme", name: "production" },
  sources: [{ name: "stripe", template: "stripe", verification: { secret: SECRET }, declared_in: "infra/routing.ts:3" }],
  destinations: [{ name: "orders", type: "http", config: { url: "https://orders.example.com/hook" }, declared_in: "infra/routing.ts:4" }],
  connections: [
    {
      name: "stripe-to-orders",
      source: "stripe",
      destination: "orders",
      filters: [{ field: "body.type", op: "eq", value: "checkout.session.completed" }],
      declared_in: "infra/routing.ts:5",
    },
  ],
});

/** What the API answers for a gateway that applied declared(): defaults filled in, secrets masked. */
const live = (): CurrentState => ({
  sources: [
    {
      id: "src_1",
      name: "stripe",
      description: null,
      template: "stripe",
      verification: { type: "timestamped_hmac", header: "stripe-signature", secrets: [{ secret: maskSecret(SECRET), expires_at: null }] },
      ip_allowlist: [],
      ip_denylist: [],
      dedup: null,
      rate_limit: null,
      max_body_bytes: 10 * 1024 * 1024,
      response: null,
      managed_by: "config",
      declared_in: "infra/routing.ts:3",
    },
    { id: "src_api", name: "hand-made", managed_by: "api" },
  ],
  destinations: [
    {
      id: "dst_1",
      name: "orders",
      type: "http",
      config: { ...(getProvider("http")!.configSchema.parse({ url: "https://orders.example.com/hook" }) as object), signing_secret: "whsec_…abcd" },
      retry_policy: DEFAULT_RETRY_POLICY,
      circuit_breaker: { failure_threshold: 5, cooldown_seconds: 60 },
      rate_limit: null,
      max_in_flight: 10,
      ordered: false,
      enabled: true,
      managed_by: "config",
    },
  ],
  connections: [
    {
      id: "con_1",
      name: "stripe-to-orders",
      source_id: "src_1",
      destination_id: "dst_1",
      filters: [{ field: "body.type", op: "eq", value: "checkout.session.completed" }],
      transform: null,
      schema: null,
      schema_mode: "reject",
      enabled: true,
      managed_by: "config",
      declared_in: "infra/routing.ts:5",
    },
    { id: "con_api", name: null, source_id: "src_api", destination_id: "dst_1", managed_by: "api" },
  ],
});

describe("diffRouting", () => {
  it("finds nothing to change when the gateway runs what is declared (defaults and masks are not changes)", () => {
    const diff = diffRouting(declared(), live(), (v) => v === SECRET);
    expect(diff.changes).toEqual([]);
    expect(diff.unchanged.map((u) => `${u.kind}:${u.name}`)).toEqual(["source:stripe", "destination:orders", "connection:stripe-to-orders"]);
    expect(diff.unmanaged).toEqual([
      { kind: "source", id: "src_api", name: "hand-made" },
      { kind: "connection", id: "con_api", name: null },
    ]);
  });

  it("reports added, changed (field by field) and removed declarations, matched by name", () => {
    const c = declared();
    c.connections![0]!.filters = [{ field: "body.type", op: "in", value: ["checkout.session.completed", "invoice.paid"] }];
    c.connections![0]!.transform = "{ 'id': body.id }";
    c.destinations![0]!.config = { url: "https://orders.example.com/v2" };
    c.destinations![0]!.retry_policy = { strategy: "fixed", max_retries: 3, interval_seconds: 10 };
    c.connections!.push({ name: "stripe-to-audit", source: "stripe", destination: "orders", declared_in: "infra/routing.ts:9" });
    c.sources = [...c.sources!, { name: "github", template: "github", verification: { secret: "gh" } }];
    const state = live();
    state.destinations.push({ id: "dst_old", name: "legacy", type: "http", config: { url: "https://x.example.com" }, managed_by: "config", declared_in: "infra/old.ts:1" });

    const diff = diffRouting(c, state);
    const summary = diff.changes.map((ch) => `${ch.action} ${ch.kind} ${ch.name}`);
    expect(summary).toEqual(["add source github", "change destination orders", "remove destination legacy", "change connection stripe-to-orders", "add connection stripe-to-audit"]);
    const dst = diff.changes.find((ch) => ch.name === "orders")!;
    expect(dst.id).toBe("dst_1");
    expect(dst.changes.map((f) => f.field)).toEqual(["config.url", "retry_policy"]);
    expect(dst.changes[0]).toEqual({ field: "config.url", from: '"https://orders.example.com/hook"', to: '"https://orders.example.com/v2"' });
    const con = diff.changes.find((ch) => ch.name === "stripe-to-orders")!;
    expect(con.changes.map((f) => f.field)).toEqual(["filters", "transform"]);
    expect(con.changes[1]).toEqual({ field: "transform", from: "(none)", to: `"{ 'id': body.id }"` });
    expect(diff.changes.find((ch) => ch.name === "legacy")!.declared_in).toBe("infra/old.ts:1");
    expect(diff.changes.find((ch) => ch.name === "stripe-to-audit")!.declared_in).toBe("infra/routing.ts:9");
  });

  it("says a secret changed only when the declared value is known, and never prints it", () => {
    const c = declared();
    const other = "whsec_b3RoZXItc2VjcmV0LWZvci10ZXN0cy0wMTIzNDU2Nzg5MDE=";
    (c.sources![0]!.verification as { secret: string }).secret = other;
    const unknown = diffRouting(c, live(), () => false);
    expect(unknown.changes).toEqual([]);
    const known = diffRouting(c, live(), (v) => v === other);
    expect(known.changes).toEqual([{ kind: "source", name: "stripe", action: "change", id: "src_1", declared_in: "infra/routing.ts:3", changes: [{ field: "verification.secret", secret: true }] }]);
    expect(JSON.stringify(known)).not.toContain(other);
  });

  it("compares left-out fields with the gateway's defaults", () => {
    const state = live();
    state.connections[0]!.enabled = false;
    state.destinations[0]!.max_in_flight = 3;
    state.sources[0]!.ip_allowlist = ["10.0.0.0/8"];
    const fields = diffRouting(declared(), state).changes.flatMap((ch) => ch.changes.map((f) => `${ch.name}.${f.field}: ${f.from} → ${f.to}`));
    expect(fields).toEqual(['stripe.ip_allowlist: ["10.0.0.0/8"] → []', "orders.max_in_flight: 3 → 10", "stripe-to-orders.enabled: false → true"]);
  });

  it("reports a connection moved to another source or destination", () => {
    const c = declared();
    c.destinations!.push({ name: "audit", type: "http", config: { url: "https://audit.example.com" } });
    c.connections![0]!.destination = "audit";
    const con = diffRouting(c, live()).changes.find((ch) => ch.kind === "connection")!;
    expect(con.changes).toEqual([{ field: "destination", from: "orders", to: "audit" }]);
  });

  it("does not report what the cloud assigns to a created sink (IAM key id, the account in a queue URL)", () => {
    const c = declared();
    c.destinations!.push({
      name: "q",
      type: "sqs",
      config: { queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/hookstream-q", region: "us-east-1", access_key_id: "AKIAMOCKED000000", secret_access_key: "mocked-secret-0123456789" },
    });
    const state = live();
    const row = (queue: string) => ({
      id: "dst_q",
      name: "q",
      type: "sqs",
      config: {
        ...(getProvider("sqs")!.configSchema.parse({ queue_url: `https://sqs.us-east-1.amazonaws.com/987654321098/${queue}`, region: "us-east-1", access_key_id: "AKIAREAL00000000", secret_access_key: "real-secret-0123456789" }) as object),
        secret_access_key: "…real",
      },
      retry_policy: DEFAULT_RETRY_POLICY,
      circuit_breaker: { failure_threshold: 5, cooldown_seconds: 60 },
      max_in_flight: 10,
      ordered: false,
      enabled: true,
      managed_by: "config" as const,
    });
    expect(diffRouting(c, { ...state, destinations: [...state.destinations, row("hookstream-q")] }).changes).toEqual([]);
    const renamed = diffRouting(c, { ...state, destinations: [...state.destinations, row("hookstream-old")] }).changes;
    expect(renamed.flatMap((ch) => ch.changes.map((f) => f.field))).toEqual(["config.queue_url"]);
  });
});

describe("covers", () => {
  it("lets the gateway add keys but not change or drop declared ones", () => {
    expect(covers({ a: 1 }, { a: 1, b: 2 })).toBe(true);
    expect(covers({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(covers([1, { x: 1 }], [1, { x: 1, y: 0 }])).toBe(true);
    expect(covers([1], [1, 2])).toBe(false);
    expect(covers(null, undefined)).toBe(true);
    expect(covers("a", "b")).toBe(false);
  });
});
