import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { INLINE_BODY_LIMIT } from "../../src/model/types.js";
import { client, expectError, expectStatus, hex32, request, type Client } from "../helpers/api.js";
import { createConnection, createDestination, createSource, receivedBy, uniqueName, waitFor, receiverUrl } from "../helpers/fixtures.js";
import { fromBase64 } from "../helpers/secrets.js";
import { countRows, seedTenant, type SeededTenant } from "../helpers/seed.js";
import type { Event } from "../helpers/types.js";

let tenant: SeededTenant;
let api: Client;

beforeAll(async () => {
  tenant = await seedTenant();
  api = client(tenant.key);
});

interface EventRow {
  id: string;
  org_id: string;
  env_id: string;
  source_id: string;
  method: string;
  headers: string;
  query: string;
  body: string | null;
  body_encoding: string;
  body_r2_key: string | null;
  body_size: number;
  content_type: string | null;
  source_ip: string | null;
  user_agent: string | null;
  status: string;
}

interface DeliveryRow {
  id: string;
  connection_id: string;
  destination_id: string;
  status: string;
}

async function ingest(sourceId: string, init: { method?: string; body?: BodyInit; headers?: Record<string, string>; query?: string } = {}) {
  return request<{ event_id: string }>(init.method ?? "POST", `/v1/ingest/${sourceId}${init.query ?? ""}`, {
    ...(init.body === undefined ? {} : { raw: init.body }),
    headers: init.headers ?? {},
  });
}

async function accepted(sourceId: string, init: Parameters<typeof ingest>[1] = {}): Promise<string> {
  const res = await ingest(sourceId, init);
  expectStatus(res, 202);
  expect(Object.keys(res.body)).toEqual(["event_id"]);
  expect(res.body.event_id).toMatch(/^evt_[0-9a-f]{32}$/);
  return res.body.event_id;
}

const eventRow = (id: string) => env.DB.prepare("SELECT * FROM events WHERE id = ?1").bind(id).first<EventRow>();
const deliveriesOf = async (id: string) =>
  (await env.DB.prepare("SELECT * FROM deliveries WHERE event_id = ?1 ORDER BY id").bind(id).all<DeliveryRow>()).results;
