/**
 * Everything that can be known wrong about a GatewayConfig without a network: its shape, names
 * (unique per kind), references, template fields, destination configs, unsafe destination
 * URLs, filter rules, JSONata syntax and JSON Schemas. The same rules the REST API applies on
 * create, so a config that passes here is one the Worker can apply. Pure.
 */
import type { z } from "zod";
import { resolveVerification } from "../providers/sources/registry.js";
import { getProvider } from "../providers/destinations/registry.js";
import { filtersSchema } from "../routing/filters.js";
import { checkTransform } from "../routing/transform.js";
import { checkSchema } from "../routing/validate.js";
import { isBlockedHost } from "../delivery/ssrf.js";
import type { DestinationType } from "../model/types.js";
import { GatewayConfigSchema, type DeclaredKind, type GatewayConfig } from "./schema.js";

export interface ConfigIssue {
  /** Which declaration: `source "stripe"`, `connection "stripe-to-orders"`, `project`, or `config`. */
  declaration: string;
  kind: DeclaredKind | "config";
  /** The declared name, when the issue belongs to one declaration. */
  name?: string;
  /** `infra/index.ts:42`, when the compiler recorded it. */
  declared_in?: string;
  /** The field inside the declaration: `verification.secret`, `filters.0.op`. */
  path: string;
  message: string;
}

export type ConfigCheck = { ok: true; config: GatewayConfig } | { ok: false; issues: ConfigIssue[] };

export interface CheckOptions {
  /** Allow destination URLs on loopback / private networks (local development with peers). */
  allowPrivateDestinations?: boolean;
}

/** One line per issue: `infra/index.ts:42: connection "x": filters.0.op: …`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.declared_in ? `${issue.declared_in}: ` : "";
  const path = issue.path ? `${issue.path}: ` : "";
  return `${where}${issue.declaration}: ${path}${issue.message}`;
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map(formatIssue).join("\n");
}

const LIST_KINDS = { sources: "source", destinations: "destination", connections: "connection" } as const;

function declarationOf(input: unknown, path: readonly PropertyKey[]): Omit<ConfigIssue, "path" | "message"> & { depth: number } {
  const [list, index] = path;
  if (typeof list === "string" && list in LIST_KINDS && typeof index === "number") {
    const kind = LIST_KINDS[list as keyof typeof LIST_KINDS];
    const item = (input as Record<string, unknown[]> | null)?.[list]?.[index] as { name?: unknown; declared_in?: unknown } | undefined;
    const name = typeof item?.name === "string" ? item.name : undefined;
    return {
      kind,
      declaration: name ? `${kind} "${name}"` : `${kind} #${index + 1}`,
      ...(name ? { name } : {}),
      ...(typeof item?.declared_in === "string" ? { declared_in: item.declared_in } : {}),
      depth: 2,
    };
  }
  if (list === "project") return { kind: "project", declaration: "project", depth: 1 };
  return { kind: "config", declaration: "config", depth: 0 };
}

function zodIssues(input: unknown, error: z.ZodError, prefix: readonly PropertyKey[] = []): ConfigIssue[] {
  return error.issues.map((i) => {
    const full = [...prefix, ...i.path];
    const { depth, ...decl } = declarationOf(input, full);
    return { ...decl, path: full.slice(depth).map(String).join("."), message: i.message };
  });
}

const URL_FIELD = /(^url$|_url$|^endpoint$|_endpoint$)/;

/** A destination URL is unsafe when it is not http(s), carries credentials, or points at a private address. */
export function unsafeUrlReason(value: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `scheme ${url.protocol} is not allowed (http or https)`;
  if (url.username || url.password) return "must not carry credentials; use the destination's credential fields";
  if (!allowPrivate && isBlockedHost(url.hostname)) return `points at a private or loopback address (${url.hostname}); the gateway refuses to deliver there`;
  return null;
}

export function checkGatewayConfig(input: unknown, options: CheckOptions = {}): ConfigCheck {
  const parsed = GatewayConfigSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: zodIssues(input, parsed.error) };
  const config = parsed.data;
  const issues: ConfigIssue[] = [];
  const at = (kind: "source" | "destination" | "connection", item: { name: string; declared_in?: string | undefined }) => ({
    kind,
    name: item.name,
    declaration: `${kind} "${item.name}"`,
    ...(item.declared_in ? { declared_in: item.declared_in } : {}),
  });

  const duplicates = (kind: "source" | "destination" | "connection", items: readonly { name: string; declared_in?: string | undefined }[]) => {
    const seen = new Map<string, string | undefined>();
    for (const item of items) {
      if (seen.has(item.name)) {
        const first = seen.get(item.name);
        issues.push({ ...at(kind, item), path: "name", message: `another ${kind} is already declared with this name${first ? ` (${first})` : ""}` });
      } else seen.set(item.name, item.declared_in);
    }
    return new Set(seen.keys());
  };
  const sourceNames = duplicates("source", config.sources);
  const destinationNames = duplicates("destination", config.destinations);
  duplicates("connection", config.connections);

  for (const source of config.sources) {
    const resolved = resolveVerification({ template: source.template ?? null, verification: (source.verification ?? undefined) as Record<string, unknown> | undefined });
    if (!resolved.ok) for (const i of resolved.error.issues) issues.push({ ...at("source", source), path: i.path.map(String).join("."), message: i.message });
  }

  for (const destination of config.destinations) {
    const provider = getProvider(destination.type as DestinationType);
    if (!provider) {
      issues.push({ ...at("destination", destination), path: "type", message: `destination type "${destination.type}" is not available in this version` });
      continue;
    }
    const cfg = provider.configSchema.safeParse(destination.config);
    if (!cfg.success) {
      for (const i of (cfg.error as z.ZodError).issues) issues.push({ ...at("destination", destination), path: ["config", ...i.path].map(String).join("."), message: i.message });
      continue;
    }
    for (const [field, value] of Object.entries(cfg.data as Record<string, unknown>)) {
      if (typeof value !== "string" || !URL_FIELD.test(field)) continue;
      const reason = unsafeUrlReason(value, options.allowPrivateDestinations === true);
      if (reason) issues.push({ ...at("destination", destination), path: `config.${field}`, message: `unsafe URL: ${reason}` });
    }
  }

  for (const connection of config.connections) {
    if (!sourceNames.has(connection.source)) {
      issues.push({ ...at("connection", connection), path: "source", message: `no source named "${connection.source}" is declared` });
    }
    if (!destinationNames.has(connection.destination)) {
      issues.push({ ...at("connection", connection), path: "destination", message: `no destination named "${connection.destination}" is declared` });
    }
    if (connection.filters !== undefined) {
      const filters = filtersSchema.safeParse(connection.filters);
      if (!filters.success) for (const i of (filters.error as z.ZodError).issues) issues.push({ ...at("connection", connection), path: ["filters", ...i.path].map(String).join("."), message: i.message });
    }
    if (connection.transform !== undefined && connection.transform !== null) {
      const check = checkTransform(connection.transform);
      if (!check.ok) issues.push({ ...at("connection", connection), path: "transform", message: `${check.message}${check.position === undefined ? "" : ` (at position ${check.position})`}` });
    }
    if (connection.schema !== undefined && connection.schema !== null) {
      const check = checkSchema(connection.schema);
      if (!check.ok) issues.push({ ...at("connection", connection), path: "schema", message: check.message });
    }
  }

  return issues.length ? { ok: false, issues } : { ok: true, config };
}
