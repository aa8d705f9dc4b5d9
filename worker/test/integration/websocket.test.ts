import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hubFor } from "../../src/delivery/websocket-hub.js";
import { createOutbound } from "../../src/delivery/outbound.js";
import { getProvider } from "../../src/providers/destinations/registry.js";
import type { DeliveryPayload } from "../../src/providers/destinations/types.js";
import { MAX_FRAME_BYTES, NO_CLIENT_ERROR, type WebSocketDeliverContext, type WebSocketEventFrame } from "../../src/providers/destinations/websocket.js";
import { client, expectError, expectStatus, ORIGIN, request, type ApiResponse, type Client } from "../helpers/api.js";
import { createConnection, createDestination, createSource, waitFor } from "../helpers/fixtures.js";
import { queuedRows, schedulerStub } from "../helpers/scheduler.js";
import { seedKey, seedTenant, type SeededTenant } from "../helpers/seed.js";
import type { Attempt, Destination, Event, Page } from "../helpers/types.js";

let tenant: SeededTenant;
let api: Client;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  tenant = await seedTenant("ws");
  api = client(tenant.key);
});

afterAll(() => {
  for (const ws of sockets) {
    try {
      ws.close(1000, "done");
    } catch {
      // already closed
    }
  }
});

interface Listener {
  ws: WebSocket;
  frames: WebSocketEventFrame[];
  response: Response;
}

/** Opens a listener the way `hookstream listen` would, with the key in the Authorization header unless told otherwise. */
async function listen(destinationId: string, headers: Record<string, string> = { authorization: `Bearer ${tenant.key}` }): Promise<Listener> {
  const response = await SELF.fetch(`${ORIGIN}/v1/destinations/${destinationId}/ws`, { headers: { upgrade: "websocket", ...headers } });
  if (response.status !== 101) throw new Error(`expected 101, got ${response.status}: ${await response.text()}`);
  const ws = response.webSocket!;
  ws.accept();
  sockets.push(ws);
  const frames: WebSocketEventFrame[] = [];
  ws.addEventListener("message", (e) => {
    frames.push(JSON.parse(e.data as string) as WebSocketEventFrame);
  });
  return { ws, frames, response };
}

/** An upgrade attempt that must be refused before upgrading, with the JSON error shape. */
async function refusedUpgrade(path: string, headers: Record<string, string>): Promise<ApiResponse> {
  const res = await SELF.fetch(`${ORIGIN}${path}`, { headers: { upgrade: "websocket", ...headers } });
  expect(res.webSocket).toBeNull();
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as unknown };
}

async function websocketPipeline(overrides: Record<string, unknown> = {}) {
  const source = await createSource(api);
  const res = await api.post<Destination>("/v1/destinations", { name: "listener", type: "websocket", config: {}, ...overrides });
  expectStatus(res, 201);
  const connection = await createConnection(api, source.id, res.body.id);
  return { source, destination: res.body, connection };
}

async function ingest(sourceId: string, body: string, headers: Record<string, string> = { "content-type": "application/json" }): Promise<string> {
  const res = await request<{ event_id: string }>("POST", `/v1/ingest/${sourceId}?via=test`, { raw: body, headers });
  expectStatus(res, 202);
  return res.body.event_id;
}

const attemptsOf = async (eventId: string) => (await api.get<Page<Attempt>>(`/v1/events/${eventId}/attempts`)).body.data.sort((a, b) => a.attempt_number - b.attempt_number);

