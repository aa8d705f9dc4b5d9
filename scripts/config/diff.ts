/**
 * What a pull request changes in routing: the declarations compiled from the branch compared with the
 * resources a running gateway reports through its API. Pure (no I/O), so it is unit-tested in Node.
 *
 * Managed rows (`managed_by: "config"`) are matched to declarations by kind and declared name; rows the
 * API manages are listed as untouched. Fields a declaration leaves out are compared with the defaults
 * the gateway fills in; objects the gateway completes (a retry policy's multiplier, a provider's config
 * defaults) are compared on the fields the declaration gives. Secrets come back from the API masked
 * (`whsec_…f3a9`): a change is reported only when the declared value is known and its mask differs.
 */
import type { GatewayConfigInput } from "../../worker/src/config/index.js";
import { destinationSecretFields } from "../../worker/src/config/index.js";
import { getProvider } from "../../worker/src/providers/destinations/registry.js";
import { maskSecret } from "../../worker/src/lib/crypto.js";
import { DEFAULT_CIRCUIT_BREAKER, DEFAULT_MAX_BODY_BYTES, DEFAULT_RETRY_POLICY, type DestinationType } from "../../worker/src/model/types.js";
import { DEFAULT_MAX_IN_FLIGHT } from "../../worker/src/delivery/flow-control.js";

type Managed = "api" | "config";
export interface SourceRow {
  id: string;
  name: string;
  description?: string | null;
  template?: string | null;
  verification?: ({ type?: string; secrets?: { secret: string; expires_at?: string | null }[] } & Record<string, unknown>) | null;
  ip_allowlist?: string[];
  ip_denylist?: string[];
  dedup?: unknown;
  rate_limit?: unknown;
  max_body_bytes?: number;
  response?: unknown;
  ingest_url?: string;
  managed_by: Managed;
  declared_in?: string | null;
}
export interface DestinationRow {
  id: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
  retry_policy?: unknown;
  circuit_breaker?: unknown;
  rate_limit?: unknown;
  max_in_flight?: number;
  ordered?: boolean;
  enabled?: boolean;
  managed_by: Managed;
  declared_in?: string | null;
}
export interface ConnectionRow {
  id: string;
  name: string | null;
  source_id: string;
  destination_id: string;
  filters?: unknown[];
  transform?: string | null;
  schema?: Record<string, unknown> | null;
  schema_mode?: "reject" | "warn";
  enabled?: boolean;
  managed_by: Managed;
  declared_in?: string | null;
}
export interface CurrentState {
  sources: SourceRow[];
  destinations: DestinationRow[];
  connections: ConnectionRow[];
}

export type Kind = "source" | "destination" | "connection";
export interface FieldChange {
  field: string;
  /** Display values (JSON); absent for secrets. */
  from?: string;
  to?: string;
  secret?: true;
}
export interface ResourceChange {
  kind: Kind;
  name: string;
  action: "add" | "change" | "remove";
  /** The running gateway's id (change, remove). */
  id?: string;
  /** Where the declaration is (add, change) or was (remove). */
  declared_in?: string;
  changes: FieldChange[];
}
export interface Untouched {
  kind: Kind;
  id: string;
  name: string | null;
}
export interface RoutingDiff {
  changes: ResourceChange[];
  /** Declared resources that are live and unchanged. */
  unchanged: { kind: Kind; name: string; id: string }[];
  /** Rows the REST API manages: the config never touches them. */
  unmanaged: Untouched[];
}

type Decl = { name: string; declared_in?: string | undefined } & Record<string, unknown>;

// ---- comparison helpers

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep equality where `actual` may carry extra object keys (defaults the gateway filled in). */
export function covers(declared: unknown, actual: unknown): boolean {
  if (declared === undefined) return true;
  if (Array.isArray(declared)) return Array.isArray(actual) && actual.length === declared.length && declared.every((d, i) => covers(d, actual[i]));
  if (isObject(declared)) return isObject(actual) && Object.entries(declared).every(([k, v]) => covers(v, actual[k]));
  if (declared === null) return actual === null || actual === undefined;
  return declared === actual;
}

