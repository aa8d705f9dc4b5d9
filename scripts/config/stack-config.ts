/**
 * The stack configuration a local compile runs with: the plain values of `Pulumi.<stack>.yaml`, and for
 * each `secure:` value (which only the Pulumi engine can decrypt) either a placeholder (config:check,
 * config:plan) or a value generated once and kept in `.hookstream/` (npm run dev).
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";

export interface StackConfig {
  /** Pulumi project name (Pulumi.yaml `name`): the namespace of keys written without one. */
  project: string;
  /** `project:key` → value, as pulumi.runtime.setAllConfig takes it. */
  values: Record<string, string>;
  /** The keys whose values are secret (`secure:` in the stack file). */
  secretKeys: string[];
  /** The stack file read, relative to the repository root, or null when there is none. */
  file: string | null;
}

export class ConfigToolError extends Error {}

function readYaml(file: string): unknown {
  try {
    return parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigToolError(`${file}: ${(err as Error).message}`);
  }
}

function qualify(project: string, key: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

function stringify(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Reads `Pulumi.yaml` (project name) and `Pulumi.<stack>.yaml` (values) from `root`. */
export function readStackConfig(root: string, stack: string): StackConfig {
  const projectFile = path.join(root, "Pulumi.yaml");
  const project = fs.existsSync(projectFile) ? String((readYaml(projectFile) as { name?: unknown } | null)?.name ?? "hookstream") : "hookstream";
  const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackFile)) return { project, values: {}, secretKeys: [], file: null };
  const doc = readYaml(stackFile) as { config?: Record<string, unknown> } | null;
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, raw] of Object.entries(doc?.config ?? {})) {
    const full = qualify(project, key);
    if (raw && typeof raw === "object" && !Array.isArray(raw) && "secure" in raw) {
      secretKeys.push(full);
      continue;
    }
    values[full] = stringify(raw);
  }
  return { project, values, secretKeys, file: path.relative(root, stackFile) };
}

/** Keys whose value is a raw 32-byte key in base64 (the stack's encryption key), not a webhook secret. */
const RAW_KEY = /(encryptionKey|EncryptionKey|encryption_key)$/;

/** 32 bytes shaped for the key: base64 for an encryption key, else a Standard Webhooks secret (what most templates accept). */
function shaped(key: string, bytes: Buffer): string {
  return RAW_KEY.test(key) ? bytes.toString("base64") : `whsec_${bytes.toString("base64")}`;
}

/** A stand-in for a secret nobody here can decrypt, derived from the key so compiles are reproducible. */
export function placeholderSecret(key: string): string {
  return shaped(key, createHash("sha256").update(`hookstream/placeholder|${key}`).digest());
}

/** A fresh development value for a secret key (npm run dev keeps it in .hookstream/). */
export function generatedSecret(key: string): string {
  return shaped(key, randomBytes(32));
}

/** `values` with every secret key filled: from `known` when given, else with `fill(key)`. */
export function withSecrets(stack: StackConfig, known: Record<string, string>, fill: (key: string) => string): Record<string, string> {
  const out = { ...stack.values };
  for (const key of stack.secretKeys) out[key] = known[key] ?? known[key.split(":").slice(1).join(":")] ?? fill(key);
  for (const [key, value] of Object.entries(known)) out[qualify(stack.project, key)] = value;
  return out;
}
