/**
 * Writes one checked GatewayConfig into D1: the declared org and project, owner memberships,
 * and every declared source, destination and connection under its derived id, marked
 * `managed_by: "config"`; managed rows no longer declared are removed (their events stay).
 *
 * All writes go in one D1 batch (one SQLite transaction): a crash leaves either the old or
 * the new state, never a half-written resource, and `config_state.applied_hash` moves in the
 * same batch, so a run that did not finish is simply redone. Upserts make two isolates
 * applying the same config at once harmless.
 */
import type { BatchItem } from "drizzle-orm/batch";
import { declaredIds, type DeclaredIds, type GatewayConfig } from "../config/index.js";
import { database, type Database } from "../db/client.js";
import {
  managedRows, ownerMemberships, usersByEmail, recordApplied, removeDeclared, upsertConnection, upsertDestination, upsertOrganization, upsertSource,
} from "../db/repositories/config-state.js";
import type { ConnectionRow } from "../db/repositories/connections.js";
import type { DestinationRow } from "../db/repositories/destinations.js";
import type { SourceRow } from "../db/repositories/sources.js";
import { openConfig, parseConfig, providerFor, sealConfig } from "../api/destination-config.js";
import { settingsForDeclared } from "../api/source-settings.js";
import { parseFilters } from "../api/connection-rules.js";
import { schedulerFor } from "../delivery/enqueue.js";
import { hubFor } from "../delivery/websocket-hub.js";
import { DEFAULT_MAX_IN_FLIGHT } from "../delivery/flow-control.js";
import { invalidateSourceRouting } from "../ingest/source-cache.js";
import { DEFAULT_ROTATION_GRACE_SECONDS } from "../ingest/source-policy.js";
import { newId } from "../model/ids.js";
import { DEFAULT_CIRCUIT_BREAKER, DEFAULT_RETRY_POLICY, type DestinationType } from "../model/types.js";
import type { Env } from "../env.js";

export interface ApplySummary {
  ids: DeclaredIds;
  created: string[];
  updated: string[];
  removed: string[];
  /** Removed websocket destinations, whose listeners are disconnected. */
  removed_websocket: string[];
}

type Batch = BatchItem<"sqlite">;

async function sourceRow(key: string, ids: DeclaredIds, s: GatewayConfig["sources"][number], current: SourceRow | undefined, now: number): Promise<SourceRow> {
  const settings = await settingsForDeclared(current ?? null, s, key, now, DEFAULT_ROTATION_GRACE_SECONDS);
  return {
    id: ids.sources[s.name]!,
    org_id: ids.org_id,
    env_id: ids.env_id,
    name: s.name,
    description: s.description ?? null,
    ...settings,
    managed_by: "config",
    declared_in: s.declared_in ?? null,
    created_at: current?.created_at ?? now,
    updated_at: now,
  };
}

async function destinationRow(key: string, ids: DeclaredIds, d: GatewayConfig["destinations"][number], current: DestinationRow | undefined, now: number): Promise<DestinationRow> {
  const provider = providerFor(d.type as DestinationType);
  const declared = parseConfig(provider, d.config);
  let config = declared;
  if (provider.prepare) {
    config = (await provider.prepare(declared)) as Record<string, unknown>;
    // What hookstream generated (an http signing_secret) is generated once and kept.
    const generated = Object.keys(config).filter((k) => declared[k] === undefined && provider.secretFields.includes(k));
    if (generated.length > 0 && current && current.type === d.type) {
      const stored = await openConfig(current, key);
      for (const k of generated) if (stored[k] !== undefined && stored[k] !== null) config[k] = stored[k];
    }
  }
  const sealed = await sealConfig(provider, config, key);
  return {
    id: ids.destinations[d.name]!,
    org_id: ids.org_id,
    env_id: ids.env_id,
    name: d.name,
    type: d.type,
    config: JSON.stringify(sealed.visible),
    secrets: sealed.secrets,
    retry_policy: JSON.stringify(d.retry_policy ?? DEFAULT_RETRY_POLICY),
    circuit_breaker: JSON.stringify(d.circuit_breaker ?? DEFAULT_CIRCUIT_BREAKER),
    rate_limit_per_second: d.rate_limit?.per_second ?? null,
    max_in_flight: d.max_in_flight ?? DEFAULT_MAX_IN_FLIGHT,
    ordered: d.ordered ?? false,
    enabled: d.enabled ?? true,
    managed_by: "config",
    declared_in: d.declared_in ?? null,
    created_at: current?.created_at ?? now,
    updated_at: now,
  };
}

