/**
 * A source's guard rails as stored and as compiled for ingest: verification, IP rules,
 * dedup, rate limit, body limit and custom response.
 *
 * Stored in two columns of `sources`:
 * - `config` (JSON, never secret): `SourceConfig` below; verification fields without secrets.
 * - `secrets` (AES-GCM, see lib/crypto.ts): `SourceSecrets`, the verification secrets with
 *   their expiry. The first is the current one; older ones stay valid until `expires_at`
 *   (a rotation's grace period).
 *
 * Compiled once per source-cache fill (`compileSourcePolicy`), so the hot path only does the
 * signature math, a CIDR match and, when configured, one KV read for dedup.
 */
import { z } from "zod";
import { decryptSecret } from "../lib/crypto.js";
import { DEFAULT_MAX_BODY_BYTES } from "../model/types.js";
import { dedupConfigSchema, type DedupConfig } from "../providers/sources/dedup-key.js";
import { compileIpRules, ipRuleListSchema, type IpDecision } from "../providers/sources/ip-rules.js";
import { resolveVerification, type SourceVerification } from "../providers/sources/registry.js";
import { TEMPLATE_IDS } from "../providers/sources/templates.js";
import { handshakeFor, type Handshake } from "./handshakes.js";
import type { SchemeId, VerifyContext, VerifyRequest, VerifyResult } from "../providers/sources/types.js";

export const MAX_SOURCE_BODY_BYTES = 25 * 1024 * 1024;
export const MAX_RESPONSE_BODY_CHARS = 4096;
/** Grace period for the previous secret after a rotation, unless the rotation says otherwise. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 86_400;
export const MAX_ROTATION_GRACE_SECONDS = 7 * 86_400;

export const rateLimitSchema = z.strictObject({
  per_second: z.number().positive().max(100_000),
  /** Requests allowed at once after a quiet period; defaults to `per_second` (at least 1). */
  burst: z.int().min(1).max(1_000_000).optional(),
});
export type RateLimit = z.infer<typeof rateLimitSchema>;

export const customResponseSchema = z.strictObject({
  status: z.int().min(200).max(299),
  content_type: z.string().trim().min(1).max(128).regex(/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/, "must be a media type such as application/json").default("application/json"),
  body: z.string().max(MAX_RESPONSE_BODY_CHARS).default(""),
});
export type CustomResponse = z.infer<typeof customResponseSchema>;

/** `sources.config`: everything about the source that is not secret. */
export const sourceConfigSchema = z.object({
  max_body_bytes: z.int().min(1).max(MAX_SOURCE_BODY_BYTES).optional(),
  template: z.enum(TEMPLATE_IDS).optional(),
  /** The verification fields the user set (no secrets); `type` when there is no template. */
  verification: z.record(z.string(), z.unknown()).optional(),
  ip_allowlist: ipRuleListSchema.optional(),
  ip_denylist: ipRuleListSchema.optional(),
  dedup: dedupConfigSchema.optional(),
  rate_limit: rateLimitSchema.optional(),
  response: customResponseSchema.optional(),
});
export type SourceConfig = z.infer<typeof sourceConfigSchema>;

export interface StoredSecret {
  value: string;
  /** Epoch ms after which this (previous) secret no longer verifies; null for the current one. */
  expires_at: number | null;
}
export interface SourceSecrets {
  verification: StoredSecret[];
}

export interface SourceRow {
  id: string;
  config: string;
  secrets: string | null;
}

export async function openSourceSecrets(secrets: string | null, key: string): Promise<SourceSecrets> {
  if (!secrets) return { verification: [] };
  return JSON.parse(await decryptSecret(key, secrets)) as SourceSecrets;
}

export function activeSecrets(secrets: SourceSecrets, now: number): StoredSecret[] {
  return secrets.verification.filter((s) => s.expires_at === null || s.expires_at > now);
}

type Verify = (req: VerifyRequest, ctx: VerifyContext) => Promise<VerifyResult>;

export interface SourcePolicy {
  max_body_bytes: number;
  /** Null when the source has no IP rules. */
  ip: ((ip: string | null | undefined) => IpDecision) | null;
  /** Null when the source verifies nothing (anything is accepted). */
  verify: Verify | null;
  scheme: SchemeId | null;
  dedup: DedupConfig | null;
  rate_limit: RateLimit | null;
  response: CustomResponse | null;
  /** A provider's endpoint challenge (Slack, Zoom), answered after verification and never stored. */
  handshake: Handshake | null;
  /** When the compiled policy must be recompiled: the earliest expiry of a grace-period secret. */
  valid_until: number;
}

/** Thrown for a stored config that no longer compiles: a bug, answered 500, never skipped. */
export class SourcePolicyError extends Error {}

export function parseSourceConfig(text: string): SourceConfig {
  const parsed = sourceConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new SourcePolicyError(`stored source config does not parse: ${parsed.error.message}`);
  return parsed.data;
}

/** Resolves a stored verification with the given secrets (current first). */
export function storedVerification(config: SourceConfig, secrets: readonly string[]): SourceVerification | null {
  if (!config.verification) return null;
  const resolved = resolveVerification({ template: config.template ?? null, verification: { ...config.verification, secrets: [...secrets] } });
  if (!resolved.ok) throw new SourcePolicyError(`stored verification does not resolve: ${resolved.error.message}`);
  return resolved.value;
}

export async function compileSourcePolicy(row: SourceRow, encryptionKey: string, now: number): Promise<SourcePolicy> {
  const config = parseSourceConfig(row.config);
  let verification: SourceVerification | null = null;
  let validUntil = Number.POSITIVE_INFINITY;
  let handshake: Handshake | null = null;
  if (config.verification) {
    const active = activeSecrets(await openSourceSecrets(row.secrets, encryptionKey), now);
    // Every secret expired would leave nothing to verify with: refuse everything rather than accept.
    if (active.length === 0) throw new SourcePolicyError("source has verification but no valid secret");
    for (const s of active) if (s.expires_at !== null) validUntil = Math.min(validUntil, s.expires_at);
    verification = storedVerification(config, active.map((s) => s.value));
    handshake = handshakeFor(config.template, active[0]?.value);
  }
  const hasIpRules = (config.ip_allowlist?.length ?? 0) > 0 || (config.ip_denylist?.length ?? 0) > 0;
  return {
    max_body_bytes: config.max_body_bytes ?? DEFAULT_MAX_BODY_BYTES,
    ip: hasIpRules ? compileIpRules({ allow: config.ip_allowlist ?? [], deny: config.ip_denylist ?? [] }) : null,
    verify: verification?.verify ?? null,
    scheme: verification?.scheme ?? null,
    dedup: config.dedup ?? null,
    rate_limit: config.rate_limit ?? null,
    response: config.response ?? null,
    handshake,
    valid_until: validUntil,
  };
}
