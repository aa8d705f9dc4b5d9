import type { z } from "@hono/zod-openapi";
import { decryptSecret, encryptSecret, maskSecret } from "../lib/crypto.js";
import { AppError } from "../lib/errors.js";
import type { DestinationType } from "../model/types.js";
import { getProvider } from "../providers/destinations/registry.js";
import type { DestinationProvider } from "../providers/destinations/types.js";
import { validationError } from "./errors.js";

export function providerFor(type: DestinationType): DestinationProvider<unknown> {
  const provider = getProvider(type);
  if (!provider) throw new AppError("validation_failed", `destination type "${type}" is not available in this version`);
  return provider;
}

/** Validates a destination's config with its provider, prefixing issue paths with `config.`. */
export function parseConfig(provider: DestinationProvider<unknown>, config: unknown): Record<string, unknown> {
  const parsed = provider.configSchema.safeParse(config);
  if (!parsed.success) {
    const err = parsed.error as z.ZodError;
    throw validationError({ issues: err.issues.map((i) => ({ ...i, path: ["config", ...i.path] })) } as z.ZodError);
  }
  return parsed.data as Record<string, unknown>;
}

export interface SealedConfig {
  /** Stored as `config`: secret fields masked. */
  visible: Record<string, unknown>;
  /** Stored as `secrets`: AES-GCM of the secret fields, or null. */
  secrets: string | null;
  /** The secret fields in full, for the one create response that shows them. */
  revealed: Record<string, unknown>;
}

export async function sealConfig(provider: DestinationProvider<unknown>, config: Record<string, unknown>, key: string): Promise<SealedConfig> {
  const visible: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (provider.secretFields.includes(k) && v !== undefined && v !== null) {
      secret[k] = v;
      visible[k] = maskSecret(String(v));
    } else visible[k] = v;
  }
  const hasSecrets = Object.keys(secret).length > 0;
  return { visible, secrets: hasSecrets ? await encryptSecret(key, JSON.stringify(secret)) : null, revealed: secret };
}

/** The full current config (secrets decrypted), to merge a partial update into. */
export async function openConfig(row: { config: string; secrets: string | null }, key: string): Promise<Record<string, unknown>> {
  const visible = JSON.parse(row.config) as Record<string, unknown>;
  const secrets = row.secrets ? (JSON.parse(await decryptSecret(key, row.secrets)) as Record<string, unknown>) : {};
  return { ...visible, ...secrets };
}