describe("connecting", () => {
  it("answers 101 with the hookstream subprotocol when the key comes as a subprotocol entry", async () => {
    const { destination } = await websocketPipeline();
    const l = await listen(destination.id, { "sec-websocket-protocol": `hookstream, hookstream.bearer.${tenant.key}` });
    expect(l.response.headers.get("sec-websocket-protocol")).toBe("hookstream");
    expect(await hubFor(env, destination.id).clients()).toBe(1);
  });

  it("refuses before upgrading: no key 401, revoked 401, key in the query 401, other tenants 404, not websocket 404, no Upgrade 426", async () => {
    const { destination } = await websocketPipeline();
    const path = `/v1/destinations/${destination.id}/ws`;
    expectError(await refusedUpgrade(path, {}), 401, "unauthorized");
    const revoked = await seedKey(tenant, { revoked: true });
    expectError(await refusedUpgrade(path, { authorization: `Bearer ${revoked.key}` }), 401, "unauthorized");
    expectError(await refusedUpgrade(path, { "sec-websocket-protocol": `hookstream, hookstream.bearer.${revoked.key}` }), 401, "unauthorized");
    expectError(await refusedUpgrade(`${path}?api_key=${tenant.key}`, {}), 401, "unauthorized");

    const other = await seedTenant("ws-other");
    const foreign = await refusedUpgrade(path, { authorization: `Bearer ${other.key}` });
    expect(expectError(foreign, 404, "not_found").message).toBe("destination not found");
    expect(foreign.text).not.toContain(destination.id);

    const http = await createDestination(api);
    expect(expectError(await refusedUpgrade(`/v1/destinations/${http.id}/ws`, { authorization: `Bearer ${tenant.key}` }), 404, "not_found").message).toMatch(/only websocket destinations/);

    const plain = await request("GET", path, { key: tenant.key });
    expectError(plain, 426, "upgrade_required");
    expectError(await refusedUpgrade(path, { authorization: `Bearer ${tenant.key}`, "sec-websocket-protocol": "graphql-ws" }), 400, "validation_failed");
    expect(await hubFor(env, destination.id).clients()).toBe(0);
  });

  it("takes a key as a subprotocol entry only on the listen route", async () => {
    const res = await SELF.fetch(`${ORIGIN}/v1/sources`, { headers: { upgrade: "websocket", "sec-websocket-protocol": `hookstream, hookstream.bearer.${tenant.key}` } });
    expect(res.status).toBe(401);
    await res.text();
  });

  it("a listener whose key is revoked is closed at the next event and does not get it", async () => {
    const { source, destination } = await websocketPipeline();
    const doomed = await seedKey(tenant, { name: "laptop" });
    const kept = await listen(destination.id);
    const revoked = await listen(destination.id, { authorization: `Bearer ${doomed.key}` });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => revoked.ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
    // Revoked the way DELETE /v1/api-keys/:id does it (that route needs an admin session).
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2").bind(Date.now(), doomed.key_id).run();

    const eventId = await ingest(source.id, '{"after":"revocation"}');
    expect(await closed).toEqual({ code: 1008, reason: "API key revoked" });
    await waitFor(async () => kept.frames.length === 1, "the frame on the other listener");
    expect(revoked.frames).toHaveLength(0);
    await waitFor(async () => (await attemptsOf(eventId))[0]?.response_body === "sent to 1 client", "attempt counting one client");
  });

  it("answers a ping frame with a pong", async () => {
    const { destination } = await websocketPipeline();
    const l = await listen(destination.id);
    const pong = new Promise<string>((resolve) => l.ws.addEventListener("message", (e) => resolve(e.data as string), { once: true }));
    l.ws.send('{"type":"ping"}');
    expect(await pong).toBe('{"type":"pong"}');
  });

  it("disconnects listeners when the destination is deleted", async () => {
    const res = await api.post<Destination>("/v1/destinations", { name: "short-lived", type: "websocket", config: {} });
    expectStatus(res, 201);
    const l = await listen(res.body.id);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => l.ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
    expectStatus(await api.delete(`/v1/destinations/${res.body.id}`), 204);
    expect(await closed).toEqual({ code: 1000, reason: "destination deleted" });
    expect(await hubFor(env, res.body.id).clients()).toBe(0);
  });
});

