/**
 * From what the API receives to what `sources` stores (and back, masked): the source's
 * verification with its encrypted secrets, IP rules, dedup, rate limit, body limit and
 * custom response. See ingest/source-policy.ts for the stored shapes.
 */
import { z } from "zod";
import { encryptSecret, maskSecret } from "../lib/crypto.js";
import { AppError } from "../lib/errors.js";
import { DEFAULT_MAX_BODY_BYTES } from "../model/types.js";
import { MAX_SECRETS } from "../providers/sources/common.js";
import { resolveVerification } from "../providers/sources/registry.js";
import { SOURCE_TEMPLATES, type TemplateId } from "../providers/sources/templates.js";
import {
  activeSecrets,
  openSourceSecrets,
  parseSourceConfig,
  type CustomResponse,
  type RateLimit,
  type SourceConfig,
  type StoredSecret,
} from "../ingest/source-policy.js";
import type { DedupConfig } from "../providers/sources/dedup-key.js";
import { validationError } from "./errors.js";

/** What create and update accept beside name and description (update: any subset). */
export interface SourceSettingsInput {
  template?: TemplateId | null | undefined;
  verification?: Record<string, unknown> | null | undefined;
  ip_allowlist?: string[] | undefined;
  ip_denylist?: string[] | undefined;
  dedup?: DedupConfig | null | undefined;
  rate_limit?: RateLimit | null | undefined;
  max_body_bytes?: number | undefined;
  response?: CustomResponse | null | undefined;
}

/** `config` + `secrets` columns. The config carries masked hints of the secrets for display. */
export interface StoredSettings {
  config: string;
  secrets: string | null;
}

interface ConfigWithHints extends SourceConfig {
  secret_hints?: { hint: string; expires_at: number | null }[];
}

function verificationFailed(error: z.ZodError): AppError {
  return validationError(error);
}

/** Validates template + verification; returns the non-secret fields and the secrets given. */
function resolve(template: TemplateId | null, verification: Record<string, unknown>) {
  const resolved = resolveVerification({ template, verification });
  if (!resolved.ok) throw verificationFailed(resolved.error);
  if (!resolved.value) return null;
  const { secrets, ...fields } = resolved.value.stored.verification;
  return { fields, secrets: secrets as string[] };
}

async function seal(config: ConfigWithHints, secrets: StoredSecret[], key: string): Promise<StoredSettings> {
  if (config.verification) config.secret_hints = secrets.map((s) => ({ hint: maskSecret(s.value), expires_at: s.expires_at }));
  else delete config.secret_hints;
  return {
    config: JSON.stringify(config),
    secrets: config.verification && secrets.length > 0 ? await encryptSecret(key, JSON.stringify({ verification: secrets })) : null,
  };
}

function applyPlain(config: ConfigWithHints, input: SourceSettingsInput): void {
  const set = <K extends keyof SourceConfig>(k: K, v: SourceConfig[K] | null | undefined) => {
    if (v === undefined) return;
    if (v === null) delete config[k];
    else config[k] = v;
  };
  set("max_body_bytes", input.max_body_bytes);
  set("dedup", input.dedup);
  set("rate_limit", input.rate_limit);
  set("response", input.response);
  if (input.ip_allowlist !== undefined) {
    if (input.ip_allowlist.length > 0) config.ip_allowlist = input.ip_allowlist;
    else delete config.ip_allowlist;
  }
  if (input.ip_denylist !== undefined) {
    if (input.ip_denylist.length > 0) config.ip_denylist = input.ip_denylist;
    else delete config.ip_denylist;
  }
}

export async function settingsForCreate(input: SourceSettingsInput, key: string): Promise<StoredSettings> {
  const config: ConfigWithHints = {};
  applyPlain(config, input);
  let secrets: StoredSecret[] = [];
  if (input.verification) {
    const resolved = resolve(input.template ?? null, input.verification);
    if (resolved) {
      if (input.template) config.template = input.template;
      config.verification = resolved.fields;
      secrets = resolved.secrets.map((value) => ({ value, expires_at: null }));
    }
  } else if (input.template) {
    resolve(input.template, {}); // reports what the template needs
  }
  return seal(config, secrets, key);
}

/**
 * A partial update. `verification` replaces the verification settings; without `secret(s)`
 * it keeps the current secrets (so a tolerance can change without re-entering them).
 * `verification: null` turns verification off. Secrets are rotated with a grace period only
 * through `rotateSecret`.
 */
export async function settingsForUpdate(current: { config: string; secrets: string | null }, input: SourceSettingsInput, key: string, now: number): Promise<StoredSettings> {
  const config = parseSourceConfig(current.config) as ConfigWithHints;
  applyPlain(config, input);
  let secrets = activeSecrets(await openSourceSecrets(current.secrets, key), now);
  if (input.verification === null) {
    delete config.verification;
    delete config.template;
    secrets = [];
  } else if (input.verification !== undefined || input.template !== undefined) {
    const template = input.template === undefined ? (config.template ?? null) : input.template;
    const given = input.verification ?? (input.template === undefined ? config.verification : {}) ?? {};
    const keepSecrets = given.secret === undefined && given.secrets === undefined;
    if (keepSecrets && secrets.length === 0) {
      throw new AppError("validation_failed", "verification.secret: required", { issues: [{ path: "verification.secret", message: "required" }] });
    }
    // The current secrets are checked against the new settings too (e.g. a whsec_ format).
    const withSecrets = keepSecrets ? { ...given, secrets: secrets.map((s) => s.value) } : given;
    const resolved = resolve(template, withSecrets);
    if (!resolved) throw new AppError("validation_failed", "verification: required");
    if (template) config.template = template;
    else delete config.template;
    config.verification = resolved.fields;
    if (!keepSecrets) secrets = resolved.secrets.map((value) => ({ value, expires_at: null }));
  }
  return seal(config, secrets, key);
}

