import { loadSourceRouting, type SourceRouting } from "../db/repositories/ingest.js";
import type { Filters } from "../routing/filters.js";
import { routeOf, type RoutableConnection } from "../routing/plan.js";
import { compileSourcePolicy, type SourcePolicy } from "./source-policy.js";

export interface CachedSource {
  source: SourceRouting["source"];
  connections: RoutableConnection[];
  /** Verification, IP rules, dedup, limits: compiled once per fill. */
  policy: SourcePolicy;
}

/** Stored JSON is parsed once per cache fill, not once per event. */
export function toRoutable(c: SourceRouting["connections"][number]): RoutableConnection {
  return { id: c.id, destination_id: c.destination_id, filters: JSON.parse(c.filters) as Filters, route: routeOf(c.transform, c.schema, c.schema_mode) };
}

/**
 * Per-isolate cache of a source's routing and policy. Changes made through the API clear it
 * in the isolate that served them; other isolates see them within TTL_MS. An entry never
 * outlives the grace period of a rotated-out secret.
 */
export const SOURCE_CACHE_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  value: CachedSource | null;
  expires: number;
}

const cache = new Map<string, Entry>();

export async function sourceRouting(d1: D1Database, encryptionKey: string, sourceId: string, now: number): Promise<CachedSource | null> {
  const hit = cache.get(sourceId);
  if (hit && hit.expires > now) return hit.value;
  // Each miss loads for itself: sharing one request's load with others would leave them
  // waiting on another request's I/O, which workerd cancels as hung.
  const loaded = await loadSourceRouting(d1, sourceId);
  // A policy that does not compile throws (500): never cached, never skipped.
  const value = loaded && { source: loaded.source, connections: loaded.connections.map(toRoutable), policy: await compileSourcePolicy(loaded.source, encryptionKey, now) };
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(sourceId, { value, expires: Math.min(now + SOURCE_CACHE_TTL_MS, value?.policy.valid_until ?? Number.POSITIVE_INFINITY) });
  return value;
}

export function invalidateSourceRouting(sourceId?: string): void {
  if (sourceId) cache.delete(sourceId);
  else cache.clear();
}
