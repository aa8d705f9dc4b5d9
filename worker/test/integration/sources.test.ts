// Issue 5 in workerd: a source verifies, filters by IP, limits, deduplicates and answers the
// way it is configured; every refusal stores nothing and is counted by reason.
import { createHmac } from "node:crypto";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { client, expectError, expectStatus, request, type Client } from "../helpers/api.js";
import { createConnection, createDestination, createSource, uniqueName } from "../helpers/fixtures.js";
import { seedTenant } from "../helpers/seed.js";
import type { Source } from "../helpers/types.js";

let api: Client;

beforeAll(async () => {
  api = client((await seedTenant()).key);
});

const SECRET_BYTES = new Uint8Array(24).fill(9);
const WHSEC = `whsec_${btoa(String.fromCharCode(...SECRET_BYTES))}`;
const OTHER_WHSEC = `whsec_${btoa(String.fromCharCode(...new Uint8Array(24).fill(3)))}`;

/** Signs like the Standard Webhooks spec: HMAC-SHA256 over `{id}.{timestamp}.{body}` with the decoded secret. */
function standardWebhooks(secret: string, body: string, opts: { id?: string; timestamp?: number } = {}): Record<string, string> {
  const id = opts.id ?? `msg_${uniqueName()}`;
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const sig = createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
  return { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${sig}` };
}

function send(sourceId: string, body: string, headers: Record<string, string> = {}) {
  return request<{ event_id: string; duplicate?: boolean }>("POST", `/v1/ingest/${sourceId}`, { raw: body, headers });
}

async function eventsOf(sourceId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE source_id = ?1").bind(sourceId).first<{ n: number }>();
  return row?.n ?? 0;
}

interface Stats {
  accepted: number;
  rejected: Record<string, number>;
  last_rejection: { reason: string; message: string } | null;
  last_event_at: string | null;
}

/** Rejections are counted after the response (waitUntil), so wait for the count to arrive. */
async function statsWhen(sourceId: string, done: (s: Stats) => boolean): Promise<Stats> {
  let last: Stats | undefined;
  for (let i = 0; i < 100; i++) {
    const res = await api.get<Stats>(`/v1/sources/${sourceId}/stats?window=1h`);
    expectStatus(res, 200);
    last = res.body;
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect.fail(`stats never matched; last: ${JSON.stringify(last)}`);
}

describe("verification at ingest", () => {
  let source: Source;
  beforeAll(async () => {
    source = await createSource(api, { verification: { type: "standard_webhooks", secret: WHSEC } });
  });

  it("accepts a correctly signed request and stores it", async () => {
    const body = JSON.stringify({ type: "invoice.paid", n: 1 });
    const res = await send(source.id, body, standardWebhooks(WHSEC, body));
    expectStatus(res, 202);
    const event = await api.get<{ id: string; body: string }>(`/v1/events/${res.body.event_id}`);
    expect(event.body.body).toBe(body);
  });

  it("refuses a wrong secret, a tampered body, a stale timestamp and a missing signature; stores none of them; counts each", async () => {
    const before = await eventsOf(source.id);
    const body = JSON.stringify({ n: 2 });
    const wrong = await send(source.id, body, standardWebhooks(OTHER_WHSEC, body));
    expect(expectError(wrong, 401, "unauthorized").message).not.toContain(WHSEC.slice(6, 20));
    expectError(await send(source.id, `${body} `, standardWebhooks(WHSEC, body)), 401, "unauthorized");
    const stale = standardWebhooks(WHSEC, body, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expectError(await send(source.id, body, stale), 401, "unauthorized");
    expectError(await send(source.id, body, { "content-type": "application/json" }), 401, "unauthorized");
    expect(await eventsOf(source.id)).toBe(before);
    const stats = await statsWhen(source.id, (s) => s.rejected.invalid_signature! >= 2 && s.rejected.stale_timestamp! >= 1 && s.rejected.missing_signature! >= 1);
    expect(stats.rejected).toMatchObject({ invalid_signature: 2, stale_timestamp: 1, missing_signature: 1, ip_denied: 0, duplicate: 0 });
    expect(stats.accepted).toBe(before);
    expect(stats.last_event_at).not.toBeNull();
  });

  it("never shows the secret: the API returns a masked hint", async () => {
    const res = await api.get<Source & { verification: { type: string; secrets: { secret: string; expires_at: string | null }[] } }>(`/v1/sources/${source.id}`);
    expectStatus(res, 200);
    expect(res.text).not.toContain(WHSEC);
    expect(res.body.verification.type).toBe("standard_webhooks");
    expect(res.body.verification.secrets).toEqual([{ secret: `whsec_…${WHSEC.slice(-4)}`, expires_at: null }]);
    const row = await env.DB.prepare("SELECT config, secrets FROM sources WHERE id = ?1").bind(source.id).first<{ config: string; secrets: string }>();
    expect(row!.config).not.toContain(WHSEC);
    expect(row!.secrets).not.toContain(WHSEC);
    expect(row!.secrets).toMatch(/^v1\./);
  });
});

describe("secret rotation", () => {
  it("keeps the previous secret valid through the grace period, then only the new one", async () => {
    const source = await createSource(api, { verification: { type: "standard_webhooks", secret: WHSEC } });
    const rotated = await api.post<{ verification: { secrets: { secret: string; expires_at: string | null }[] } }>(`/v1/sources/${source.id}/rotate-secret`, { secret: OTHER_WHSEC, grace_seconds: 3600 });
    expectStatus(rotated, 200);
    expect(rotated.text).not.toContain(OTHER_WHSEC);
    expect(rotated.body.verification.secrets.map((s) => s.expires_at === null)).toEqual([true, false]);
    const body = "{}";
    expectStatus(await send(source.id, body, standardWebhooks(OTHER_WHSEC, body)), 202);
    expectStatus(await send(source.id, body, standardWebhooks(WHSEC, body)), 202);

    // Ending the grace period at once leaves only the newest secret.
    const third = `whsec_${btoa(String.fromCharCode(...new Uint8Array(24).fill(5)))}`;
    expectStatus(await api.post(`/v1/sources/${source.id}/rotate-secret`, { secret: third, grace_seconds: 0 }), 200);
    expectStatus(await send(source.id, body, standardWebhooks(third, body)), 202);
    expectError(await send(source.id, body, standardWebhooks(OTHER_WHSEC, body)), 401, "unauthorized");
    expectError(await send(source.id, body, standardWebhooks(WHSEC, body)), 401, "unauthorized");
  });

  it("an expired grace secret stops verifying without any API call", async () => {
    const source = await createSource(api, { verification: { type: "standard_webhooks", secret: WHSEC } });
    expectStatus(await api.post(`/v1/sources/${source.id}/rotate-secret`, { secret: OTHER_WHSEC, grace_seconds: 1 }), 200);
    await new Promise((r) => setTimeout(r, 1100));
    expectError(await send(source.id, "{}", standardWebhooks(WHSEC, "{}")), 401, "unauthorized");
    expectStatus(await send(source.id, "{}", standardWebhooks(OTHER_WHSEC, "{}")), 202);
  });

  it("refuses a rotation on a source that verifies nothing, and a secret in the wrong format", async () => {
    const plain = await createSource(api);
    expectError(await api.post(`/v1/sources/${plain.id}/rotate-secret`, { secret: "x" }), 409, "conflict");
    const sw = await createSource(api, { verification: { type: "standard_webhooks", secret: WHSEC } });
    expectError(await api.post(`/v1/sources/${sw.id}/rotate-secret`, { secret: "whsec_***not base64***" }), 400, "validation_failed");
  });
});

describe("IP rules", () => {
  it("admits only the allow list, denies the deny list, handles IPv4-mapped IPv6, and stores nothing refused", async () => {
    const source = await createSource(api, { ip_allowlist: ["203.0.113.0/24", "2001:db8::/32"], ip_denylist: ["203.0.113.66"] });
    expect(source).toMatchObject({ ip_allowlist: ["203.0.113.0/24", "2001:db8::/32"], ip_denylist: ["203.0.113.66"] });
    const from = (ip: string) => send(source.id, "{}", { "cf-connecting-ip": ip });
    expectStatus(await from("203.0.113.7"), 202);
    expectStatus(await from("::ffff:203.0.113.8"), 202);
    expectStatus(await from("2001:db8::1"), 202);
    expectError(await from("203.0.113.66"), 403, "forbidden");
    expectError(await from("198.51.100.1"), 403, "forbidden");
    expectError(await send(source.id, "{}"), 403, "forbidden");
    expect(await eventsOf(source.id)).toBe(3);
    await statsWhen(source.id, (s) => s.rejected.ip_denied === 3);
  });

  it("refuses an invalid CIDR with a clear 400", async () => {
    const err = expectError(await api.post("/v1/sources", { name: uniqueName(), ip_allowlist: ["10.0.0.0/33"] }), 400, "validation_failed");
    expect(err.message).toContain("ip_allowlist.0");
  });
});

describe("deduplication", () => {
  it("answers a repeated delivery id with the original event and stores nothing new", async () => {
    const source = await createSource(api, { verification: { type: "standard_webhooks", secret: WHSEC }, dedup: { window_seconds: 300 } });
    const body = JSON.stringify({ order: 1 });
    const headers = standardWebhooks(WHSEC, body, { id: "msg_same" });
    const first = await send(source.id, body, headers);
    expectStatus(first, 202);
    const again = await send(source.id, body, headers);
    expectStatus(again, 200);
    expect(again.body).toEqual({ event_id: first.body.event_id, duplicate: true });
    // A new delivery id is a new event even with the same body.
    expectStatus(await send(source.id, body, standardWebhooks(WHSEC, body, { id: "msg_other" })), 202);
    expect(await eventsOf(source.id)).toBe(2);
    await statsWhen(source.id, (s) => s.rejected.duplicate === 1);
  });

  it("falls back to the body's hash without a delivery id, and can key on a field", async () => {
    const byBody = await createSource(api, { dedup: { window_seconds: 60 } });
    const a = await send(byBody.id, '{"a":1}');
    expectStatus(a, 202);
    expect((await send(byBody.id, '{"a":1}')).body).toEqual({ event_id: a.body.event_id, duplicate: true });
    expectStatus(await send(byBody.id, '{"a":2}'), 202);

    const byField = await createSource(api, { dedup: { window_seconds: 60, key: "body.id" } });
    const x = await send(byField.id, '{"id":"x","v":1}');
    expectStatus(x, 202);
    expect((await send(byField.id, '{"id":"x","v":2}')).body).toEqual({ event_id: x.body.event_id, duplicate: true });
    expect(await eventsOf(byField.id)).toBe(1);
  });

  it("is strict for concurrent sends: one event, every other copy answered with its id", async () => {
    const source = await createSource(api, { dedup: { window_seconds: 60 } });
    const connection = await createConnection(api, source.id, (await createDestination(api)).id);
    const results = await Promise.all(Array.from({ length: 8 }, () => send(source.id, '{"same":true}')));
    const created = results.filter((r) => r.status === 202);
    expect(created).toHaveLength(1);
    const id = created[0]!.body.event_id;
    for (const r of results.filter((x) => x.status !== 202)) expect([r.status, r.body]).toEqual([200, { event_id: id, duplicate: true }]);
    expect(await eventsOf(source.id)).toBe(1);
    // One delivery, the original's: the copies left no stray rows.
    const deliveries = await env.DB.prepare("SELECT event_id FROM deliveries WHERE connection_id = ?1").bind(connection.id).all<{ event_id: string }>();
    expect(deliveries.results).toEqual([{ event_id: id }]);
  });

  it("lets the key go after the window: an expired claim is taken over by the next event", async () => {
    const source = await createSource(api, { dedup: { window_seconds: 60 } });
    const first = await send(source.id, "same");
    expectStatus(first, 202);
    await env.DB.prepare("UPDATE dedup_keys SET expires_at = ?1 WHERE event_id = ?2").bind(Date.now() - 1, first.body.event_id).run();
    const second = await send(source.id, "same");
    expectStatus(second, 202);
    expect(second.body.event_id).not.toBe(first.body.event_id);
    expect(await eventsOf(source.id)).toBe(2);
  });

  it("refuses a window shorter than a minute", async () => {
    expectError(await api.post("/v1/sources", { name: uniqueName(), dedup: { window_seconds: 10 } }), 400, "validation_failed");
  });
});

describe("rate limit", () => {
  it("answers 429 with Retry-After beyond the burst, stores nothing refused, counts it", async () => {
    const source = await createSource(api, { rate_limit: { per_second: 0.01, burst: 3 } });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await send(source.id, `{"i":${i}}`));
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 429, 429]);
    const limited = results[3]!;
    expectError(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await eventsOf(source.id)).toBe(3);
    const stats = await statsWhen(source.id, (s) => s.rejected.rate_limited === 2);
    expect(stats.last_rejection?.reason).toBe("rate_limited");
  });
});

describe("body limit and custom response", () => {
  it("413 over the source's limit, counted, nothing stored", async () => {
    const source = await createSource(api, { max_body_bytes: 16 });
    expectError(await send(source.id, "x".repeat(17)), 413, "payload_too_large");
    expectStatus(await send(source.id, "x".repeat(16)), 202);
    expect(await eventsOf(source.id)).toBe(1);
    await statsWhen(source.id, (s) => s.rejected.too_large === 1);
  });

  it("answers accepted and duplicate requests with the configured response", async () => {
    const source = await createSource(api, { dedup: { window_seconds: 60 }, response: { status: 200, content_type: "text/plain", body: "OK" } });
    const res = await send(source.id, "hello");
    expect(res.status).toBe(200);
    expect(res.text).toBe("OK");
    expect(res.headers.get("content-type")).toBe("text/plain");
    const eventId = res.headers.get("x-hookstream-event-id");
    expect(eventId).toMatch(/^evt_/);
    const dup = await send(source.id, "hello");
    expect([dup.status, dup.text, dup.headers.get("x-hookstream-event-id")]).toEqual([200, "OK", eventId]);
    expect(await eventsOf(source.id)).toBe(1);
  });

  it("refuses a non-2xx custom status", async () => {
    expectError(await api.post("/v1/sources", { name: uniqueName(), response: { status: 500, body: "" } }), 400, "validation_failed");
  });
});

describe("templates through the API", () => {
  it("lists at least the twenty providers with what each needs", async () => {
    const res = await api.get<{ data: { id: string; scheme: string; required_fields: { name: string }[] }[] }>("/v1/source-templates");
    expectStatus(res, 200);
    const ids = res.body.data.map((t) => t.id);
    for (const id of ["stripe", "github", "shopify", "slack", "twilio", "standard_webhooks", "clerk", "resend", "linear", "paddle", "typeform", "pagerduty", "square", "mailgun", "intercom", "vercel", "zoom", "gitlab", "woocommerce", "paystack"]) {
      expect(ids).toContain(id);
    }
    expect(res.body.data.find((t) => t.id === "stripe")).toMatchObject({ scheme: "timestamped_hmac", required_fields: [{ name: "secret" }] });
  });

  it("a GitHub source verifies GitHub's documented test vector and records the delivery id and event type", async () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const source = await createSource(api, { template: "github", verification: { secret: "It's a Secret to Everybody" }, dedup: { window_seconds: 60 } });
    expect(source).toMatchObject({ template: "github", verification: { type: "hmac" } });
    const headers = {
      "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      "x-github-event": "ping",
    };
    const res = await send(source.id, "Hello, World!", headers);
    expectStatus(res, 202);
    const event = await api.get<{ event_type: string | null }>(`/v1/events/${res.body.event_id}`);
    expect(event.body.event_type).toBe("ping");
    expect((await send(source.id, "Hello, World!", headers)).body).toEqual({ event_id: res.body.event_id, duplicate: true });
    expectError(await send(source.id, "Hello, World?", headers), 401, "unauthorized");
  });

  it("explains what is wrong with a template source", async () => {
    expect(expectError(await api.post("/v1/sources", { name: uniqueName(), template: "stripe" }), 400, "validation_failed").message).toContain("verification.secret");
    expect(expectError(await api.post("/v1/sources", { name: uniqueName(), template: "strype", verification: { secret: "x" } }), 400, "validation_failed").message).toContain("template");
    expect(expectError(await api.post("/v1/sources", { name: uniqueName(), verification: { secret: "x" } }), 400, "validation_failed").message).toContain("verification.type");
  });
});

describe("updates", () => {
  it("changes settings without re-entering the secret, and turns verification off with null", async () => {
    const source = await createSource(api, { template: "github", verification: { secret: "s3cret" } });
    const sign = (body: string, secret = "s3cret") => ({ "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}` });
    const patched = await api.patch<Source & { dedup: unknown }>(`/v1/sources/${source.id}`, { dedup: { window_seconds: 120 }, verification: {} });
    expectStatus(patched, 200);
    expect(patched.body.dedup).toEqual({ window_seconds: 120 });
    expectStatus(await send(source.id, "a", sign("a")), 202);
    expectError(await send(source.id, "b"), 401, "unauthorized");

    const off = await api.patch<{ verification: unknown; template: unknown }>(`/v1/sources/${source.id}`, { verification: null });
    expect([off.body.verification, off.body.template]).toEqual([null, null]);
    expectStatus(await send(source.id, "c"), 202);
  });
});

