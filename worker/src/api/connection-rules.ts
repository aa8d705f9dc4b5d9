import type { z } from "@hono/zod-openapi";
import { AppError } from "../lib/errors.js";
import { filtersSchema, type Filters } from "../routing/filters.js";
import { checkTransform } from "../routing/transform.js";
import { checkSchema } from "../routing/validate.js";
import { validationError } from "./errors.js";

/** Rejects a bad filter, JSONata expression or JSON Schema at create/update time, pointing at it. */
export function parseFilters(filters: unknown): Filters {
  const parsed = filtersSchema.safeParse(filters);
  if (parsed.success) return parsed.data;
  const err = parsed.error as z.ZodError;
  throw validationError({ issues: err.issues.map((i) => ({ ...i, path: ["filters", ...i.path] })) } as z.ZodError);
}

export function checkTransformOrThrow(transform: string | null | undefined): void {
  if (transform === null || transform === undefined) return;
  const check = checkTransform(transform);
  if (!check.ok) {
    const at = check.position === undefined ? "" : ` (at position ${check.position})`;
    throw new AppError("validation_failed", `transform: ${check.message}${at}`, check.position === undefined ? undefined : { position: check.position });
  }
}

export function checkSchemaOrThrow(schema: Record<string, unknown> | null | undefined): void {
  if (schema === null || schema === undefined) return;
  const check = checkSchema(schema);
  if (!check.ok) throw new AppError("validation_failed", `schema: ${check.message}`);
}
