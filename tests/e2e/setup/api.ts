// A small typed client for the gateway's REST API (/v1), as the e2e tests use it.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Webhook } from "standardwebhooks";
import { pollUntil } from "./poll.js";

export interface ApiError {
  error: { code: string; message: string };
}
export interface SourceView {
  id: string;
  name: string;
  ingest_url: string;
  max_body_bytes: number;
}
export interface RetryPolicy {
  strategy: "fixed" | "linear" | "exponential";
  max_retries: number;
  interval_seconds: number;
}
export interface CircuitBreakerPolicy {
  failure_threshold: number;
  cooldown_seconds: number;
}
export interface DestinationView {
  id: string;
  name: string;
  type: string;
  config: { url: string; signing_secret?: string } & Record<string, unknown>;
  retry_policy: RetryPolicy;
  circuit_breaker: CircuitBreakerPolicy;
}
export interface ConnectionView {
  id: string;
  source_id: string;
  destination_id: string;
}
export type EventStatus = "received" | "processing" | "delivered" | "failed";
export interface DeliveryView {
  id: string;
  connection_id: string;
  destination_id: string;
  status: "pending" | "retrying" | "delivered" | "failed";
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
}
export interface EventView {
  id: string;
  source_id: string;
  status: EventStatus;
  method: string;
  content_type: string | null;
  metadata: { content_length: number; source_ip: string | null; user_agent: string | null };
  headers: Record<string, string>;
  query: Record<string, string>;
  body: string;
  body_encoding: "utf8" | "base64";
  deliveries: DeliveryView[];
}
export interface AttemptView {
  id: string;
  event_id: string;
  delivery_id: string;
  destination_id: string;
  connection_id: string;
  attempt_number: number;
  status: "success" | "failed";
  status_code: number | null;
  latency_ms: number;
  response_body: string | null;
  error: string | null;
  created_at: string;
}
export interface CircuitView {
  state: "closed" | "open" | "half_open";
  consecutive_failures: number;
  opened_at: string | null;
  queue_depth: number;
}
export interface DeadLetterView {
  id: string;
  event_id: string;
  delivery_id: string;
  destination_id: string;
  reason: string;
  attempts: number;
  last_status_code: number | null;
}
export interface List<T> {
  data: T[];
  next_cursor: string | null;
}

export interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface HttpDestinationInput {
  url: string;
  name?: string;
  method?: string;
  headers?: Record<string, string>;
  timeout_ms?: number;
  signing_secret?: string;
  retry_policy?: RetryPolicy;
  circuit_breaker?: CircuitBreakerPolicy;
}