/** The new secret becomes current; the ones valid now stay valid for `graceSeconds` more. */
export async function rotateSecret(current: { config: string; secrets: string | null }, secret: string, graceSeconds: number, key: string, now: number): Promise<StoredSettings> {
  const config = parseSourceConfig(current.config) as ConfigWithHints;
  if (!config.verification) throw new AppError("conflict", "this source verifies nothing: set `verification` first");
  const until = now + graceSeconds * 1000;
  const previous = graceSeconds === 0 ? [] : activeSecrets(await openSourceSecrets(current.secrets, key), now)
    .filter((s) => s.value !== secret)
    .map((s) => ({ value: s.value, expires_at: s.expires_at === null ? until : Math.min(s.expires_at, until) }));
  const secrets: StoredSecret[] = [{ value: secret, expires_at: null }, ...previous].slice(0, MAX_SECRETS);
  const check = resolveVerification({ template: config.template ?? null, verification: { ...config.verification, secrets: secrets.map((s) => s.value) } });
  if (!check.ok) throw verificationFailed(new z.ZodError(check.error.issues.map((i) => ({ ...i, path: ["secret"] }))));
  return seal(config, secrets, key);
}

export interface SourceSettingsView {
  template: TemplateId | null;
  verification: ({ type: string } & Record<string, unknown> & { secrets: { secret: string; expires_at: string | null }[] }) | null;
  ip_allowlist: string[];
  ip_denylist: string[];
  dedup: DedupConfig | null;
  rate_limit: RateLimit | null;
  max_body_bytes: number;
  response: CustomResponse | null;
}

/** What the API shows: secrets only as `whsec_…abcd` hints, expired grace secrets left out. */
export function settingsView(configText: string, now: number): SourceSettingsView {
  const config = JSON.parse(configText) as ConfigWithHints;
  let verification: SourceSettingsView["verification"] = null;
  if (config.verification) {
    const type = config.template ? SOURCE_TEMPLATES[config.template].scheme : String(config.verification.type);
    const hints = (config.secret_hints ?? []).filter((h) => h.expires_at === null || h.expires_at > now);
    verification = {
      ...config.verification,
      type,
      secrets: hints.map((h) => ({ secret: h.hint, expires_at: h.expires_at === null ? null : new Date(h.expires_at).toISOString() })),
    };
  }
  return {
    template: config.template ?? null,
    verification,
    ip_allowlist: config.ip_allowlist ?? [],
    ip_denylist: config.ip_denylist ?? [],
    dedup: config.dedup ?? null,
    rate_limit: config.rate_limit ?? null,
    max_body_bytes: config.max_body_bytes ?? DEFAULT_MAX_BODY_BYTES,
    response: config.response ?? null,
  };
}

/**
 * A declared source's settings (config/ sync): stored like `settingsForCreate`, but when the
 * declared secrets differ from the current ones, the secrets valid now keep verifying for
 * `graceSeconds` (a rotation through a pull request, like `rotateSecret`).
 */
export async function settingsForDeclared(
  current: { config: string; secrets: string | null } | null,
  input: SourceSettingsInput,
  key: string,
  now: number,
  graceSeconds: number,
): Promise<StoredSettings> {
  const fresh = await settingsForCreate(input, key);
  if (!current || !fresh.secrets) return fresh;
  const declared = activeSecrets(await openSourceSecrets(fresh.secrets, key), now);
  const previous = activeSecrets(await openSourceSecrets(current.secrets, key), now);
  const declaredValues = new Set(declared.map((s) => s.value));
  const wasCurrent = previous.filter((s) => s.expires_at === null);
  if (wasCurrent.length > 0 && wasCurrent.every((s) => declaredValues.has(s.value)) && wasCurrent.length === declared.length) {
    // Unchanged secrets: keep the grace secrets still running from an earlier rotation.
    const grace = previous.filter((s) => s.expires_at !== null && !declaredValues.has(s.value));
    return grace.length === 0 ? fresh : seal(JSON.parse(fresh.config) as ConfigWithHints, [...declared, ...grace].slice(0, MAX_SECRETS), key);
  }
  const until = now + graceSeconds * 1000;
  const grace = graceSeconds === 0 ? [] : previous
    .filter((s) => !declaredValues.has(s.value))
    .map((s) => ({ value: s.value, expires_at: s.expires_at === null ? until : Math.min(s.expires_at, until) }));
  return seal(JSON.parse(fresh.config) as ConfigWithHints, [...declared, ...grace].slice(0, MAX_SECRETS), key);
}
