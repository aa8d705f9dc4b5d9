/**
 * Which stored events would route differently under the proposed declarations: for each of the last N
 * events, the connection dry run (POST /v1/connections/test) with the current and with the proposed
 * rules of every connection of the event's source whose rules (or existence) change.
 */
import { canonicalJson, type GatewayConfigInput } from "../../worker/src/config/index.js";
import type { ApiClient } from "./api.js";
import { declaredRules, rowRules, type ConnectionRow, type CurrentState, type Rules } from "./diff.js";

export interface EventSummary {
  id: string;
  source_id: string;
  received_at: string;
  event_type?: string | null;
}
export interface DryRun {
  matched: boolean;
  would_deliver: boolean;
  output: unknown;
  filter: { rule: Record<string, unknown>; reason: string } | null;
  error: { stage: string; message: string } | null;
}
export type RouteChangeKind = "newly_routed" | "no_longer_routed" | "output_changed" | "destination_changed";
export interface RouteChange {
  event_id: string;
  received_at: string;
  event_type: string | null;
  source: string;
  connection: string;
  change: RouteChangeKind;
  /** Why (the filter rule that no longer takes it, the transform error, …). */
  detail?: string;
}
export interface RerouteReport {
  events_checked: number;
  dry_runs: number;
  changes: RouteChange[];
}

interface Side {
  rules: Rules;
  destination: string;
}


function why(run: DryRun): string | undefined {
  if (run.filter) return `filter ${canonicalJson(run.filter.rule)}: ${run.filter.reason}`;
  if (run.error) return `${run.error.stage}: ${run.error.message}`;
  return undefined;
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

export async function findReroutes(api: ApiClient, proposed: GatewayConfigInput, current: CurrentState, events: EventSummary[], concurrency = 4): Promise<RerouteReport> {
  const destinationName = new Map(current.destinations.map((d) => [d.id, d.name]));
  const managedSourceName = new Map(current.sources.filter((s) => s.managed_by === "config").map((s) => [s.id, s.name]));
  const declaredSources = new Set((proposed.sources ?? []).map((s) => s.name));

  // Per managed source: connection name → current side / proposed side, kept only where they differ.
  const pairsBySource = new Map<string, Map<string, { current?: Side; proposed?: Side }>>();
  for (const [sourceId, sourceName] of managedSourceName) {
    const pairs = new Map<string, { current?: Side; proposed?: Side }>();
    for (const row of current.connections.filter((c): c is ConnectionRow & { name: string } => c.managed_by === "config" && c.source_id === sourceId && !!c.name)) {
      pairs.set(row.name, { current: { rules: rowRules(row), destination: destinationName.get(row.destination_id) ?? row.destination_id } });
    }
    if (declaredSources.has(sourceName)) {
      for (const d of proposed.connections ?? []) {
        if (d.source !== sourceName) continue;
        const entry = pairs.get(d.name) ?? {};
        entry.proposed = { rules: declaredRules(d as Record<string, unknown>), destination: d.destination };
        pairs.set(d.name, entry);
      }
    }
    for (const [name, pair] of pairs) {
      const same = pair.current && pair.proposed && canonicalJson(pair.current) === canonicalJson(pair.proposed);
      const bothOff = !pair.current?.rules.enabled && !pair.proposed?.rules.enabled;
      if (same || bothOff) pairs.delete(name);
    }
    if (pairs.size) pairsBySource.set(sourceId, pairs);
  }

  const cache = new Map<string, Promise<DryRun>>();
  let dryRuns = 0;
  const dryRun = (eventId: string, rules: Rules): Promise<DryRun> => {
    const body = { event_id: eventId, filters: rules.filters, transform: rules.transform, schema: rules.schema, schema_mode: rules.schema_mode };
    const key = canonicalJson(body);
    let run = cache.get(key);
    if (!run) {
      dryRuns++;
      run = api.post<DryRun>("/v1/connections/test", body);
      cache.set(key, run);
    }
    return run;
  };

  const changes: RouteChange[] = [];
  const relevant = events.filter((e) => pairsBySource.has(e.source_id));
  await pool(relevant, concurrency, async (event) => {
    const source = managedSourceName.get(event.source_id)!;
    for (const [connection, pair] of pairsBySource.get(event.source_id)!) {
      const off: DryRun = { matched: false, would_deliver: false, output: null, filter: null, error: null };
      const [before, after] = await Promise.all([
        pair.current?.rules.enabled ? dryRun(event.id, pair.current.rules) : off,
        pair.proposed?.rules.enabled ? dryRun(event.id, pair.proposed.rules) : off,
      ]);
      const base = { event_id: event.id, received_at: event.received_at, event_type: event.event_type ?? null, source, connection };
      if (!before.would_deliver && after.would_deliver) {
        changes.push({ ...base, change: "newly_routed", ...(pair.current ? {} : { detail: "new connection" }) });
      } else if (before.would_deliver && !after.would_deliver) {
        const detail = pair.proposed ? (pair.proposed.rules.enabled ? why(after) : "connection disabled") : "connection removed";
        changes.push({ ...base, change: "no_longer_routed", ...(detail ? { detail } : {}) });
      } else if (before.would_deliver && after.would_deliver) {
        if (canonicalJson(before.output) !== canonicalJson(after.output)) changes.push({ ...base, change: "output_changed" });
        else if (pair.current!.destination !== pair.proposed!.destination) {
          changes.push({ ...base, change: "destination_changed", detail: `${pair.current!.destination} → ${pair.proposed!.destination}` });
        }
      }
    }
  });
  changes.sort((a, b) => (a.received_at < b.received_at ? 1 : a.received_at > b.received_at ? -1 : a.connection.localeCompare(b.connection)));
  return { events_checked: events.length, dry_runs: dryRuns, changes };
}