async function r2Count(): Promise<number> {
  let n = 0;
  let cursor: string | undefined;
  do {
    const page = await env.BODIES.list({ cursor, limit: 1000 });
    n += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return n;
}

function bytesOf(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) % 256;
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

describe("accepting a webhook", () => {
  it("answers 202 with an evt_ id once the request is stored with its method, headers, query, body and metadata", async () => {
    const src = await createSource(api);
    const body = JSON.stringify({ type: "invoice.paid", amount: 4200, note: "grüße ✓" });
    const id = await accepted(src.id, {
      method: "PUT",
      query: "?attempt=1&mode=live",
      body,
      headers: { "content-type": "application/json", "x-signature": "t=1,v1=abc", "cf-connecting-ip": "203.0.113.9", "user-agent": "Stripe/1.0" },
    });

    const row = await eventRow(id);
    expect(row).toMatchObject({
      org_id: tenant.org_id, env_id: tenant.env_id, source_id: src.id, method: "PUT", body, body_encoding: "utf8", body_r2_key: null,
      body_size: new TextEncoder().encode(body).byteLength, content_type: "application/json", source_ip: "203.0.113.9", user_agent: "Stripe/1.0",
      status: "received",
    });
    expect(JSON.parse(row!.headers)).toMatchObject({ "content-type": "application/json", "x-signature": "t=1,v1=abc", "user-agent": "Stripe/1.0" });
    expect(JSON.parse(row!.query)).toEqual({ attempt: "1", mode: "live" });

    const res = await api.get<Event>(`/v1/events/${id}`);
    expectStatus(res, 200);
    expect(res.body).toMatchObject({
      id, source_id: src.id, status: "received", method: "PUT", content_type: "application/json", body, body_encoding: "utf8",
      query: { attempt: "1", mode: "live" }, deliveries: [],
      metadata: { source_ip: "203.0.113.9", user_agent: "Stripe/1.0", content_length: row!.body_size },
    });
    expect(res.body.headers["x-signature"]).toBe("t=1,v1=abc");
  });

  it("accepts any method, including a GET without a body", async () => {
    const src = await createSource(api);
    const id = await accepted(src.id, { method: "GET", query: "?challenge=xyz" });
    expect(await eventRow(id)).toMatchObject({ method: "GET", body: "", body_size: 0, query: JSON.stringify({ challenge: "xyz" }), source_ip: null });
    const ev = (await api.get<Event>(`/v1/events/${id}`)).body;
    expect(ev.metadata).toEqual({ source_ip: null, user_agent: null, content_length: 0 });
  });

  it("keeps a body of exactly 10 KB inline in D1", async () => {
    const src = await createSource(api);
    const body = "a".repeat(INLINE_BODY_LIMIT);
    expect(INLINE_BODY_LIMIT).toBe(10 * 1024);
    const id = await accepted(src.id, { body, headers: { "content-type": "text/plain" } });
    expect(await eventRow(id)).toMatchObject({ body, body_r2_key: null, body_size: INLINE_BODY_LIMIT });
  });

  it("puts a body over 10 KB in R2 and serves it back in full", async () => {
    const src = await createSource(api);
    const body = JSON.stringify({ items: Array.from({ length: 800 }, (_, i) => ({ i, name: `item-${i}` })) });
    expect(body.length).toBeGreaterThan(INLINE_BODY_LIMIT);
    const id = await accepted(src.id, { body, headers: { "content-type": "application/json" } });

    const row = await eventRow(id);
    expect(row).toMatchObject({ body: null, body_encoding: "utf8", body_size: body.length, body_r2_key: `events/${tenant.org_id}/${tenant.env_id}/${id}` });
    const obj = await env.BODIES.get(row!.body_r2_key!);
    expect(obj).not.toBeNull();
    expect(await obj!.text()).toBe(body);

    const ev = (await api.get<Event>(`/v1/events/${id}`)).body;
    expect(ev.body).toBe(body);
    expect(ev.body_encoding).toBe("utf8");
    expect(ev.metadata.content_length).toBe(body.length);
  });

  it("keeps a binary (non-UTF-8) body byte for byte, as base64", async () => {
    const src = await createSource(api);
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x0a, 0x41]);
    const id = await accepted(src.id, { body: bytes, headers: { "content-type": "application/octet-stream" } });
    expect(await eventRow(id)).toMatchObject({ body: toBase64(bytes), body_encoding: "base64", body_size: bytes.length });
    const ev = (await api.get<Event>(`/v1/events/${id}`)).body;
    expect(ev.body_encoding).toBe("base64");
    expect([...fromBase64(ev.body)]).toEqual([...bytes]);
  });

  it("keeps a large binary body in R2 byte for byte", async () => {
    const src = await createSource(api);
    const bytes = bytesOf(20_000);
    const id = await accepted(src.id, { body: bytes, headers: { "content-type": "application/octet-stream" } });
    const row = await eventRow(id);
    expect(row).toMatchObject({ body: null, body_encoding: "base64", body_size: 20_000 });
    expect(new Uint8Array(await (await env.BODIES.get(row!.body_r2_key!))!.arrayBuffer())).toEqual(bytes);
    const ev = (await api.get<Event>(`/v1/events/${id}`)).body;
    expect(fromBase64(ev.body)).toEqual(bytes);
  });
});

describe("refusing a webhook", () => {
  it("an unknown, malformed or deleted source → 404", async () => {
    expectError(await ingest(`src_${hex32()}`, { body: "{}" }), 404, "not_found");
    expectError(await ingest("nope", { body: "{}" }), 404, "not_found");
    expectError(await ingest(`dst_${hex32()}`, { body: "{}" }), 404, "not_found");
    const src = await createSource(api);
    await accepted(src.id, { body: "{}" });
    expectStatus(await api.delete(`/v1/sources/${src.id}`), 204);
    expectError(await ingest(src.id, { body: "{}" }), 404, "not_found");
  });

  it("a body over the source's max_body_bytes → 413 and nothing is written", async () => {
    const src = await createSource(api, { max_body_bytes: 100 });
    const dst = await createDestination(api);
    await createConnection(api, src.id, dst.id);
    const before = { events: await countRows("events"), deliveries: await countRows("deliveries"), r2: await r2Count() };

    expectError(await ingest(src.id, { body: "x".repeat(101) }), 413, "payload_too_large");
    // Without a Content-Length the limit is enforced while reading. The worker stops reading
    // mid-stream, so workerd logs "Network connection lost" for this test's request stream.
    let chunks = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (chunks++ < 5) controller.enqueue(new Uint8Array(30).fill(65));
        else controller.close();
      },
    });
    expectError(await ingest(src.id, { body: stream }), 413, "payload_too_large");

    expect({ events: await countRows("events"), deliveries: await countRows("deliveries"), r2: await r2Count() }).toEqual(before);
    // The limit itself is allowed.
    await accepted(src.id, { body: "x".repeat(100) });
    expect(await countRows("events")).toBe(before.events + 1);
  });

  it("a body over the limit that would have gone to R2 → 413 and no R2 object", async () => {
    const src = await createSource(api, { max_body_bytes: 15_000 });
    const before = { events: await countRows("events"), r2: await r2Count() };
    expectError(await ingest(src.id, { body: bytesOf(15_001) }), 413, "payload_too_large");
    expect({ events: await countRows("events"), r2: await r2Count() }).toEqual(before);
  });
});