export function show(value: unknown): string {
  if (value === undefined || value === null) return "(none)";
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

function field(changes: FieldChange[], name: string, declared: unknown, actual: unknown, fallback: unknown): void {
  const expected = declared === undefined || declared === null ? fallback : declared;
  if (!covers(expected, actual)) changes.push({ field: name, from: show(actual), to: show(expected) });
}

/** Known when the compile got the real value (not a placeholder). */
export type IsKnownSecret = (value: string) => boolean;

function secretChanged(declared: unknown, masks: string[], known: IsKnownSecret): boolean {
  const values = (Array.isArray(declared) ? declared : [declared]).filter((v): v is string => typeof v === "string");
  if (values.length === 0 || !values.every(known) || masks.length === 0) return false;
  return values.some((v) => !masks.includes(maskSecret(v)));
}

// ---- per kind

const SOURCE_SECRETS = new Set(["secret", "secrets"]);

function diffSource(d: Decl, row: SourceRow, known: IsKnownSecret): FieldChange[] {
  const changes: FieldChange[] = [];
  field(changes, "description", d.description, row.description ?? null, null);
  field(changes, "template", d.template, row.template ?? null, null);
  const verification = isObject(d.verification) ? d.verification : null;
  if (!verification && !d.template) field(changes, "verification", null, row.verification ?? null, null);
  if (verification) {
    if (!row.verification) changes.push({ field: "verification", from: "(none)", to: show(Object.fromEntries(Object.entries(verification).filter(([k]) => !SOURCE_SECRETS.has(k)))) });
    else {
      for (const [k, v] of Object.entries(verification)) {
        if (SOURCE_SECRETS.has(k)) continue;
        field(changes, `verification.${k}`, v, row.verification[k], undefined);
      }
      const masks = (row.verification.secrets ?? []).map((s) => s.secret);
      const declaredSecret = verification.secrets ?? verification.secret;
      if (secretChanged(declaredSecret, masks, known)) changes.push({ field: "verification.secret", secret: true });
    }
  }
  field(changes, "ip_allowlist", d.ip_allowlist, row.ip_allowlist ?? [], []);
  field(changes, "ip_denylist", d.ip_denylist, row.ip_denylist ?? [], []);
  field(changes, "dedup", d.dedup, row.dedup ?? null, null);
  field(changes, "rate_limit", d.rate_limit, row.rate_limit ?? null, null);
  field(changes, "max_body_bytes", d.max_body_bytes, row.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
  field(changes, "response", d.response, row.response ?? null, null);
  return changes;
}

/** The declared config with the provider's defaults filled in, as the gateway stores it. */
function normalisedDestinationConfig(type: string, config: unknown): Record<string, unknown> {
  const raw = isObject(config) ? config : {};
  const parsed = getProvider(type as DestinationType)?.configSchema.safeParse(raw);
  return parsed?.success && isObject(parsed.data) ? parsed.data : raw;
}

/**
 * Values the cloud assigns when `pulumi up` creates a sink, which a local compile (mocked resources)
 * cannot know: the access key id of a created IAM user, and the account in an SQS queue URL (compared
 * by queue name).
 */
const CLOUD_ASSIGNED: Record<string, Record<string, ((v: unknown) => unknown) | null>> = {
  sqs: { access_key_id: null, queue_url: (v) => (typeof v === "string" ? v.split("/").filter(Boolean).at(-1) : v) },
  s3: { access_key_id: null },
  eventbridge: { access_key_id: null },
};

function diffDestination(d: Decl, row: DestinationRow, known: IsKnownSecret): FieldChange[] {
  const changes: FieldChange[] = [];
  const type = String(d.type);
  if (type !== row.type) changes.push({ field: "type", from: show(row.type), to: show(type) });
  const secrets = new Set(destinationSecretFields(type));
  const declared = normalisedDestinationConfig(type, d.config);
  const actual = row.config ?? {};
  for (const key of new Set([...Object.keys(declared), ...Object.keys(actual)])) {
    if (secrets.has(key)) {
      if (declared[key] !== undefined && typeof actual[key] === "string" && secretChanged(declared[key], [actual[key] as string], known)) {
        changes.push({ field: `config.${key}`, secret: true });
      }
      continue;
    }
    if (declared[key] === undefined) {
      if (actual[key] !== undefined && actual[key] !== null) changes.push({ field: `config.${key}`, from: show(actual[key]), to: "(none)" });
      continue;
    }
    const assigned = CLOUD_ASSIGNED[type]?.[key];
    if (assigned === null) continue;
    if (assigned) {
      if (assigned(declared[key]) !== assigned(actual[key])) changes.push({ field: `config.${key}`, from: show(actual[key]), to: show(declared[key]) });
      continue;
    }
    field(changes, `config.${key}`, declared[key], actual[key], undefined);
  }
  field(changes, "retry_policy", d.retry_policy, row.retry_policy, DEFAULT_RETRY_POLICY);
  field(changes, "circuit_breaker", d.circuit_breaker, row.circuit_breaker, DEFAULT_CIRCUIT_BREAKER);
  field(changes, "rate_limit", d.rate_limit, row.rate_limit ?? null, null);
  field(changes, "max_in_flight", d.max_in_flight, row.max_in_flight, DEFAULT_MAX_IN_FLIGHT);
  field(changes, "ordered", d.ordered, row.ordered, false);
  field(changes, "enabled", d.enabled, row.enabled, true);
  return changes;
}

/** The routing rules of a connection, as the dry run takes them. */
export interface Rules {
  filters: unknown[];
  transform: string | null;
  schema: Record<string, unknown> | null;
  schema_mode: "reject" | "warn";
  enabled: boolean;
}
export function declaredRules(d: Record<string, unknown>): Rules {
  return {
    filters: (d.filters as unknown[] | undefined) ?? [],
    transform: (d.transform as string | null | undefined) ?? null,
    schema: (d.schema as Record<string, unknown> | null | undefined) ?? null,
    schema_mode: (d.schema_mode as "reject" | "warn" | undefined) ?? "reject",
    enabled: (d.enabled as boolean | undefined) ?? true,
  };
}
export function rowRules(row: ConnectionRow): Rules {
  return { filters: row.filters ?? [], transform: row.transform ?? null, schema: row.schema ?? null, schema_mode: row.schema_mode ?? "reject", enabled: row.enabled ?? true };
}

function diffConnection(d: Decl, row: ConnectionRow, names: { source: (id: string) => string; destination: (id: string) => string }): FieldChange[] {
  const changes: FieldChange[] = [];
  const source = names.source(row.source_id);
  const destination = names.destination(row.destination_id);
  if (d.source !== source) changes.push({ field: "source", from: source, to: String(d.source) });
  if (d.destination !== destination) changes.push({ field: "destination", from: destination, to: String(d.destination) });
  const want = declaredRules(d);
  const have = rowRules(row);
  field(changes, "filters", want.filters, have.filters, []);
  field(changes, "transform", want.transform, have.transform, null);
  field(changes, "schema", want.schema, have.schema, null);
  field(changes, "schema_mode", want.schema_mode, have.schema_mode, "reject");
  field(changes, "enabled", want.enabled, have.enabled, true);
  return changes;
}

// ---- the whole diff

export function diffRouting(proposed: GatewayConfigInput, current: CurrentState, known: IsKnownSecret = () => false): RoutingDiff {
  const out: RoutingDiff = { changes: [], unchanged: [], unmanaged: [] };
  const sourceName = new Map(current.sources.map((s) => [s.id, s.managed_by === "config" ? s.name : `${s.name} (${s.id}, not managed)`]));
  const destinationName = new Map(current.destinations.map((s) => [s.id, s.managed_by === "config" ? s.name : `${s.name} (${s.id}, not managed)`]));
  const names = {
    source: (id: string) => sourceName.get(id) ?? id,
    destination: (id: string) => destinationName.get(id) ?? id,
  };

  const compare = <R extends { id: string; name: string | null; managed_by: Managed; declared_in?: string | null }>(
    kind: Kind,
    declared: readonly Decl[],
    rows: readonly R[],
    diff: (d: Decl, row: R) => FieldChange[],
  ) => {
    const managed = new Map<string, R>();
    for (const row of rows) {
      if (row.managed_by === "config" && row.name) managed.set(row.name, row);
      else out.unmanaged.push({ kind, id: row.id, name: row.name });
    }
    const seen = new Set<string>();
    for (const d of declared) {
      seen.add(d.name);
      const row = managed.get(d.name);
      const where = d.declared_in ? { declared_in: d.declared_in } : {};
      if (!row) {
        out.changes.push({ kind, name: d.name, action: "add", ...where, changes: [] });
        continue;
      }
      const changes = diff(d, row);
      if (changes.length) out.changes.push({ kind, name: d.name, action: "change", id: row.id, ...where, changes });
      else out.unchanged.push({ kind, name: d.name, id: row.id });
    }
    for (const [name, row] of managed) {
      if (seen.has(name)) continue;
      out.changes.push({ kind, name, action: "remove", id: row.id, ...(row.declared_in ? { declared_in: row.declared_in } : {}), changes: [] });
    }
  };

  compare("source", (proposed.sources ?? []) as Decl[], current.sources, (d, r) => diffSource(d, r, known));
  compare("destination", (proposed.destinations ?? []) as Decl[], current.destinations, (d, r) => diffDestination(d, r, known));
  compare("connection", (proposed.connections ?? []) as Decl[], current.connections, (d, r) => diffConnection(d, r, names));
  return out;
}
