import { describe, expect, it } from "vitest";
import { buildFrame, MAX_FRAME_BYTES, NO_CLIENT_ERROR, websocketConfigSchema, websocketDestination, type WebSocketDeliverContext } from "./websocket.js";
import type { DeliverContext, DeliveryPayload } from "./types.js";

const payload = (body: Uint8Array, headers: Record<string, string> = {}): DeliveryPayload => ({
  delivery_id: "dlv_1", event_id: "evt_1", source_id: "src_1", connection_id: "con_1", destination_id: "dst_1", attempt_number: 3,
  method: "PUT", headers, query: { a: "1" }, body, content_type: headers["content-type"] ?? null,
});

/** A hub standing in for the Durable Object: records frames and reports `sent` receivers. */
function hub(sent: number, frames: string[] = []): WebSocketDeliverContext {
  return {
    outbound: { send: () => Promise.reject(new Error("no network for websocket")) },
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    websockets: { publish: async (_id, frame) => (frames.push(frame), { sent }) },
  };
}

describe("websocket frames", () => {
  it("carry the ids, attempt, request line, forwardable headers and the body as text", () => {
    const frame = buildFrame(
      payload(new TextEncoder().encode('{"é":1}'), { "content-type": "application/json", "stripe-signature": "t=1", authorization: "Bearer x", cookie: "a=b", "proxy-authorization": "y", "x-Mixed": "v" }),
      Date.UTC(2026, 0, 2, 3, 4, 5),
    );
    expect(frame).toEqual({
      type: "event", event_id: "evt_1", delivery_id: "dlv_1", attempt: 3, source_id: "src_1", connection_id: "con_1", destination_id: "dst_1",
      timestamp: "2026-01-02T03:04:05.000Z", method: "PUT", headers: { "content-type": "application/json", "stripe-signature": "t=1", "x-mixed": "v" },
      query: { a: "1" }, content_type: "application/json", body: '{"é":1}', body_encoding: "utf8",
    });
  });

  it("carry bytes that are not UTF-8 as base64", () => {
    const frame = buildFrame(payload(new Uint8Array([0xff, 0x00, 0xfe])), 0);
    expect(frame).toMatchObject({ body: "/wD+", body_encoding: "base64" });
  });
});

describe("websocket provider", () => {
  it("config is {} with a default timeout; unknown keys are refused", () => {
    expect(websocketConfigSchema.parse({})).toEqual({ timeout_ms: 10_000 });
    expect(websocketConfigSchema.safeParse({ url: "https://x" }).success).toBe(false);
  });

  it("delivered when at least one socket took the frame; retryable when none did", async () => {
    const frames: string[] = [];
    expect(await websocketDestination.deliver(payload(new Uint8Array()), { timeout_ms: 1000 }, hub(2, frames))).toMatchObject({ kind: "delivered", response_body: "sent to 2 clients" });
    expect(JSON.parse(frames[0]!)).toMatchObject({ delivery_id: "dlv_1" });
    expect(await websocketDestination.deliver(payload(new Uint8Array()), { timeout_ms: 1000 }, hub(0))).toMatchObject({ kind: "retryable", error: NO_CLIENT_ERROR });
  });

  it("an oversize frame is permanent and never published", async () => {
    const frames: string[] = [];
    const result = await websocketDestination.deliver(payload(new Uint8Array(MAX_FRAME_BYTES).fill(0x61)), { timeout_ms: 1000 }, hub(1, frames));
    expect(result.kind).toBe("permanent");
    expect(frames).toEqual([]);
  });

  it("a hub that throws is a retryable failure that does not echo the error", async () => {
    const ctx: WebSocketDeliverContext = { ...hub(1), websockets: { publish: () => Promise.reject(new Error("internal detail 42")) } };
    const result = await websocketDestination.deliver(payload(new Uint8Array()), { timeout_ms: 1000 }, ctx);
    expect(result).toMatchObject({ kind: "retryable", error: "WebSocket hub unreachable" });
  });

  it("without a hub in the context it is a bug, thrown", async () => {
    const bare: DeliverContext = { outbound: hub(1).outbound, now: Date.now };
    await expect(websocketDestination.deliver(payload(new Uint8Array()), { timeout_ms: 1000 }, bare)).rejects.toThrow(/without a WebSocket hub/);
  });
});
