import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { z } from "@hono/zod-openapi";
import { AppError, ERROR_STATUS, type ErrorCode } from "../lib/errors.js";
import { ErrorSchema } from "./schemas.js";

export function validationError(error: z.ZodError): AppError {
  const issues = error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const message = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  return new AppError("validation_failed", message || "invalid request", { issues });
}

/** The one place that turns errors into HTTP. A 5xx never echoes internals. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof AppError) {
    return c.json({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } }, err.status);
  }
  if (err instanceof HTTPException && err.status < 500) {
    if (err.status === 400) return c.json({ error: { code: "invalid_json", message: "request body is not valid JSON" } }, 400);
    // Keep the framework's status only where a code of ours says the same thing.
    const code = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((k) => ERROR_STATUS[k] === err.status && k !== "validation_failed");
    if (code) return c.json({ error: { code, message: err.message || code.replaceAll("_", " ") } }, ERROR_STATUS[code]);
    return c.json({ error: { code: "validation_failed", message: err.message || "bad request" } }, 400);
  }
  console.error("unhandled error", { path: new URL(c.req.url).pathname, error: err instanceof Error ? err.stack ?? err.message : String(err) });
  return c.json({ error: { code: "internal", message: "internal error" } }, ERROR_STATUS.internal);
}

export const errorResponses = {
  400: { content: { "application/json": { schema: ErrorSchema } }, description: "invalid request" },
  401: { content: { "application/json": { schema: ErrorSchema } }, description: "missing or invalid API key or session" },
  403: { content: { "application/json": { schema: ErrorSchema } }, description: "the caller's role may not do this (or an API key on a session-only route)" },
  404: { content: { "application/json": { schema: ErrorSchema } }, description: "not found in this project" },
  429: { content: { "application/json": { schema: ErrorSchema } }, description: "too many invalid API keys from this address" },
} as const;

/** On PATCH / DELETE / rotate-secret of resources a declared config may manage. */
export const managedResponses = {
  409: {
    content: { "application/json": { schema: ErrorSchema } },
    description: "`managed_by_config`: the resource is declared in infra/ (`details.declared_in` names the file and line); change it there and deploy",
  },
} as const;
