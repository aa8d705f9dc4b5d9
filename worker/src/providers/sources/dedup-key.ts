import { z } from "zod";
import { toHex, utf8 } from "../../lib/encoding.js";
import { jsonPath } from "./request-fields.js";

/** Provider retries start after seconds to minutes; a shorter window would not catch them. */
export const MIN_DEDUP_WINDOW_SECONDS = 60;
export const MAX_DEDUP_WINDOW_SECONDS = 7 * 86_400;

/**
 * `key`: `event_id` (the default: the provider's delivery id, else the body), `body` (always
 * the body), or a field as in connection filters: `headers.<name>`, `query.<name>`, `body.<path>`.
 * A field the request lacks falls back to the default.
 */
export const dedupConfigSchema = z.strictObject({
  window_seconds: z.int().min(MIN_DEDUP_WINDOW_SECONDS).max(MAX_DEDUP_WINDOW_SECONDS),
  key: z
    .string()
    .max(256)
    .regex(/^(event_id|body|(headers|query|body)\.[^.].*)$/, "event_id, body, or headers.<name>, query.<name>, body.<path>")
    .optional(),
});
export type DedupConfig = z.infer<typeof dedupConfigSchema>;

export interface DedupKeyInput {
  source_id: string;
  /** The delivery id the verifier returned (`X-GitHub-Delivery`, `webhook-id`, Stripe's event id…). */
  event_id?: string | undefined;
  body: Uint8Array;
  headers?: Readonly<Record<string, string>>;
  url?: string;
  key?: string | undefined;
}

export interface DedupKey {
  /** `dedup:<source_id>:<basis>:<sha256 hex>` (the dedup_keys row's key), bounded in length whatever the id looks like. */
  key: string;
  basis: "event_id" | "field" | "body_sha256";
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", bytes));
}

function fieldValue(input: DedupKeyInput, field: string): string | undefined {
  const dot = field.indexOf(".");
  const scope = field.slice(0, dot);
  const name = field.slice(dot + 1);
  let value: unknown;
  if (scope === "headers") value = input.headers?.[name.toLowerCase()];
  else if (scope === "query") {
    try {
      value = input.url === undefined ? undefined : new URL(input.url).searchParams.get(name);
    } catch {
      value = undefined;
    }
  } else {
    try {
      value = jsonPath(JSON.parse(new TextDecoder().decode(input.body)) as unknown, name);
    } catch {
      value = undefined;
    }
  }
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return typeof value === "string" && value !== "" ? value : undefined;
}

export async function dedupKey(input: DedupKeyInput): Promise<DedupKey> {
  const prefix = `dedup:${input.source_id}`;
  const key = input.key ?? "event_id";
  if (key !== "event_id" && key !== "body") {
    const value = fieldValue(input, key);
    if (value !== undefined) return { key: `${prefix}:field:${await sha256Hex(utf8(value))}`, basis: "field" };
  }
  if (key !== "body" && input.event_id) {
    return { key: `${prefix}:event_id:${await sha256Hex(utf8(input.event_id))}`, basis: "event_id" };
  }
  return { key: `${prefix}:body_sha256:${await sha256Hex(input.body)}`, basis: "body_sha256" };
}
