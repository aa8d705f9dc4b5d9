/**
 * The config travels in two bindings: GATEWAY_CONFIG (plain, reviewable, hashed) and
 * GATEWAY_SECRETS (a secret binding). `splitSecrets` takes every secret value out of a config
 * and keys it by where it was; `joinSecrets` puts them back. Which fields are secret comes
 * from the same places the API masks: a source's `verification.secret(s)` and each
 * destination provider's `secretFields`.
 */
import { getProvider } from "../providers/destinations/registry.js";
import type { DestinationType } from "../model/types.js";
import type { GatewayConfigInput } from "./schema.js";

export type SecretValue = string | string[];
/** `sources/<name>/verification.secret`, `destinations/<name>/config.signing_secret`, … */
export type ConfigSecrets = Record<string, SecretValue>;

const SOURCE_SECRET_FIELDS = ["secret", "secrets"] as const;

export function destinationSecretFields(type: string): readonly string[] {
  return getProvider(type as DestinationType)?.secretFields ?? [];
}

function isSecretValue(v: unknown): v is SecretValue {
  return typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"));
}

/** A deep copy of `config` without secret values, and the values keyed by where they were. */
export function splitSecrets<C extends GatewayConfigInput>(config: C): { config: C; secrets: ConfigSecrets } {
  const copy = structuredClone(config);
  const secrets: ConfigSecrets = {};
  for (const source of copy.sources ?? []) {
    const verification = source.verification as Record<string, unknown> | null | undefined;
    if (!verification) continue;
    for (const field of SOURCE_SECRET_FIELDS) {
      const value = verification[field];
      if (value === undefined || !isSecretValue(value)) continue;
      secrets[`sources/${source.name}/verification.${field}`] = value;
      delete verification[field];
    }
  }
  for (const destination of copy.destinations ?? []) {
    const cfg = destination.config as Record<string, unknown>;
    for (const field of destinationSecretFields(destination.type)) {
      const value = cfg[field];
      if (value === undefined || value === null || !isSecretValue(value)) continue;
      secrets[`destinations/${destination.name}/config.${field}`] = value;
      delete cfg[field];
    }
  }
  return { config: copy, secrets };
}

/** Puts split-out secrets back. Unknown keys are an error: the two bindings do not belong together. */
export function joinSecrets<C extends GatewayConfigInput>(config: C, secrets: ConfigSecrets): C {
  const copy = structuredClone(config);
  for (const [key, value] of Object.entries(secrets)) {
    const m = /^(sources|destinations)\/([^/]+)\/(verification|config)\.([A-Za-z0-9_]+)$/.exec(key);
    if (!m) throw new Error(`GATEWAY_SECRETS: unrecognised key "${key}"`);
    const [, kind, name, container, field] = m as unknown as [string, "sources" | "destinations", string, string, string];
    const list = (kind === "sources" ? copy.sources : copy.destinations) as { name: string; verification?: unknown; config?: unknown }[] | undefined;
    const item = list?.find((x) => x.name === name);
    if (!item) throw new Error(`GATEWAY_SECRETS: "${key}" names no declared ${kind.slice(0, -1)}`);
    const target = (kind === "sources" ? (item.verification ??= {}) : (item.config ??= {})) as Record<string, unknown>;
    if ((kind === "sources") !== (container === "verification")) throw new Error(`GATEWAY_SECRETS: unrecognised key "${key}"`);
    target[field] = value;
  }
  return copy;
}