describe("delivering", () => {
  it("sends every event to each connected client, and records one successful attempt", async () => {
    const { source, destination, connection } = await websocketPipeline();
    const a = await listen(destination.id);
    const b = await listen(destination.id, { "sec-websocket-protocol": `hookstream, hookstream.bearer.${tenant.key}` });
    const body = '{"type":"order.created","id":7}';
    const eventId = await ingest(source.id, body, { "content-type": "application/json", "x-shop": "acme", authorization: "Bearer sender-secret", cookie: "s=1" });

    await waitFor(async () => a.frames.length === 1 && b.frames.length === 1, "a frame on both sockets");
    const ev = (await api.get<Event>(`/v1/events/${eventId}`)).body;
    await waitFor(async () => (await api.get<Event>(`/v1/events/${eventId}`)).body.status === "delivered", "event delivered");
    const deliveryId = ev.deliveries[0]!.id;
    for (const frame of [a.frames[0]!, b.frames[0]!]) {
      expect(frame).toMatchObject({
        type: "event", event_id: eventId, delivery_id: deliveryId, attempt: 1, source_id: source.id, connection_id: connection.id,
        destination_id: destination.id, method: "POST", content_type: "application/json", body, body_encoding: "utf8", query: { via: "test" },
      });
      expect(frame.headers).toMatchObject({ "content-type": "application/json", "x-shop": "acme" });
      expect(frame.headers.authorization).toBeUndefined();
      expect(frame.headers.cookie).toBeUndefined();
      expect(Number.isNaN(Date.parse(frame.timestamp))).toBe(false);
    }
    const attempts = await attemptsOf(eventId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: "success", status_code: null, response_body: "sent to 2 clients", error: null });

    // A second event reaches both again; a closed client no longer counts.
    b.ws.close(1000, "bye");
    await waitFor(async () => (await hubFor(env, destination.id).clients()) === 1, "one client left");
    const second = await ingest(source.id, '{"n":2}');
    await waitFor(async () => a.frames.length === 2, "second frame");
    expect(a.frames[1]!.event_id).toBe(second);
    expect(b.frames).toHaveLength(1);
    await waitFor(async () => (await attemptsOf(second))[0]?.response_body === "sent to 1 client", "second attempt");
  });

  it("keeps binary bodies byte-exact as base64", async () => {
    const { source, destination } = await websocketPipeline();
    const l = await listen(destination.id);
    const bytes = new Uint8Array([0, 255, 254, 1, 128]);
    await ingest(source.id, bytes as unknown as string, { "content-type": "application/octet-stream" });
    await waitFor(async () => l.frames.length === 1, "a frame");
    expect(l.frames[0]).toMatchObject({ body_encoding: "base64", body: btoa(String.fromCharCode(...bytes)) });
  });

  it("with no client the attempt fails and is retried; a client connecting delivers it at once", async () => {
    const { source, destination } = await websocketPipeline();
    const eventId = await ingest(source.id, '{"waiting":true}');
    await waitFor(async () => (await attemptsOf(eventId)).length === 1, "first attempt");
    const [first] = await attemptsOf(eventId);
    expect(first).toMatchObject({ status: "failed", error: NO_CLIENT_ERROR, status_code: null });
    const ev = (await api.get<Event>(`/v1/events/${eventId}`)).body;
    expect(ev.deliveries[0]).toMatchObject({ status: "retrying", attempts: 1, last_error: NO_CLIENT_ERROR });
    await waitFor(async () => (await queuedRows(destination.id)).some((r) => r.attempts === 1), "the retry queued");

    // The default policy would wait ~30 s; a listener connecting makes it due now.
    const l = await listen(destination.id);
    await waitFor(async () => l.frames.length === 1, "the retried frame", 15_000);
    expect(l.frames[0]).toMatchObject({ event_id: eventId, attempt: 2 });
    await waitFor(async () => (await api.get<Event>(`/v1/events/${eventId}`)).body.status === "delivered", "delivered");
    expect((await attemptsOf(eventId)).map((a) => a.status)).toEqual(["failed", "success"]);
    expect(await schedulerStub(destination.id).stats()).toEqual({ in_flight: 0, queued: 0 });
  });
});

/**
 * The six cases of the shared provider conformance suite, for the websocket provider, against
 * the real hub Durable Object (the timeout case needs a hub that never answers).
 */
