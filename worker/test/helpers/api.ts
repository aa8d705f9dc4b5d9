import { SELF } from "cloudflare:test";
import { expect } from "vitest";

export const ORIGIN = "https://hookstream.test";

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: T;
}

export interface RequestOptions {
  key?: string | null;
  /** JSON-encoded unless `raw` is given. */
  json?: unknown;
  raw?: BodyInit;
  headers?: Record<string, string>;
}

export async function request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers = new Headers(opts.headers);
  if (opts.key) headers.set("authorization", `Bearer ${opts.key}`);
  let body: BodyInit | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const res = await SELF.fetch(`${ORIGIN}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed as T };
}

/** A client bound to one API key. */
export function client(key: string | null) {
  return {
    get: <T = unknown>(path: string) => request<T>("GET", path, { key }),
    delete: <T = unknown>(path: string) => request<T>("DELETE", path, { key }),
    post: <T = unknown>(path: string, json?: unknown) => request<T>("POST", path, { key, json }),
    patch: <T = unknown>(path: string, json?: unknown) => request<T>("PATCH", path, { key, json }),
    request: <T = unknown>(method: string, path: string, opts: Omit<RequestOptions, "key"> = {}) => request<T>(method, path, { ...opts, key }),
  };
}

export type Client = ReturnType<typeof client>;

export function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) expect.fail(`expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
}

const ERROR_CODES = new Set([
  "validation_failed", "invalid_json", "unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict",
  "managed_by_config", "payload_too_large", "upgrade_required", "rate_limited", "internal", "unavailable",
]);

/** The one error shape: `{ error: { code, message, details? } }`, a known code, and no internals. */
export function expectError(res: ApiResponse, status: number, code?: string): { code: string; message: string; details?: Record<string, unknown> } {
  expectStatus(res, status);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  const body = res.body as { error?: Record<string, unknown> } | undefined;
  expect(body && typeof body === "object", `error body is JSON: ${res.text}`).toBe(true);
  expect(Object.keys(body!)).toEqual(["error"]);
  const error = body!.error!;
  const keys = Object.keys(error).sort();
  expect(keys.filter((k) => k !== "details")).toEqual(["code", "message"]);
  expect(keys.every((k) => ["code", "message", "details"].includes(k)), `unexpected keys ${keys.join(",")}`).toBe(true);
  expect(typeof error.code).toBe("string");
  expect(typeof error.message).toBe("string");
  expect(ERROR_CODES.has(error.code as string), `unknown error code ${String(error.code)}`).toBe(true);
  if (code) expect(error.code).toBe(code);
  if ("details" in error) expect(typeof error.details === "object" && error.details !== null).toBe(true);
  expectNoInternals(res.text);
  return error as { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * Stack frames, source paths and JS error class names have no place in a response. The one
 * path allowed is where a declared resource lives in the user's infra/ (409 managed_by_config).
 */
export function expectNoInternals(text: string): void {
  expect(text.replace(/infra\/[\w./-]+\.ts:\d+/g, "infra/<file>")).not.toMatch(/\bat [\w.<>]+ \(|\n\s+at |\.ts:\d+|\.js:\d+|node_modules|(Type|Reference|Syntax|Range)Error|stack/);
}

export const hex32 = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
