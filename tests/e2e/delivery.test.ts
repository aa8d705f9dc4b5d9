// The happy path (design.md): a provider's webhook is accepted, stored and delivered, signed
// with Standard Webhooks, to real HTTP receivers; large and binary bodies arrive byte-identical.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, inject, it } from "vitest";
import type {} from "./setup/gateway.js";
import { Api, ingest, ingestOk, signatureMatchesBytes, verifyWithStandardWebhooks, wire, type ApiError, type List, type EventView } from "./setup/api.js";
import { closeAll, startReceiver, type Receiver } from "./setup/receiver.js";

const { baseUrl, tenantA } = inject("gateway");
const api = new Api(baseUrl, tenantA.api_key);

const receivers: Receiver[] = [];
async function receiver(): Promise<Receiver> {
  const r = await startReceiver({ reply: { status: 200, body: "thanks" } });
  receivers.push(r);
  return r;
}

afterAll(async () => {
  await closeAll(receivers);
});

describe("delivery: the happy path", () => {
  it("delivers a JSON webhook with the exact body, the provider's headers and a Standard Webhooks signature", async () => {
    const rcv = await receiver();
    const { source, destinations } = await wire(api, [{ url: `${rcv.url}/hooks/orders` }]);
    const dst = destinations[0]!;
    const secret = dst.config.signing_secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);

    // Odd spacing and non-ASCII text: any re-serialisation by the gateway would show.
    const body = '{ "type":"order.created",  "data": {"id": 42, "amount": 19.90, "note": "café ✓ \\u00e9"} }\n';
    const eventId = await ingestOk(baseUrl, source.id, {
      query: "shop=acme&topic=orders%2Fcreate",
      headers: { "content-type": "application/json", "x-shopify-topic": "orders/create", "x-provider-delivery": "abc-123" },
      body,
    });
    expect(eventId).toMatch(/^evt_[0-9a-f]{32}$/);

    const [req] = await rcv.waitForRequests(1);
    const event = await api.waitForEventStatus(eventId, "delivered");

    expect(req!.method).toBe("POST");
    expect(new URL(req!.url, rcv.url).pathname).toBe("/hooks/orders");
    expect(req!.body.toString("utf8")).toBe(body);
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.headers["x-shopify-topic"]).toBe("orders/create");
    expect(req!.headers["x-provider-delivery"]).toBe("abc-123");
    expect(req!.headers["x-hookstream-event-id"]).toBe(eventId);

    expect(event.deliveries).toHaveLength(1);
    const delivery = event.deliveries[0]!;
    expect(delivery).toMatchObject({ destination_id: dst.id, status: "delivered", attempts: 1 });
    expect(req!.headers["webhook-id"]).toBe(delivery.id);
    expect(() => verifyWithStandardWebhooks(secret!, req!.headers, req!.body)).not.toThrow();
    // The check itself can fail: another secret or a changed body must not verify.
    const otherSecret = `whsec_${randomBytes(32).toString("base64")}`;
    expect(() => verifyWithStandardWebhooks(otherSecret, req!.headers, req!.body)).toThrow();
    expect(() => verifyWithStandardWebhooks(secret!, req!.headers, Buffer.from(body.replace("42", "43")))).toThrow();

    // What was received is kept, including the query string the provider used.
    expect(event.body).toBe(body);
    expect(event.body_encoding).toBe("utf8");
    expect(event.query).toEqual({ shop: "acme", topic: "orders/create" });
    expect(event.headers["x-shopify-topic"]).toBe("orders/create");
    expect(event.metadata.content_length).toBe(Buffer.byteLength(body));

    const attempts = await api.attempts(eventId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      event_id: eventId,
      delivery_id: delivery.id,
      destination_id: dst.id,
      attempt_number: 1,
      status: "success",
      status_code: 200,
      error: null,
    });
    expect(attempts[0]!.latency_ms).toEqual(expect.any(Number));
    expect(attempts[0]!.latency_ms).toBeGreaterThanOrEqual(0);
    expect(attempts[0]!.response_body).toBe("thanks");

    // The source's event list shows it as delivered.
    const listed = await api.expect<List<EventView>>(200, "GET", `/v1/events?source_id=${source.id}&status=delivered`);
    expect(listed.data.map((e) => e.id)).toEqual([eventId]);
  });

  it("fans one event out to two destinations, each with its own delivery id and signing secret", async () => {
    const [r1, r2] = [await receiver(), await receiver()];
    const { source, destinations } = await wire(api, [{ url: `${r1.url}/a` }, { url: `${r2.url}/b` }]);
    const body = JSON.stringify({ type: "fan.out", n: 2 });
    const eventId = await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body });

    const [a] = await r1.waitForRequests(1);
    const [b] = await r2.waitForRequests(1);
    const event = await api.waitForEventStatus(eventId, "delivered");

    expect(a!.body.toString()).toBe(body);
    expect(b!.body.toString()).toBe(body);
    expect(event.deliveries).toHaveLength(2);
    const byDestination = new Map(event.deliveries.map((d) => [d.destination_id, d]));
    const [d1, d2] = destinations;
    expect(a!.headers["webhook-id"]).toBe(byDestination.get(d1!.id)?.id);
    expect(b!.headers["webhook-id"]).toBe(byDestination.get(d2!.id)?.id);
    expect(a!.headers["webhook-id"]).not.toBe(b!.headers["webhook-id"]);
    expect(() => verifyWithStandardWebhooks(d1!.config.signing_secret!, a!.headers, a!.body)).not.toThrow();
    expect(() => verifyWithStandardWebhooks(d2!.config.signing_secret!, b!.headers, b!.body)).not.toThrow();
    expect(() => verifyWithStandardWebhooks(d2!.config.signing_secret!, a!.headers, a!.body)).toThrow();
    expect(event.deliveries.every((d) => d.status === "delivered" && d.attempts === 1)).toBe(true);
    expect(r1.requests).toHaveLength(1);
    expect(r2.requests).toHaveLength(1);
  });

  it("delivers a 20 KB body (stored in R2) byte-identical and returns it in full from GET /v1/events/:id", async () => {
    const rcv = await receiver();
    const { source, destinations } = await wire(api, [{ url: `${rcv.url}/big` }]);
    const filler = "ü€-0123456789abcdef".repeat(2_000);
    const body = JSON.stringify({ type: "big", filler }).slice(0, 20_000) + '"}';
    const bytes = Buffer.from(body, "utf8");
    expect(bytes.byteLength).toBeGreaterThan(10 * 1024); // over the inline limit: goes to R2

    const eventId = await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body: bytes });
    const [req] = await rcv.waitForRequests(1);
    expect(req!.body.equals(bytes)).toBe(true);
    expect(() => verifyWithStandardWebhooks(destinations[0]!.config.signing_secret!, req!.headers, req!.body)).not.toThrow();

    const event = await api.waitForEventStatus(eventId, "delivered");
    expect(event.body_encoding).toBe("utf8");
    expect(event.body.length).toBe(body.length);
    expect(event.body).toBe(body);
    expect(event.metadata.content_length).toBe(bytes.byteLength);
  });

  it.each([
    ["small (inline in D1)", 1_000],
    ["large (in R2)", 16 * 1024],
  ])("delivers a non-UTF-8 binary body byte-identical: %s", async (_label, size) => {
    const rcv = await receiver();
    const { source, destinations } = await wire(api, [{ url: `${rcv.url}/bin` }]);
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0xa0, 0xa1, 0x80]), randomBytes(size - 8)]);
    expect(new TextDecoder("utf-8", { fatal: false }).decode(bytes)).toContain("\ufffd"); // really not UTF-8

    const eventId = await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/octet-stream" }, body: bytes });
    const [req] = await rcv.waitForRequests(1);
    expect(req!.body.byteLength).toBe(bytes.byteLength);
    expect(req!.body.equals(bytes)).toBe(true);
    expect(req!.headers["content-type"]).toBe("application/octet-stream");
    expect(signatureMatchesBytes(destinations[0]!.config.signing_secret!, req!.headers, req!.body)).toBe(true);
    expect(signatureMatchesBytes(destinations[0]!.config.signing_secret!, req!.headers, Buffer.concat([req!.body, Buffer.from([0])]))).toBe(false);

    const event = await api.waitForEventStatus(eventId, "delivered");
    expect(event.body_encoding).toBe("base64");
    expect(Buffer.from(event.body, "base64").equals(bytes)).toBe(true);
  });
});

