import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { z } from "@hono/zod-openapi";
import { AppError, ERROR_STATUS } from "../lib/errors.js";
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
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 400) return c.json({ error: { code: "invalid_json", message: "request body is not valid JSON" } }, 400);
    if (status === 413) return c.json({ error: { code: "payload_too_large", message: "request body too large" } }, 413);
    if (status < 500) return c.json({ error: { code: "validation_failed", message: err.message || "bad request" } }, status);
  }
  console.error("unhandled error", { path: new URL(c.req.url).pathname, error: err instanceof Error ? err.stack ?? err.message : String(err) });
  return c.json({ error: { code: "internal", message: "internal error" } }, ERROR_STATUS.internal);
}

export const errorResponses = {
  400: { content: { "application/json": { schema: ErrorSchema } }, description: "invalid request" },
  401: { content: { "application/json": { schema: ErrorSchema } }, description: "missing or invalid API key" },
  404: { content: { "application/json": { schema: ErrorSchema } }, description: "not found in this project" },
} as const;
