import { loadSourceRouting, type SourceRouting } from "../db/repositories/ingest.js";

/**
 * Per-isolate cache of a source's routing. Changes made through the API clear it in the
 * isolate that served them; other isolates see them within TTL_MS.
 */
export const SOURCE_CACHE_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  value: SourceRouting | null;
  expires: number;
}

const cache = new Map<string, Entry>();
const inflight = new Map<string, Promise<SourceRouting | null>>();

export async function sourceRouting(d1: D1Database, sourceId: string, now: number): Promise<SourceRouting | null> {
  const hit = cache.get(sourceId);
  if (hit && hit.expires > now) return hit.value;
  let pending = inflight.get(sourceId);
  if (!pending) {
    pending = loadSourceRouting(d1, sourceId).finally(() => inflight.delete(sourceId));
    inflight.set(sourceId, pending);
  }
  const value = await pending;
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(sourceId, { value, expires: now + SOURCE_CACHE_TTL_MS });
  return value;
}

export function invalidateSourceRouting(sourceId?: string): void {
  if (sourceId) cache.delete(sourceId);
  else cache.clear();
}