describe("conformance", () => {
  const provider = getProvider("websocket")!;
  const outbound = createOutbound({ fetch: (input, init) => fetch(input, init), allowPrivate: true });
  const realHub: WebSocketDeliverContext = { outbound, now: Date.now, websockets: { publish: (id, frame) => hubFor(env, id).publish(frame) } };

  function payload(destinationId: string, body: Uint8Array = new TextEncoder().encode('{"ok":true}'), headers: Record<string, string> = {}): DeliveryPayload {
    return {
      delivery_id: "dlv_conformance", event_id: "evt_conformance", source_id: "src_conformance", connection_id: "con_conformance",
      destination_id: destinationId, attempt_number: 1, method: "POST", headers: { "content-type": "application/json", ...headers },
      query: {}, body, content_type: "application/json",
    };
  }

  async function listeningDestination() {
    const { destination } = await websocketPipeline();
    return { destination, listener: await listen(destination.id) };
  }

  it("success: delivered once a client took the frame", async () => {
    const { destination, listener } = await listeningDestination();
    const result = await provider.deliver(payload(destination.id), { timeout_ms: 5000 }, realHub);
    expect(result).toMatchObject({ kind: "delivered", response_body: "sent to 1 client" });
    await waitFor(async () => listener.frames.length === 1, "the frame");
  });

  it("retryable failure: nobody connected", async () => {
    const { destination } = await websocketPipeline();
    expect(await provider.deliver(payload(destination.id), { timeout_ms: 5000 }, realHub)).toMatchObject({ kind: "retryable", error: NO_CLIENT_ERROR });
  });

  it("permanent failure: a stored config the provider does not accept", async () => {
    const { destination, listener } = await listeningDestination();
    expect(await provider.deliver(payload(destination.id), { timeout_ms: 5000, url: "https://x" }, realHub)).toMatchObject({
      kind: "permanent",
      error: "invalid websocket destination config",
    });
    expect(listener.frames).toHaveLength(0);
  });

  it("timeout: a hub that does not answer is a retryable failure after timeout_ms", async () => {
    const stuck: WebSocketDeliverContext = { outbound, now: Date.now, websockets: { publish: () => new Promise(() => undefined) } };
    expect(await provider.deliver(payload("dst_stuck"), { timeout_ms: 100 }, stuck)).toMatchObject({ kind: "retryable", error: "timed out after 100 ms" });
  });

  it("oversize payload: refused for good, nothing sent", async () => {
    const { destination, listener } = await listeningDestination();
    const result = await provider.deliver(payload(destination.id, new TextEncoder().encode("x".repeat(MAX_FRAME_BYTES))), { timeout_ms: 5000 }, realHub);
    expect(result).toMatchObject({ kind: "permanent" });
    expect(result.kind === "permanent" && result.error).toMatch(/exceeds the 1048576-byte WebSocket message limit/);
    // The next, small frame is the first one the client sees.
    await provider.deliver(payload(destination.id), { timeout_ms: 5000 }, realHub);
    await waitFor(async () => listener.frames.length === 1, "the small frame");
    expect(listener.frames[0]!.body).toBe('{"ok":true}');
  });

  it("credentials redacted: no secrets in the API output, no credentials in frames or recorded errors", async () => {
    const { source, destination } = await websocketPipeline();
    expect(destination.config).toEqual({ timeout_ms: 10_000 });
    const shown = await api.get(`/v1/destinations/${destination.id}`);
    expect(shown.text).not.toContain(tenant.key);

    const l = await listen(destination.id);
    const result = await provider.deliver(payload(destination.id, undefined, { authorization: "Bearer sender-secret", "proxy-authorization": "Basic x", cookie: "sid=1" }), { timeout_ms: 5000 }, realHub);
    expect(result.kind).toBe("delivered");
    await waitFor(async () => l.frames.length === 1, "the frame");
    expect(JSON.stringify(l.frames[0])).not.toMatch(/sender-secret|Basic x|sid=1/);

    l.ws.close(1000, "bye");
    await waitFor(async () => (await hubFor(env, destination.id).clients()) === 0, "no clients");
    const eventId = await ingest(source.id, '{"x":1}', { "content-type": "application/json", authorization: "Bearer sender-secret" });
    await waitFor(async () => (await attemptsOf(eventId)).length === 1, "the failed attempt");
    const attempts = await api.get(`/v1/events/${eventId}/attempts`);
    expect(attempts.text).toContain(NO_CLIENT_ERROR);
    expect(attempts.text).not.toContain("sender-secret");
    expect(attempts.text).not.toContain(tenant.key);
  });
});