describe("ingest: refusals", () => {
  it("answers 404 with the JSON error shape for an unknown source", async () => {
    for (const id of [`src_${randomBytes(16).toString("hex")}`, "not-a-source-id"]) {
      const res = await ingest(baseUrl, id, { headers: { "content-type": "application/json" }, body: "{}" });
      expect(res.status, id).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.body as ApiError).toEqual({ error: { code: "not_found", message: expect.any(String) } });
    }
  });

  it("answers 413 for a body over the source's max_body_bytes, with and without content-length, and stores nothing", async () => {
    const rcv = await receiver();
    const { source } = await wire(api, [{ url: `${rcv.url}/limited` }], { max_body_bytes: 100 });
    expect(source.max_body_bytes).toBe(100);

    const over = "x".repeat(101);
    const declared = await ingest(baseUrl, source.id, { headers: { "content-type": "text/plain" }, body: over });
    expect(declared.status).toBe(413);
    expect(declared.body as ApiError).toMatchObject({ error: { code: "payload_too_large" } });

    // Chunked: no content-length, so only the capped read can notice.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode("y".repeat(40)));
        controller.close();
      },
    });
    const chunked = await fetch(`${baseUrl}/v1/ingest/${source.id}`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: stream,
      duplex: "half",
    } as RequestInit & { duplex: "half" });
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as ApiError).error.code).toBe("payload_too_large");

    // Exactly at the limit is accepted, and it is the only event stored.
    const okId = await ingestOk(baseUrl, source.id, { headers: { "content-type": "text/plain" }, body: "z".repeat(100) });
    const listed = await api.expect<List<EventView>>(200, "GET", `/v1/events?source_id=${source.id}`);
    expect(listed.data.map((e) => e.id)).toEqual([okId]);
    const [req] = await rcv.waitForRequests(1);
    expect(req!.body.toString()).toBe("z".repeat(100));
  });
});
