/**
 * Compile the Pulumi program's declarations without the Pulumi engine: `npm run config:check`,
 * `config:plan` and `npm run dev` use this. The program runs against a mock monitor (mocks.ts)
 * with the stack config of Pulumi.<stack>.yaml (plus `config`), and the compiled GatewayConfig,
 * its issues, the two Worker bindings and the stack outputs come back. Bad declarations are
 * returned as issues, not thrown; a missing secret config value is thrown (StackConfigError).
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import type { ConfigIssue, GatewayConfigInput } from "../../worker/src/config/index.js";
import { REPO_ROOT } from "./declared-in.js";
import type { Gateway } from "./gateway.js";
import { gatewayMocks, type CreatedResource } from "./mocks.js";
import { setLocalPeers, type LocalPeers } from "./peers.js";
import { startCollecting, stopCollecting } from "./registry.js";
import { StackConfigError } from "./stack-config.js";

export type { LocalPeers };

export interface CompileLocallyOptions {
  /** The Pulumi program, relative to the repository root or absolute; default infra/index.ts. */
  program?: string;
  /** The stack whose Pulumi.<stack>.yaml is read; default "dev". */
  stack?: string;
  /** Config values by key (`hookstream:accountId`, or `accountId` for the project namespace), secrets included; they override Pulumi.<stack>.yaml. */
  config?: Record<string, string>;
  /** Point created sinks at local peers (queue URLs, endpoints, "test" credentials). */
  peers?: LocalPeers;
  /** Allow destinations on loopback/private addresses (implied when peers are given). */
  allowPrivateDestinations?: boolean;
  /** Generate development values for secure config keys that have no value instead of failing. */
  generateMissingSecrets?: boolean;
}

export interface CompileLocallyResult {
  /** The full config, secrets included (never print it). */
  config: GatewayConfigInput;
  issues: ConfigIssue[];
  /** The two bindings the Worker gets, or null when there are issues. */
  bindings: { GATEWAY_CONFIG: string; GATEWAY_SECRETS: string } | null;
  /** The program's stack outputs, resolved (secret outputs included as plain values). */
  outputs: Record<string, unknown>;
  /** Every resource the program registered (type, name, inputs, mocked state), for tests and tooling. */
  resources: CreatedResource[];
  /** The Gateway component the program created (its Outputs keep their secret-ness). */
  gateway: Gateway;
}

/** The Pulumi project name (Pulumi.yaml `name`), the default config namespace. */
function projectName(): string {
  const doc = parseYaml(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { name: string };
  return doc.name;
}

/** Pulumi.<stack>.yaml's config: plain values, and the keys whose values are `secure:` (encrypted, unreadable here). */
export function readStackFile(stack: string): { values: Record<string, string>; secure: string[] } {
  const file = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) return { values: {}, secure: [] };
  const doc = (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const values: Record<string, string> = {};
  const secure: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (value && typeof value === "object" && "secure" in value) secure.push(key);
    else values[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { values, secure };
}

function devSecret(key: string): string {
  // Deterministic per key, so ids (keyed by the encryption key) stay the same between dev runs.
  const bytes = Buffer.from(key.padEnd(32, "#").slice(0, 32));
  return /encryption/i.test(key) ? bytes.toString("base64") : `dev-${bytes.toString("hex")}`;
}

async function resolveOutputs(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return resolveOutputs(await (value as unknown as { promise(): Promise<unknown> }).promise());
  if (value instanceof Promise) return resolveOutputs(await value);
  if (Array.isArray(value)) return Promise.all(value.map(resolveOutputs));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveOutputs(v)] as const)));
  }
  return value;
}

export async function compileLocally(options: CompileLocallyOptions = {}): Promise<CompileLocallyResult> {
  const stack = options.stack ?? "dev";
  const project = projectName();
  const qualify = (k: string) => (k.includes(":") ? k : `${project}:${k}`);
  const file = readStackFile(stack);
  const given = Object.fromEntries(Object.entries(options.config ?? {}).map(([k, v]) => [qualify(k), v]));
  const values: Record<string, string> = { ...file.values, ...given };
  const missing = file.secure.filter((k) => values[k] === undefined);
  if (missing.length && !options.generateMissingSecrets) {
    throw new StackConfigError(missing.map((k) => `${k} is a secret in Pulumi.${stack}.yaml and has no value here: pass it in config (e.g. from an environment variable), or ask for generated development values`));
  }
  for (const k of missing) values[k] = devSecret(k);
  // Pulumi's own provider keys (cloudflare:apiToken…) are not read by the program.
  const secretKeys = file.secure.filter((k) => values[k] !== undefined);

  const mocks = gatewayMocks({ peers: options.peers, awsRegion: values["aws:region"], gcpProject: values["gcp:project"] });
  await pulumi.runtime.setMocks(mocks, project, stack, false);
  pulumi.runtime.setAllConfig(values, secretKeys);
  setLocalPeers(options.peers);
  startCollecting({ allowPrivateDestinations: options.allowPrivateDestinations === true || Boolean(options.peers?.awsEndpoint || options.peers?.pubsubEndpoint) });
  let exported: unknown;
  let compilations;
  try {
    const program = path.resolve(REPO_ROOT, options.program ?? "infra/index.ts");
    const mod = (await import(pathToFileURL(program).href)) as { default?: unknown };
    exported = typeof mod.default === "function" ? await (mod.default as () => unknown)() : mod;
  } finally {
    compilations = stopCollecting();
    setLocalPeers(undefined);
  }
  if (compilations.length !== 1) throw new Error(`compileLocally: the program declared ${compilations.length} Gateway components; expected exactly one`);
  const { gateway, compiled: pending } = compilations[0]!;
  const compiled = await pending;
  const { issues, bindings } = compiled;
  const outputs = (await resolveOutputs(exported)) as Record<string, unknown>;
  // Let every registration finish (children awaiting outputs, e.g. the cron trigger on the script name).
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  return { config: compiled.config, issues, bindings, outputs, resources: mocks.created, gateway };
}