describe("provider handshakes", () => {
  const slackSign = (secret: string, body: string, ts = Math.floor(Date.now() / 1000)) => ({
    "content-type": "application/json",
    "x-slack-request-timestamp": String(ts),
    "x-slack-signature": `v0=${createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex")}`,
  });

  it("answers Slack's signed url_verification with the challenge and stores nothing; an unsigned one is refused", async () => {
    const source = await createSource(api, { template: "slack", verification: { secret: "slack-signing-secret" } });
    const body = JSON.stringify({ token: "t", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", type: "url_verification" });
    const res = await send(source.id, body, slackSign("slack-signing-secret", body));
    expectStatus(res, 200);
    expect(res.body).toEqual({ challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
    expectError(await send(source.id, body, slackSign("another-secret", body)), 401, "unauthorized");
    expect(await eventsOf(source.id)).toBe(0);
    // An ordinary event still becomes an event.
    const event = JSON.stringify({ type: "event_callback", event_id: "Ev1", event: { type: "app_mention" } });
    expectStatus(await send(source.id, event, slackSign("slack-signing-secret", event)), 202);
    expect(await eventsOf(source.id)).toBe(1);
  });

  it("answers Zoom's endpoint.url_validation with the HMAC of the plain token under the current secret", async () => {
    const secret = "zoom-secret-token";
    const source = await createSource(api, { template: "zoom", verification: { secret } });
    const body = JSON.stringify({ event: "endpoint.url_validation", payload: { plainToken: "qgg8vlvZRS6UYooatFL8Aw" }, event_ts: 1654503849680 });
    const ts = Math.floor(Date.now() / 1000);
    const res = await send(source.id, body, {
      "content-type": "application/json",
      "x-zm-request-timestamp": String(ts),
      "x-zm-signature": `v0=${createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex")}`,
    });
    expectStatus(res, 200);
    expect(res.body).toEqual({ plainToken: "qgg8vlvZRS6UYooatFL8Aw", encryptedToken: createHmac("sha256", secret).update("qgg8vlvZRS6UYooatFL8Aw").digest("hex") });
    expect(await eventsOf(source.id)).toBe(0);
  });
});
