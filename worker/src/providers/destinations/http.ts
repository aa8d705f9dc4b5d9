import { z } from "zod";
import { outboundFailure, type AttemptDetail, type DeliveryResult } from "../../delivery/result.js";
import type { OutboundResponse } from "../../delivery/outbound.js";
import { decodeSigningSecret, generateSigningSecret, standardWebhookHeaders } from "../../delivery/signing.js";
import type { DeliveryPayload, DestinationProvider } from "./types.js";

export const HTTP_METHODS = ["POST", "PUT", "PATCH", "GET", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const USER_AGENT = "hookstream/0.1";
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Set by the connection itself or by hookstream; a configured value would be wrong or silently lost. */
const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
  "expect",
]);
const RESERVED_HEADER_PREFIXES = ["webhook-", "x-hookstream-"];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return HOP_BY_HOP_HEADERS.has(lower) || RESERVED_HEADER_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

// zod 4 runs later checks even after z.url() failed, so this must cope with unparsable input.
function hasCredentials(value: string): boolean {
  try {
    const url = new URL(value);
    return url.username !== "" || url.password !== "";
  } catch {
    return false;
  }
}

const statusCode = z.int().min(300).max(599);

export const httpConfigSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .max(2048)
      .refine((value) => !hasCredentials(value), "must not contain credentials"),
    method: z.enum(HTTP_METHODS).default("POST"),
    headers: z
      .record(
        z
          .string()
          .regex(HEADER_NAME, "invalid header name")
          .refine((name) => !isReservedHeader(name), "header is set by hookstream or the connection"),
        z.string().max(8192).regex(HEADER_VALUE, "invalid header value"),
      )
      .optional(),
    timeout_ms: z.int().min(100).max(60_000).default(DEFAULT_TIMEOUT_MS),
    /** Append the ingest request's query string to the URL (as Hookdeck does); the URL's own parameters win. */
    forward_query: z.boolean().default(true),
    signing_secret: z
      .string()
      .refine((secret) => {
        const key = decodeSigningSecret(secret);
        return key !== null && key.length >= 24 && key.length <= 64;
      }, "must be whsec_ followed by 24 to 64 base64-encoded bytes")
      .optional(),
    permanent_status_codes: z.array(statusCode).max(100).optional(),
    retryable_status_codes: z.array(statusCode).max(100).optional(),
  })
  .superRefine((config, ctx) => {
    const permanent = new Set(config.permanent_status_codes ?? []);
    const both = (config.retryable_status_codes ?? []).filter((code) => permanent.has(code));
    if (both.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["retryable_status_codes"],
        message: `listed as both permanent and retryable: ${both.join(", ")}`,
      });
    }
  });

export type HttpConfig = z.output<typeof httpConfigSchema>;

const REASON_PHRASES: Readonly<Record<number, string>> = {
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  425: "Too Early",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function describeStatus(status: number): string {
  const phrase = REASON_PHRASES[status];
  return phrase === undefined ? `HTTP ${status}` : `HTTP ${status} ${phrase}`;
}

/** Retry-After as delay-seconds or HTTP-date (RFC 9110 §10.2.3), in ms from `nowMs`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse also accepts "5" or "2024"; only take what looks like an HTTP-date.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

type StatusClass = "delivered" | "retryable" | "permanent";

export function classifyStatus(status: number, config: Pick<HttpConfig, "permanent_status_codes" | "retryable_status_codes">): StatusClass {
  if (config.permanent_status_codes?.includes(status)) return "permanent";
  if (config.retryable_status_codes?.includes(status)) return "retryable";
  if (status >= 200 && status < 300) return "delivered";
  if (status === 408 || status === 429 || status >= 500) return "retryable";
  return "permanent";
}

function resultFromResponse(response: OutboundResponse, config: HttpConfig, nowMs: number): DeliveryResult {
  const detail: AttemptDetail = {
    status_code: response.status,
    response_body: response.body,
    latency_ms: response.latency_ms,
  };
  const kind = classifyStatus(response.status, config);
  if (kind === "delivered") return { kind, ...detail };
  const error = describeStatus(response.status);
  if (kind === "permanent") return { kind, error, ...detail };
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), nowMs);
  return retryAfterMs === undefined ? { kind, error, ...detail } : { kind, error, retry_after_ms: retryAfterMs, ...detail };
}

function buildHeaders(payload: DeliveryPayload, config: HttpConfig, sendsBody: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload.headers)) {
    if (!isReservedHeader(name)) headers[name.toLowerCase()] = value;
  }
  if (sendsBody) headers["content-type"] = payload.content_type ?? "application/json";
  else delete headers["content-type"];
  headers["user-agent"] = USER_AGENT;
  // Configured headers win over the defaults above (a receiver may insist on its own content-type).
  for (const [name, value] of Object.entries(config.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower !== "content-type" || sendsBody) headers[lower] = value;
  }
  headers["x-hookstream-event-id"] = payload.event_id;
  headers["x-hookstream-source-id"] = payload.source_id;
  headers["x-hookstream-attempt"] = String(payload.attempt_number);
  return headers;
}

export function withQuery(url: string, query: Record<string, string>): string {
  const entries = Object.entries(query);
  if (entries.length === 0) return url;
  const target = new URL(url);
  for (const [name, value] of entries) if (!target.searchParams.has(name)) target.searchParams.set(name, value);
  return target.toString();
}

export const httpDestination: DestinationProvider<HttpConfig> = {
  type: "http",
  configSchema: httpConfigSchema,
  secretFields: ["signing_secret"],

  async prepare(config) {
    return config.signing_secret === undefined ? { ...config, signing_secret: generateSigningSecret() } : config;
  },

  async deliver(payload, config, ctx) {
    const sendsBody = config.method !== "GET" && config.method !== "DELETE";
    const body = sendsBody ? payload.body : new Uint8Array(0);
    const headers = buildHeaders(payload, config, sendsBody);

    if (config.signing_secret !== undefined) {
      Object.assign(
        headers,
        await standardWebhookHeaders({
          secret: config.signing_secret,
          id: payload.delivery_id,
          timestamp: Math.floor(ctx.now() / 1000),
          body,
        }),
      );
    }

    const result = await ctx.outbound.send({
      url: config.forward_query ? withQuery(config.url, payload.query) : config.url,
      method: config.method,
      headers,
      body: sendsBody ? body : null,
      timeout_ms: config.timeout_ms,
    });

    if (result.ok) return resultFromResponse(result.response, config, ctx.now());

    return outboundFailure(result, config.timeout_ms);
  },
};
