import { RESPONSE_BODY_CAP } from "../model/types.js";
import { isBlockedHost } from "./ssrf.js";

export interface OutboundRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array | string | null;
  timeout_ms: number;
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  /** Response body decoded as UTF-8 and cut to the response cap. */
  body: string;
  truncated: boolean;
  latency_ms: number;
}

export type OutboundFailureKind = "timeout" | "network" | "blocked_address" | "too_many_redirects" | "invalid_url";

export type OutboundResult =
  | { ok: true; response: OutboundResponse }
  | { ok: false; kind: OutboundFailureKind; message: string; latency_ms: number };

export interface Outbound {
  send(request: OutboundRequest): Promise<OutboundResult>;
}

export interface OutboundOptions {
  fetch: typeof fetch;
  /** Skips the SSRF guard; for local development and tests against 127.0.0.1. */
  allowPrivate: boolean;
  /** Defaults to RESPONSE_BODY_CAP. */
  maxResponseBytes?: number;
  /** Defaults to 5. */
  maxRedirects?: number;
  now?: () => number;
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language", "content-location"];
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];
const MAX_ERROR_LENGTH = 200;

type Failure = Extract<OutboundResult, { ok: false }>;
type Hop = { url: URL } | { failure: Omit<Failure, "latency_ms"> };

export function createOutbound(opts: OutboundOptions): Outbound {
  // Calling fetch as `opts.fetch(...)` would bind `this` to opts; workerd rejects that with "Illegal invocation".
  const doFetch = opts.fetch;
  const now = opts.now ?? Date.now;
  const maxResponseBytes = opts.maxResponseBytes ?? RESPONSE_BODY_CAP;
  const maxRedirects = opts.maxRedirects ?? 5;

  const checkUrl = (raw: string, base?: URL): Hop => {
    let url: URL;
    try {
      url = new URL(raw, base);
    } catch {
      return { failure: { ok: false, kind: "invalid_url", message: "invalid URL" } };
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return { failure: { ok: false, kind: "invalid_url", message: `unsupported protocol ${url.protocol}` } };
    }
    if (url.username !== "" || url.password !== "") {
      return { failure: { ok: false, kind: "invalid_url", message: "URL must not contain credentials" } };
    }
    if (!opts.allowPrivate && isBlockedHost(url.hostname)) {
      return { failure: { ok: false, kind: "blocked_address", message: `address not allowed: ${url.hostname}` } };
    }
    return { url };
  };

  return {
    async send(request) {
      const started = now();
      const fail = (failure: Omit<Failure, "latency_ms">): Failure => ({ ...failure, latency_ms: now() - started });

      const first = checkUrl(request.url);
      if ("failure" in first) return fail(first.failure);

      let headers: Headers;
      try {
        headers = new Headers(request.headers);
      } catch {
        return fail({ ok: false, kind: "network", message: "invalid request header" });
      }

      const controller = new AbortController();
      const timeoutMs = Math.max(1, request.timeout_ms);
      const timer = setTimeout(() => controller.abort(), timeoutMs);

      let url = first.url;
      let method = request.method.toUpperCase();
      let body = method === "GET" || method === "HEAD" ? null : (request.body ?? null);

      try {
        for (let redirects = 0; ; redirects++) {
          const response = await doFetch(url.toString(), {
            method,
            headers,
            body,
            redirect: "manual",
            signal: controller.signal,
          });

          const location = response.headers.get("location");
          if (!REDIRECT_STATUSES.has(response.status) || location === null) {
            const read = await readCapped(response, maxResponseBytes);
            return {
              ok: true,
              response: {
                status: response.status,
                headers: response.headers,
                body: read.body,
                truncated: read.truncated,
                latency_ms: now() - started,
              },
            };
          }

          await response.body?.cancel().catch(() => undefined);
          if (redirects >= maxRedirects) {
            return fail({ ok: false, kind: "too_many_redirects", message: `more than ${maxRedirects} redirects` });
          }
          const next = checkUrl(location, url);
          if ("failure" in next) return fail(next.failure);

          // Same rewrite as the fetch spec: 303 (and POST on 301/302) becomes a body-less GET.
          const status = response.status;
          if ((status === 303 && method !== "HEAD") || ((status === 301 || status === 302) && method === "POST")) {
            method = "GET";
            body = null;
            headers = withoutHeaders(headers, BODY_HEADERS);
          }
          if (next.url.origin !== url.origin) headers = withoutHeaders(headers, CREDENTIAL_HEADERS);
          url = next.url;
        }
      } catch (err) {
        if (controller.signal.aborted) {
          return fail({ ok: false, kind: "timeout", message: `timed out after ${timeoutMs} ms` });
        }
        return fail({ ok: false, kind: "network", message: describeNetworkError(err) });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function withoutHeaders(headers: Headers, names: readonly string[]): Headers {
  const copy = new Headers(headers);
  for (const name of names) copy.delete(name);
  return copy;
}

async function readCapped(response: Response, cap: number): Promise<{ body: string; truncated: boolean }> {
  if (response.body === null) return { body: "", truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;

  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = cap - size;
    if (value.byteLength > room) {
      chunks.push(value.subarray(0, room));
      size += room;
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }

  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // In stream mode a UTF-8 sequence cut by the cap is held back instead of becoming U+FFFD.
  const body = new TextDecoder().decode(bytes, { stream: truncated });
  return { body, truncated };
}

function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  if (err instanceof Error) {
    parts.push(err.message);
    const cause: unknown = err.cause;
    if (cause instanceof Error && cause.message !== "" && cause.message !== err.message) parts.push(cause.message);
  } else {
    parts.push(String(err));
  }
  const firstLines = parts.map((part) => part.split("\n")[0]?.trim() ?? "").filter((part) => part !== "");
  const message = firstLines.join(": ") || "network error";
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message;
}
