import type { Context } from "hono";
import type { AppEnv } from "../api/context.js";
import { ERROR_STATUS, type ErrorCode } from "../lib/errors.js";
import { authFor } from "./better-auth.js";

const CODE_BY_STATUS: Record<number, ErrorCode> = { 400: "validation_failed", 401: "unauthorized", 403: "forbidden", 404: "not_found", 422: "validation_failed", 429: "rate_limited" };

/**
 * Better Auth's own routes under /api/auth (sign-up, sign-in, sign-out, change-password, …).
 * Its error bodies `{ code, message }` are re-shaped into the API's `{ error: { code, message } }`
 * (Better Auth's code kept as `details.reason`); successes pass through untouched.
 */
export async function handleAuth(c: Context<AppEnv>): Promise<Response> {
  const res = await authFor(c.env, c.req.url).handler(c.req.raw);
  if (res.status < 400) return res;
  let parsed: { code?: unknown; message?: unknown } = {};
  try {
    parsed = (await res.clone().json()) as typeof parsed;
  } catch {
    // not JSON: keep the defaults
  }
  const status = res.status >= 500 ? 500 : res.status;
  const code: ErrorCode = status >= 500 ? "internal" : (CODE_BY_STATUS[status] ?? "validation_failed");
  const message = status >= 500 ? "internal error" : typeof parsed.message === "string" && parsed.message ? parsed.message : code.replaceAll("_", " ");
  const headers = new Headers(res.headers);
  headers.set("content-type", "application/json");
  headers.delete("content-length");
  const reason = status < 500 && typeof parsed.code === "string" ? { details: { reason: parsed.code } } : {};
  return new Response(JSON.stringify({ error: { code, message, ...reason } }), { status: status === 500 ? ERROR_STATUS.internal : status, headers });
}
