// The websocket destination on a real `wrangler dev`: listeners connect with the npm `ws` client
// (what `hookstream listen` will use), webhooks sent to a source reach every listener, and an
// event sent while nobody listens fails, is retried, and is delivered once someone connects.
import { afterAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import type {} from "./setup/gateway.js";
import { Api, ingestOk, type AttemptView, type DestinationView } from "./setup/api.js";
import { pollUntil } from "./setup/poll.js";

const { baseUrl, tenantA, tenantB } = inject("gateway");
const api = new Api(baseUrl, tenantA.api_key);
const sockets: WebSocket[] = [];

afterAll(() => {
  for (const ws of sockets) ws.terminate();
});

interface Frame {
  type: string;
  event_id: string;
  delivery_id: string;
  attempt: number;
  source_id: string;
  headers: Record<string, string>;
  body: string;
  body_encoding: string;
}

interface Listener {
  ws: WebSocket;
  frames: Frame[];
  protocol: string;
}

const wsUrl = (destinationId: string) => `${baseUrl.replace(/^http/, "ws")}/v1/destinations/${destinationId}/ws`;

/** Connects; `via: "protocol"` passes the key the way a browser must (a subprotocol entry). */
function listen(destinationId: string, via: "header" | "protocol" = "header"): Promise<Listener> {
  const ws =
    via === "header"
      ? new WebSocket(wsUrl(destinationId), { headers: { authorization: `Bearer ${tenantA.api_key}` } })
      : new WebSocket(wsUrl(destinationId), ["hookstream", `hookstream.bearer.${tenantA.api_key}`]);
  sockets.push(ws);
  const frames: Frame[] = [];
  ws.on("message", (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
  });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, frames, protocol: ws.protocol }));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

/** An upgrade the gateway must refuse: its status and JSON error body. */
function refused(url: string, headers: Record<string, string>): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
  const ws = new WebSocket(url, { headers });
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.once("open", () => reject(new Error("the upgrade was accepted")));
    ws.once("error", () => undefined);
    ws.once("unexpected-response", (_req, res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { error: { code: string; message: string } } }));
    });
  });
}

async function websocketDestination(extra: Record<string, unknown> = {}): Promise<DestinationView> {
  return api.expect<DestinationView>(201, "POST", "/v1/destinations", { name: `ws-${Date.now()}`, type: "websocket", config: {}, ...extra });
}

describe("websocket destination", () => {
  it("two listeners both receive a webhook sent to a connected source", async () => {
    const source = await api.createSource();
    const dst = await websocketDestination();
    await api.connect(source.id, dst.id);
    const cli = await listen(dst.id, "header");
    const browser = await listen(dst.id, "protocol");
    expect(browser.protocol).toBe("hookstream");

    const body = JSON.stringify({ type: "invoice.paid", amount: 4200 });
    const eventId = await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=abc", authorization: "Bearer sender" }, body });
    await pollUntil(async () => [cli.frames.length, browser.frames.length], ([a, b]) => a === 1 && b === 1, { what: "a frame on each listener" });
    for (const frame of [cli.frames[0]!, browser.frames[0]!]) {
      expect(frame).toMatchObject({ type: "event", event_id: eventId, attempt: 1, source_id: source.id, body, body_encoding: "utf8" });
      expect(frame.headers["stripe-signature"]).toBe("t=1,v1=abc");
      expect(frame.headers.authorization).toBeUndefined();
    }
    const event = await api.waitForEventStatus(eventId, "delivered");
    expect(cli.frames[0]!.delivery_id).toBe(event.deliveries[0]!.id);
    const attempts = await api.attempts(eventId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: "success", response_body: "sent to 2 clients" });
  });

  it("no listener: the attempt fails and is retried, then delivered once a listener connects", async () => {
    const source = await api.createSource();
    const dst = await websocketDestination({
      retry_policy: { strategy: "fixed", max_retries: 20, interval_seconds: 1 },
      circuit_breaker: { failure_threshold: 50, cooldown_seconds: 1 },
    });
    await api.connect(source.id, dst.id);
    const eventId = await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body: '{"n":1}' });

    // Retried while nobody listens: at least two failed attempts, each saying why.
    const failed = await pollUntil(() => api.attempts(eventId), (l) => l.length >= 2, { what: "two failed attempts", timeoutMs: 20_000, intervalMs: 200 });
    for (const a of failed) expect(a).toMatchObject({ status: "failed", error: "no WebSocket client connected", status_code: null });
    expect((await api.event(eventId)).deliveries[0]).toMatchObject({ status: "retrying", last_error: "no WebSocket client connected" });

    const l = await listen(dst.id);
    await pollUntil(async () => l.frames.length, (n) => n >= 1, { what: "the retried frame", timeoutMs: 20_000 });
    expect(l.frames[0]).toMatchObject({ event_id: eventId });
    expect(l.frames[0]!.attempt).toBeGreaterThanOrEqual(3);
    await api.waitForEventStatus(eventId, "delivered");
    const attempts: AttemptView[] = (await api.attempts(eventId)).sort((a, b) => a.attempt_number - b.attempt_number);
    expect(attempts.at(-1)).toMatchObject({ status: "success", attempt_number: l.frames[0]!.attempt });
    expect(attempts.filter((a) => a.status === "success")).toHaveLength(1);
    expect(l.frames).toHaveLength(1);
  });

  it("refuses upgrades without a key (401) and from another tenant (404) with the JSON error shape", async () => {
    const dst = await websocketDestination();
    const none = await refused(wsUrl(dst.id), {});
    expect(none).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
    const foreign = await refused(wsUrl(dst.id), { authorization: `Bearer ${tenantB.api_key}` });
    expect(foreign).toMatchObject({ status: 404, body: { error: { code: "not_found", message: "destination not found" } } });
  });
});