describe("fan-out", () => {
  it("two connections → two deliveries, one per destination, each delivered", async () => {
    const src = await createSource(api);
    const names = [uniqueName(), uniqueName()];
    const dsts = [
      await createDestination(api, {}, { url: receiverUrl(names[0]!) }),
      await createDestination(api, {}, { url: receiverUrl(names[1]!) }),
    ];
    const cons = [await createConnection(api, src.id, dsts[0]!.id), await createConnection(api, src.id, dsts[1]!.id)];
    const id = await accepted(src.id, { body: '{"fan":"out"}', headers: { "content-type": "application/json" } });

    const deliveries = await deliveriesOf(id);
    expect(deliveries).toHaveLength(2);
    expect(deliveries.map((d) => d.connection_id).sort()).toEqual(cons.map((c) => c.id).sort());
    expect(deliveries.map((d) => d.destination_id).sort()).toEqual(dsts.map((d) => d.id).sort());
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(2);
    expect((await eventRow(id))?.status).not.toBe("received");

    for (const name of names) {
      const got = await waitFor(async () => {
        const reqs = await receivedBy(name);
        return reqs.length > 0 && reqs;
      }, `a delivery to ${name}`);
      expect(got).toHaveLength(1);
      expect(atob(got[0]!.body_base64)).toBe('{"fan":"out"}');
    }
    await waitFor(async () => (await eventRow(id))?.status === "delivered", "event delivered");
  });

  it("two connections to the same destination → two deliveries", async () => {
    const src = await createSource(api);
    const dst = await createDestination(api, { enabled: false });
    await createConnection(api, src.id, dst.id);
    await createConnection(api, src.id, dst.id);
    const id = await accepted(src.id, { body: "{}" });
    expect(await deliveriesOf(id)).toHaveLength(2);
  });

  it("a disabled connection gets no delivery", async () => {
    const src = await createSource(api);
    const on = await createDestination(api, { enabled: false });
    const off = await createDestination(api, { enabled: false });
    const live = await createConnection(api, src.id, on.id);
    await createConnection(api, src.id, off.id, { enabled: false });
    const id = await accepted(src.id, { body: "{}" });
    const deliveries = await deliveriesOf(id);
    expect(deliveries.map((d) => d.connection_id)).toEqual([live.id]);
    expect((await eventRow(id))?.status).toBe("processing");
  });

  it("disabling a connection takes effect for the next event", async () => {
    const src = await createSource(api);
    const dst = await createDestination(api, { enabled: false });
    const con = await createConnection(api, src.id, dst.id);
    expect(await deliveriesOf(await accepted(src.id, { body: "{}" }))).toHaveLength(1);
    expectStatus(await api.patch(`/v1/connections/${con.id}`, { enabled: false }), 200);
    const id = await accepted(src.id, { body: "{}" });
    expect(await deliveriesOf(id)).toHaveLength(0);
    expect((await eventRow(id))?.status).toBe("received");
  });

  it("no connections → no delivery and the event stays received", async () => {
    const src = await createSource(api);
    const other = await createSource(api);
    await createConnection(api, other.id, (await createDestination(api, { enabled: false })).id);
    const id = await accepted(src.id, { body: "{}" });
    expect(await deliveriesOf(id)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 300));
    expect((await eventRow(id))?.status).toBe("received");
    expect((await api.get<Event>(`/v1/events/${id}`)).body).toMatchObject({ status: "received", deliveries: [] });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM delivery_attempts WHERE event_id = ?1").bind(id).first("n")).toBe(0);
  });
});