function connectionRow(ids: DeclaredIds, c: GatewayConfig["connections"][number], createdAt: number, now: number): ConnectionRow {
  return {
    id: ids.connections[c.name]!,
    org_id: ids.org_id,
    env_id: ids.env_id,
    name: c.name,
    source_id: ids.sources[c.source]!,
    destination_id: ids.destinations[c.destination]!,
    filters: JSON.stringify(c.filters === undefined ? [] : parseFilters(c.filters)),
    transform: c.transform ?? null,
    schema: c.schema ? JSON.stringify(c.schema) : null,
    schema_mode: c.schema_mode ?? "reject",
    enabled: c.enabled ?? true,
    managed_by: "config",
    declared_in: c.declared_in ?? null,
    created_at: createdAt,
    updated_at: now,
  };
}

/** The batch that makes D1 hold `config`; exported for tests that crash half-way. */
export async function planApply(db: Database, key: string, config: GatewayConfig, hash: string, now: number): Promise<{ batch: Batch[]; summary: ApplySummary }> {
  const ids = await declaredIds(key, config);
  const existing = await managedRows(db);
  const sources = new Map(existing.sources.map((r) => [r.id, r]));
  const destinations = new Map(existing.destinations.map((r) => [r.id, r]));
  const connections = new Set(existing.connections.map((r) => r.id));
  const summary: ApplySummary = { ids, created: [], updated: [], removed: [], removed_websocket: [] };
  const owners = [...new Set(config.project.owners.map((e) => e.toLowerCase()))];

  const batch: Batch[] = [
    ...upsertOrganization(db, { id: ids.org_id, name: config.project.organization, created_at: now }, { id: ids.env_id, name: config.project.name, created_at: now }),
    ...ownerMemberships(db, ids.org_id, await usersByEmail(db, owners), now, () => newId("member", now)),
  ];
  for (const s of config.sources) {
    const current = sources.get(ids.sources[s.name]!);
    batch.push(upsertSource(db, await sourceRow(key, ids, s, current, now)));
    (current ? summary.updated : summary.created).push(ids.sources[s.name]!);
  }
  for (const d of config.destinations) {
    const current = destinations.get(ids.destinations[d.name]!);
    batch.push(upsertDestination(db, await destinationRow(key, ids, d, current, now)));
    (current ? summary.updated : summary.created).push(ids.destinations[d.name]!);
  }
  for (const c of config.connections) {
    const id = ids.connections[c.name]!;
    batch.push(upsertConnection(db, connectionRow(ids, c, now, now)));
    (connections.has(id) ? summary.updated : summary.created).push(id);
  }
  const keep = new Set([...Object.values(ids.sources), ...Object.values(ids.destinations), ...Object.values(ids.connections)]);
  const removed = {
    connections: [...connections].filter((id) => !keep.has(id)),
    sources: [...sources.keys()].filter((id) => !keep.has(id)),
    destinations: [...destinations.keys()].filter((id) => !keep.has(id)),
  };
  batch.push(...removeDeclared(db, removed));
  summary.removed.push(...removed.connections, ...removed.destinations, ...removed.sources);
  summary.removed_websocket.push(...removed.destinations.filter((id) => destinations.get(id)?.type === "websocket"));
  batch.push(recordApplied(db, { applied_hash: hash, applied_at: now, org_id: ids.org_id, env_id: ids.env_id, owners: JSON.stringify(owners) }));
  return { batch, summary };
}

export async function applyConfig(env: Env, config: GatewayConfig, hash: string, now = Date.now()): Promise<ApplySummary> {
  const db = database(env.DB);
  const { batch, summary } = await planApply(db, env.ENCRYPTION_KEY, config, hash, now);
  // created_at of an existing connection is kept by the upsert's SET (it leaves created_at out).
  await db.batch(batch as [Batch, ...Batch[]]);
  invalidateSourceRouting();
  // Like the API's PATCH/DELETE: schedulers reload their destination (a removed one finds
  // none and stops), listeners of a removed websocket destination are disconnected.
  const removedDestinations = new Set(summary.removed.filter((id) => id.startsWith("dst_")));
  const touched = [...summary.updated.filter((id) => id.startsWith("dst_")), ...removedDestinations];
  await Promise.all(touched.map((id) => schedulerFor(env, id).refresh().catch(() => undefined)));
  await Promise.all(
    summary.removed_websocket.map((id) => hubFor(env, id).disconnectAll("destination removed from the declared config").catch(() => undefined)),
  );
  return summary;
}
