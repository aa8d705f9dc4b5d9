/**
 * One connection's routing, in the order filter → transform → validate. Pure apart from the
 * transformer it is handed, which holds the compiled-expression cache (one per isolate).
 *
 *   parseBodyForRouting(body, contentType)   what filters, transforms and schemas see as `body`:
 *       JSON when the content type is JSON (application/json, *+json, text/json) or the text
 *       looks like a JSON object/array; an object for application/x-www-form-urlencoded (a key
 *       given twice becomes an array of strings); otherwise the raw string.
 *   runConnection(conn, input, transformer)  → RoutingOutcome, never throws on user input:
 *       filtered   the event does not match; record rule + reason on the event (not a failure).
 *       deliver    `payload` is the transform's output, or the parsed body when there is no
 *                  transform (`transformed: false`: send the original bytes, not a re-encoding);
 *                  `validation_errors` is set when schema_mode is "warn" and the payload is invalid.
 *       rejected   stage "transform" | "schema": a permanent, non-retryable delivery failure to
 *                  record with `message` (and the schema `errors`).
 * Connections are independent: call runConnection once per connection (Promise.all is fine);
 * a failure in one is a value and cannot affect another.
 */
import { evaluateFilters, type FailedRule, type Filters } from "./filters.js";
import type { TransformInput, Transformer } from "./transform.js";
import { validatePayload, type SchemaError } from "./validate.js";

export interface RoutingConnection {
  filters: Filters;
  transform: string | null;
  schema: object | null;
  schema_mode: "reject" | "warn";
}

export type RoutingInput = TransformInput;

export type RoutingOutcome =
  | { outcome: "filtered"; rule: FailedRule; reason: string }
  | { outcome: "deliver"; payload: unknown; transformed: boolean; validation_errors?: SchemaError[] }
  | { outcome: "rejected"; stage: "transform" | "schema"; message: string; errors?: SchemaError[] };

function schemaMessage(errors: readonly SchemaError[]): string {
  const [first] = errors;
  if (!first) return "payload does not match the connection's schema";
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `payload does not match the connection's schema: ${first.path || "/"} ${first.message}${more}`;
}

export async function runConnection(conn: RoutingConnection, input: RoutingInput, transformer: Transformer): Promise<RoutingOutcome> {
  const filtered = evaluateFilters(conn.filters, input);
  if (!filtered.matched) return { outcome: "filtered", rule: filtered.rule, reason: filtered.reason };

  let payload = input.body;
  const transformed = conn.transform !== null;
  if (conn.transform !== null) {
    const result = await transformer.run(conn.transform, input);
    if (!result.ok) return { outcome: "rejected", stage: "transform", message: result.message };
    payload = result.output;
  }

  if (conn.schema !== null) {
    const result = validatePayload(conn.schema, payload);
    if (!result.valid) {
      if (conn.schema_mode === "reject") return { outcome: "rejected", stage: "schema", message: schemaMessage(result.errors), errors: result.errors };
      return { outcome: "deliver", payload, transformed, validation_errors: result.errors };
    }
  }
  return { outcome: "deliver", payload, transformed };
}

function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function looksLikeJson(text: string): boolean {
  const t = text.trim();
  return (t.startsWith("{") && t.endsWith("}")) || (t.startsWith("[") && t.endsWith("]"));
}

export function parseBodyForRouting(body: string, contentType: string | null): unknown {
  const type = mediaType(contentType);
  if (type === "application/x-www-form-urlencoded") {
    const params = new URLSearchParams(body);
    const entries: [string, string | string[]][] = [];
    for (const key of new Set(params.keys())) {
      const values = params.getAll(key);
      entries.push([key, values.length === 1 ? (values[0] as string) : values]);
    }
    return Object.fromEntries(entries);
  }
  const isJsonType = type === "application/json" || type === "text/json" || type.endsWith("+json");
  if (isJsonType || looksLikeJson(body)) {
    const parsed = parseJson(body);
    if (parsed.ok) return parsed.value;
  }
  return body;
}