let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++seq}`;

export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text so the assertion shows it
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** Like request(), but throws unless the status is `expected`. */
  async expect<T>(expected: number, method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request<T>(method, path, body);
    if (res.status !== expected) {
      throw new Error(`${method} ${path}: expected HTTP ${expected}, got ${res.status}: ${JSON.stringify(res.body)}`);
    }
    return res.body;
  }

  createSource(input: { name?: string; max_body_bytes?: number } = {}) {
    return this.expect<SourceView>(201, "POST", "/v1/sources", { name: input.name ?? unique("src"), ...input });
  }

  createHttpDestination(input: HttpDestinationInput) {
    const { name, retry_policy, circuit_breaker, ...config } = input;
    return this.expect<DestinationView>(201, "POST", "/v1/destinations", {
      name: name ?? unique("dst"),
      type: "http",
      config,
      ...(retry_policy ? { retry_policy } : {}),
      ...(circuit_breaker ? { circuit_breaker } : {}),
    });
  }

  connect(sourceId: string, destinationId: string) {
    return this.expect<ConnectionView>(201, "POST", "/v1/connections", { source_id: sourceId, destination_id: destinationId });
  }

  event(id: string) {
    return this.expect<EventView>(200, "GET", `/v1/events/${id}`);
  }

  async attempts(eventId: string): Promise<AttemptView[]> {
    return (await this.expect<List<AttemptView>>(200, "GET", `/v1/events/${eventId}/attempts?limit=100`)).data;
  }

  async attemptsOfDestination(destinationId: string): Promise<AttemptView[]> {
    return (await this.expect<List<AttemptView>>(200, "GET", `/v1/delivery-attempts?destination_id=${destinationId}&limit=100`)).data;
  }

  circuit(destinationId: string) {
    return this.expect<CircuitView>(200, "GET", `/v1/destinations/${destinationId}/circuit`);
  }

  async dlq(destinationId: string): Promise<DeadLetterView[]> {
    return (await this.expect<List<DeadLetterView>>(200, "GET", `/v1/destinations/${destinationId}/dlq?limit=100`)).data;
  }

  /** Polls GET /v1/events/:id until the event has `status`. */
  waitForEventStatus(id: string, status: EventStatus, timeoutMs = 20_000) {
    return pollUntil(() => this.event(id), (e) => e.status === status, { what: `event ${id} to become ${status}`, timeoutMs, intervalMs: 150 });
  }
}

/** A source wired to one new HTTP destination per receiver URL. */
export async function wire(api: Api, destinations: HttpDestinationInput[], source: { max_body_bytes?: number } = {}) {
  const src = await api.createSource(source);
  const dsts: DestinationView[] = [];
  for (const d of destinations) {
    const dst = await api.createHttpDestination(d);
    await api.connect(src.id, dst.id);
    dsts.push(dst);
  }
  return { source: src, destinations: dsts };
}

/** Sends a webhook to the gateway's ingest endpoint the way a provider would (no API key). */
export async function ingest(
  baseUrl: string,
  sourceId: string,
  init: { method?: string; query?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
) {
  const res = await fetch(`${baseUrl}/v1/ingest/${sourceId}${init.query ? `?${init.query}` : ""}`, {
    method: init.method ?? "POST",
    headers: init.headers,
    // a copy: fetch's types want an ArrayBuffer-backed view, and Buffers may share a pool
    body: typeof init.body === "string" || init.body === undefined ? init.body : new Uint8Array(init.body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

/** Ingests and expects a 202; returns the event id. */
export async function ingestOk(baseUrl: string, sourceId: string, init: Parameters<typeof ingest>[2] = {}): Promise<string> {
  const res = await ingest(baseUrl, sourceId, init);
  if (res.status !== 202) throw new Error(`ingest: expected 202, got ${res.status}: ${JSON.stringify(res.body)}`);
  const { event_id } = res.body as { event_id: string };
  return event_id;
}

function stringHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === "string") out[k] = v;
  return out;
}

/**
 * Verifies a Standard Webhooks signature with the reference `standardwebhooks` package.
 * That package hashes the payload as a JS string, so it only fits UTF-8 bodies; throws on mismatch.
 */
export function verifyWithStandardWebhooks(secret: string, headers: IncomingHttpHeaders, body: Buffer): void {
  new Webhook(secret).verify(body.toString("utf8"), stringHeaders(headers), { jsonParse: false });
}

/**
 * Standard Webhooks verification over the raw bytes (what the spec signs): `v1,` base64
 * HMAC-SHA256 of `${id}.${timestamp}.${body}` keyed with the base64 part of `whsec_…`.
 * Used for binary bodies, which the reference package cannot check.
 */
export function signatureMatchesBytes(secret: string, headers: IncomingHttpHeaders, body: Buffer): boolean {
  const id = headers["webhook-id"];
  const ts = headers["webhook-timestamp"];
  const sigs = headers["webhook-signature"];
  if (typeof id !== "string" || typeof ts !== "string" || typeof sigs !== "string") return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(Buffer.concat([Buffer.from(`${id}.${ts}.`), body])).digest();
  return sigs.split(" ").some((s) => {
    const [version, value] = s.split(",");
    if (version !== "v1" || value === undefined) return false;
    const got = Buffer.from(value, "base64");
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
