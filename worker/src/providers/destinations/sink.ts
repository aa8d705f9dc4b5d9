// Shared pieces of the "sink" providers (SQS, S3, EventBridge, Pub/Sub, Kafka REST, RabbitMQ):
// templates, event metadata, turning an outbound result into a DeliveryResult, error text.
import { z } from "zod";
import type { OutboundRequest, OutboundResult } from "../../delivery/outbound.js";
import { outboundFailure, type AttemptDetail, type DeliveryResult } from "../../delivery/result.js";
import type { DeliverContext, DeliveryPayload } from "./types.js";

export const DEFAULT_SINK_TIMEOUT_MS = 30_000;
export const timeoutMs = z.int().min(100).max(60_000).default(DEFAULT_SINK_TIMEOUT_MS);
const MAX_ERROR_LENGTH = 300;

/** An endpoint or base URL: http(s), no credentials in it (those go in secret fields). */
export const endpointUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.username === "" && url.password === "";
    } catch {
      return false;
    }
  }, "must not contain credentials");

export const TEMPLATE_VARIABLES = [
  "event_id", "event_type", "source_id", "source", "destination_id", "connection_id", "delivery_id", "yyyy", "mm", "dd", "hh",
] as const;
const TEMPLATE_TOKEN = /\{([a-z_]+)\}/g;

/** A template such as `{source}/{yyyy}/{mm}/{dd}/{event_id}.json`; unknown variables are rejected on create. */
export function template(max = 1024) {
  return z
    .string()
    .min(1)
    .max(max)
    .refine(
      (value) => [...value.matchAll(TEMPLATE_TOKEN)].every((m) => (TEMPLATE_VARIABLES as readonly string[]).includes(m[1] ?? "")),
      `unknown template variable; known: ${TEMPLATE_VARIABLES.map((v) => `{${v}}`).join(", ")}`,
    );
}

/** When the event was received: from the time-sortable event id, else now. */
export function eventTime(payload: DeliveryPayload, now: number): Date {
  const match = /^evt_([0-9a-f]{12})/.exec(payload.event_id);
  return new Date(match?.[1] === undefined ? now : parseInt(match[1], 16));
}

/**
 * The event's type, for message attributes and routing keys: a top-level string `type` (or `event`,
 * `event_type`) in a JSON body, else a well-known event header, else "webhook".
 */
export function eventType(payload: DeliveryPayload): string {
  const json = bodyJson(payload);
  if (json !== undefined && typeof json === "object" && json !== null && !Array.isArray(json)) {
    for (const key of ["type", "event", "event_type"]) {
      const value = (json as Record<string, unknown>)[key];
      if (typeof value === "string" && value !== "") return value.slice(0, 256);
    }
  }
  for (const header of ["x-github-event", "x-event-type", "x-shopify-topic", "x-gitlab-event"]) {
    const value = payload.headers[header];
    if (value !== undefined && value !== "") return value.slice(0, 256);
  }
  return "webhook";
}

const parsedBodies = new WeakMap<Uint8Array, unknown>();
/** The body parsed as JSON, or undefined when it is not JSON. */
export function bodyJson(payload: DeliveryPayload): unknown {
  if (parsedBodies.has(payload.body)) return parsedBodies.get(payload.body);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(payload.body));
  } catch {
    value = undefined;
  }
  parsedBodies.set(payload.body, value);
  return value;
}

export function renderTemplate(tpl: string, payload: DeliveryPayload, now: number): string {
  const at = eventTime(payload, now);
  const pad = (n: number) => String(n).padStart(2, "0");
  const vars: Record<string, string> = {
    event_id: payload.event_id,
    event_type: eventType(payload),
    source_id: payload.source_id,
    source: payload.source_id,
    destination_id: payload.destination_id,
    connection_id: payload.connection_id,
    delivery_id: payload.delivery_id,
    yyyy: String(at.getUTCFullYear()),
    mm: pad(at.getUTCMonth() + 1),
    dd: pad(at.getUTCDate()),
    hh: pad(at.getUTCHours()),
  };
  return tpl.replace(TEMPLATE_TOKEN, (whole, name: string) => vars[name] ?? whole);
}

/** Metadata every sink attaches to a message (as attributes, headers or metadata). */
export function eventMetadata(payload: DeliveryPayload): Record<string, string> {
  return {
    "hookstream-event-id": payload.event_id,
    "hookstream-event-type": eventType(payload),
    "hookstream-source-id": payload.source_id,
    "hookstream-delivery-id": payload.delivery_id,
    "hookstream-attempt": String(payload.attempt_number),
  };
}

export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${base64(new TextEncoder().encode(`${username}:${password}`))}`;
}

export function shorten(text: string, max = MAX_ERROR_LENGTH): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

export type Verdict = { kind: "delivered" } | { kind: "retryable" | "permanent"; error: string; retry_after_ms?: number };

/**
 * For broker APIs: throttling, server errors, timeouts and credential errors (401/403: someone may
 * fix or rotate the key, then the retries succeed) are retryable; other 4xx are permanent.
 */
export function statusVerdict(status: number): "delivered" | "retryable" | "permanent" {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 401 || status === 403 || status === 408 || status === 429 || status >= 500) return "retryable";
  return "permanent";
}

export function tooLarge(provider: string, size: number, limit: number): DeliveryResult {
  return {
    kind: "permanent",
    error: `payload of ${size} bytes exceeds the ${provider} limit of ${limit} bytes`,
    status_code: null,
    response_body: null,
    latency_ms: 0,
  };
}

/**
 * Sends one request through the outbound door and maps the answer with `judge`
 * (which sees the status and the capped response body). Network-level failures map
 * like the HTTP provider's: timeouts and network errors retry, blocked addresses do not.
 */
export async function sendAndJudge(
  ctx: DeliverContext,
  request: OutboundRequest,
  judge: (status: number, body: string, headers: Headers) => Verdict,
): Promise<DeliveryResult> {
  const result: OutboundResult = await ctx.outbound.send(request);
  if (!result.ok) return outboundFailure(result, request.timeout_ms);
  const detail: AttemptDetail = { status_code: result.response.status, response_body: result.response.body, latency_ms: result.response.latency_ms };
  const verdict = judge(result.response.status, result.response.body, result.response.headers);
  if (verdict.kind === "delivered") return { kind: "delivered", ...detail };
  const error = shorten(verdict.error);
  if (verdict.kind === "permanent") return { kind: "permanent", error, ...detail };
  return verdict.retry_after_ms === undefined
    ? { kind: "retryable", error, ...detail }
    : { kind: "retryable", error, retry_after_ms: verdict.retry_after_ms, ...detail };
}

/** A failure that happened before anything was sent (e.g. a token exchange or signing error). */
export function localFailure(kind: "retryable" | "permanent", error: string, latency_ms = 0): DeliveryResult {
  return { kind, error: shorten(error), status_code: null, response_body: null, latency_ms };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
