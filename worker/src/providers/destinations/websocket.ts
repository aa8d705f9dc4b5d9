import { z } from "zod";
import type { DeliveryResult } from "../../delivery/result.js";
import { decodeUtf8Strict, toBase64 } from "../../lib/encoding.js";
import type { DeliverContext, DeliveryPayload, DestinationProvider } from "./types.js";

/** Frames above this are refused (permanent): a conservative cap, since message limits differ between runtimes, proxies and clients. */
export const MAX_FRAME_BYTES = 1024 * 1024;
export const DEFAULT_WEBSOCKET_TIMEOUT_MS = 10_000;
export const NO_CLIENT_ERROR = "no WebSocket client connected";

/** Headers a listener must not see or replay: connection-level and credentials. */
const DROPPED_HEADERS: ReadonlySet<string> = new Set([
  "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "expect",
  "proxy-connection", "proxy-authenticate", "proxy-authorization", "authorization", "cookie", "set-cookie",
]);

/**
 * What a listener receives for every delivery, one JSON text message per delivery.
 * `delivery_id` is stable across retries (the `webhook-id` of HTTP destinations): dedupe on it.
 */
export interface WebSocketEventFrame {
  type: "event";
  event_id: string;
  delivery_id: string;
  attempt: number;
  source_id: string;
  connection_id: string;
  destination_id: string;
  /** When this frame was sent (ISO 8601). */
  timestamp: string;
  method: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  content_type: string | null;
  /** The body as delivered (after the connection's transform): UTF-8 text, or base64 of the bytes. */
  body: string;
  body_encoding: "utf8" | "base64";
}

/** The scheduler's door to a destination's WebSocketHub Durable Object. */
export interface WebSocketHubClient {
  publish(destinationId: string, frame: string): Promise<{ sent: number }>;
}

/** The scheduler passes this richer context; providers other than websocket ignore the extra field. */
export interface WebSocketDeliverContext extends DeliverContext {
  websockets: WebSocketHubClient;
}

export const websocketConfigSchema = z.strictObject({
  /** How long the hub may take to hand the frame to its sockets. */
  timeout_ms: z.int().min(100).max(60_000).default(DEFAULT_WEBSOCKET_TIMEOUT_MS),
});

export type WebSocketConfig = z.output<typeof websocketConfigSchema>;

function encodeBody(body: Uint8Array): { body: string; body_encoding: "utf8" | "base64" } {
  const text = decodeUtf8Strict(body);
  return text === null ? { body: toBase64(body), body_encoding: "base64" } : { body: text, body_encoding: "utf8" };
}

export function buildFrame(payload: DeliveryPayload, nowMs: number): WebSocketEventFrame {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload.headers)) {
    const lower = name.toLowerCase();
    if (!DROPPED_HEADERS.has(lower)) headers[lower] = value;
  }
  return {
    type: "event",
    event_id: payload.event_id,
    delivery_id: payload.delivery_id,
    attempt: payload.attempt_number,
    source_id: payload.source_id,
    connection_id: payload.connection_id,
    destination_id: payload.destination_id,
    timestamp: new Date(nowMs).toISOString(),
    method: payload.method,
    headers,
    query: payload.query,
    content_type: payload.content_type,
    ...encodeBody(payload.body),
  };
}

function hasHub(ctx: DeliverContext): ctx is WebSocketDeliverContext {
  return typeof (ctx as Partial<WebSocketDeliverContext>).websockets?.publish === "function";
}

/**
 * Delivered = handed to at least one open socket (no application-level ack). No client is a
 * retryable failure, so events wait in the scheduler's queue for a listener to come back.
 */
export const websocketDestination: DestinationProvider<WebSocketConfig> = {
  type: "websocket",
  configSchema: websocketConfigSchema,
  secretFields: [],

  async deliver(payload, config, ctx): Promise<DeliveryResult> {
    if (!hasHub(ctx)) throw new Error("websocket destination delivered without a WebSocket hub in the context");
    const started = ctx.now();
    const frame = JSON.stringify(buildFrame(payload, started));
    const size = new TextEncoder().encode(frame).byteLength;
    if (size > MAX_FRAME_BYTES) {
      return {
        kind: "permanent",
        error: `frame of ${size} bytes exceeds the ${MAX_FRAME_BYTES}-byte WebSocket message limit`,
        status_code: null,
        response_body: null,
        latency_ms: 0,
      };
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), config.timeout_ms);
    });
    let outcome: { sent: number } | "timeout" | "unreachable";
    try {
      outcome = await Promise.race([ctx.websockets.publish(payload.destination_id, frame), timeout]);
    } catch (err) {
      console.error("websocket hub unreachable", { destination: payload.destination_id, error: String(err) });
      outcome = "unreachable";
    } finally {
      clearTimeout(timer);
    }
    const latency_ms = Math.max(0, ctx.now() - started);
    const failed = { status_code: null, response_body: null, latency_ms };
    if (outcome === "timeout") return { kind: "retryable", error: `timed out after ${config.timeout_ms} ms`, ...failed };
    if (outcome === "unreachable") return { kind: "retryable", error: "WebSocket hub unreachable", ...failed };
    if (outcome.sent === 0) return { kind: "retryable", error: NO_CLIENT_ERROR, ...failed };
    return { kind: "delivered", status_code: null, response_body: `sent to ${outcome.sent} client${outcome.sent === 1 ? "" : "s"}`, latency_ms };
  },
};
