import type { Env } from "../env.js";
import type { EventRow } from "../db/repositories/events.js";
import { toBase64 } from "../lib/encoding.js";
import type { ReceivedRequest } from "../model/event.js";

/** The stored body as ingest kept it: text, or base64 for binary; fetched from R2 when large. */
export async function eventBody(env: Env, row: Pick<EventRow, "body" | "body_r2_key" | "body_encoding">): Promise<string> {
  if (!row.body_r2_key) return row.body ?? "";
  const obj = await env.BODIES.get(row.body_r2_key);
  const bytes = obj ? new Uint8Array(await obj.arrayBuffer()) : new Uint8Array();
  return row.body_encoding === "base64" ? toBase64(bytes) : new TextDecoder().decode(bytes);
}

/** The request as ingest saw it, for routing it again (retry, dry run). */
export async function receivedRequestOf(env: Env, row: EventRow): Promise<ReceivedRequest> {
  return {
    method: row.method,
    headers: JSON.parse(row.headers) as Record<string, string>,
    query: JSON.parse(row.query) as Record<string, string>,
    body: await eventBody(env, row),
    body_encoding: row.body_encoding,
  };
}
