import { loadSourceRouting, type SourceRouting } from "../db/repositories/ingest.js";
import type { Filters } from "../routing/filters.js";
import { routeOf, type RoutableConnection } from "../routing/plan.js";

export interface CachedSource {
  source: SourceRouting["source"];
  connections: RoutableConnection[];
}

/** Stored JSON is parsed once per cache fill, not once per event. */
export function toRoutable(c: SourceRouting["connections"][number]): RoutableConnection {
  return { id: c.id, destination_id: c.destination_id, filters: JSON.parse(c.filters) as Filters, route: routeOf(c.transform, c.schema, c.schema_mode) };
}

/**
 * Per-isolate cache of a source's routing. Changes made through the API clear it in the
 * isolate that served them; other isolates see them within TTL_MS.
 */
export const SOURCE_CACHE_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  value: CachedSource | null;
  expires: number;
}

const cache = new Map<string, Entry>();

export async function sourceRouting(d1: D1Database, sourceId: string, now: number): Promise<CachedSource | null> {
  const hit = cache.get(sourceId);
  if (hit && hit.expires > now) return hit.value;
  // Each miss loads for itself: sharing one request's load with others would leave them
  // waiting on another request's I/O, which workerd cancels as hung.
  const loaded = await loadSourceRouting(d1, sourceId);
  const value = loaded && { source: loaded.source, connections: loaded.connections.map(toRoutable) };
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(sourceId, { value, expires: now + SOURCE_CACHE_TTL_MS });
  return value;
}

export function invalidateSourceRouting(sourceId?: string): void {
  if (sourceId) cache.delete(sourceId);
  else cache.clear();
}
