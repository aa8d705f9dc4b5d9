/**
 * Declarations → one checked GatewayConfig → the two Worker bindings. The same rules the Worker
 * and the REST API apply (worker/src/config), so what compiles here is what the Worker applies.
 */
import {
  checkGatewayConfig, GATEWAY_CONFIG_VERSION, splitSecrets,
  type ConfigIssue, type GatewayConfigInput,
} from "../../worker/src/config/index.js";
import { fillUnknowns, resolveTree, UNKNOWN } from "./resolve.js";
import type { Declaration } from "./types.js";

export interface ProjectDeclaration {
  organization: string;
  name: string;
  owners?: string[];
}

export interface CompileInput {
  project: ProjectDeclaration;
  sources?: readonly Declaration[];
  destinations?: readonly Declaration[];
  connections?: readonly Declaration[];
  allowPrivateDestinations?: boolean;
}

export interface Compiled {
  /** The full config, secrets included; values still unknown (preview) are placeholders. */
  config: GatewayConfigInput;
  issues: ConfigIssue[];
  /** Some input was not known yet (a sink to be created, during preview). */
  unknown: boolean;
  bindings: { GATEWAY_CONFIG: string; GATEWAY_SECRETS: string } | null;
}

/** The config tree with Inputs still inside. */
export function configTree(input: CompileInput): Record<string, unknown> {
  return {
    version: GATEWAY_CONFIG_VERSION,
    project: { organization: input.project.organization, name: input.project.name, owners: input.project.owners ?? [] },
    sources: (input.sources ?? []).map((d) => d.entry),
    destinations: (input.destinations ?? []).map((d) => d.entry),
    connections: (input.connections ?? []).map((d) => d.entry),
  };
}

/** Stand-ins for values the engine does not know during preview, valid for their fields. */
function placeholder(path: string): unknown {
  const field = path.split(".").at(-1) ?? "";
  switch (field) {
    case "queue_url": return "https://sqs.us-east-1.amazonaws.com/000000000000/pending";
    case "bucket": return "hookstream-pending";
    case "access_key_id": return "AKIAPENDINGPENDING00";
    case "secret_access_key": case "session_token": return "pending-pending-pending-pending";
    case "project_id": return "pending-project";
    case "topic": return "pending-topic";
    case "service_account_json":
      return JSON.stringify({ client_email: "pending@pending-project.iam.gserviceaccount.com", private_key: "-----BEGIN PRIVATE KEY-----\npending\n-----END PRIVATE KEY-----\n" });
    default: return /(^|_)(url|endpoint)$/.test(field) ? "https://pending.invalid/" : "pending";
  }
}

function at(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}

const KINDS = { sources: "source", destinations: "destination", connections: "connection" } as const;

/** Secret inputs that are not secret fields would land in the plain GATEWAY_CONFIG binding: refuse. */
function leakedSecrets(plain: unknown, full: GatewayConfigInput, secretPaths: readonly string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const p of secretPaths) {
    if (at(plain, p) === undefined) continue;
    const [list, index, ...rest] = p.split(".");
    const kind = KINDS[list as keyof typeof KINDS];
    if (!kind) {
      issues.push({ kind: "config", declaration: "config", path: p, message: "a secret value would be stored in the plain GATEWAY_CONFIG binding" });
      continue;
    }
    const item = (full[list as keyof typeof KINDS] as { name: string; declared_in?: string }[])[Number(index)]!;
    issues.push({
      kind, name: item.name, declaration: `${kind} "${item.name}"`,
      ...(item.declared_in ? { declared_in: item.declared_in } : {}),
      path: rest.join("."),
      message: "a secret value here would be stored in the plain GATEWAY_CONFIG binding; only verification secrets and the destination type's secret fields travel in GATEWAY_SECRETS",
    });
  }
  return issues;
}

/** Cloudflare's limit on one Worker variable or secret ("Environment variable size: 5 KB"). */
export const BINDING_SIZE_LIMIT = 5 * 1024;

function oversized(bindings: Record<string, string>): ConfigIssue[] {
  return Object.entries(bindings)
    .filter(([, text]) => Buffer.byteLength(text) > BINDING_SIZE_LIMIT)
    .map(([name, text]) => ({
      kind: "config" as const,
      declaration: "config",
      path: name,
      message: `is ${Buffer.byteLength(text)} bytes; a Worker variable holds at most ${BINDING_SIZE_LIMIT} (Cloudflare's limit), so this config cannot be deployed as declared`,
    }));
}

/** Resolves every Input, checks, and splits the secrets out. Never throws on a bad declaration. */
export async function compileDeclarations(input: CompileInput): Promise<Compiled> {
  const resolved = await resolveTree<GatewayConfigInput>(configTree(input));
  const config = fillUnknowns(resolved.value, placeholder);
  const check = checkGatewayConfig(config, { allowPrivateDestinations: input.allowPrivateDestinations === true });
  if (!check.ok) return { config, issues: check.issues, unknown: resolved.unknown, bindings: null };
  const split = splitSecrets(config);
  const leaks = leakedSecrets(split.config, config, resolved.secretPaths);
  if (leaks.length) return { config, issues: leaks, unknown: resolved.unknown, bindings: null };
  const bindings = { GATEWAY_CONFIG: JSON.stringify(split.config), GATEWAY_SECRETS: JSON.stringify(split.secrets) };
  const tooBig = oversized(bindings);
  if (tooBig.length) return { config, issues: tooBig, unknown: resolved.unknown, bindings: null };
  return { config, issues: [], unknown: resolved.unknown, bindings };
}

export { UNKNOWN };
