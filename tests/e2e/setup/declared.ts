// Helpers for e2e tests of the declared config (GitOps): the bindings infra would set, and an
// API key in the declared project (whose org and project ids are derived, not random).
import { randomBytes } from "node:crypto";
import { d1Query, hashApiKey, sqlString as q } from "../../../scripts/lib/gateway.mjs";
import { splitSecrets, type GatewayConfigInput } from "../../../worker/src/config/index.js";

/** `vars` for startGateway(): GATEWAY_CONFIG (plain JSON) and GATEWAY_SECRETS (the split-out secrets). */
export function gatewayConfigVars(config: GatewayConfigInput): { GATEWAY_CONFIG: string; GATEWAY_SECRETS: string } {
  const split = splitSecrets(config);
  return { GATEWAY_CONFIG: JSON.stringify(split.config), GATEWAY_SECRETS: JSON.stringify(split.secrets) };
}

/** Inserts an API key for an existing (e.g. declared) project into the local D1; returns its plaintext. */
export async function seedKeyFor(stateDir: string, orgId: string, envId: string, name = "e2e-declared"): Promise<string> {
  const key = `hs_test_${randomBytes(32).toString("hex")}`;
  const id = `key_${randomBytes(16).toString("hex")}`;
  await d1Query(
    stateDir,
    `INSERT INTO api_keys (id, org_id, env_id, name, key_hash, prefix, last4, created_at, last_used_at, revoked_at)
     VALUES (${q(id)}, ${q(orgId)}, ${q(envId)}, ${q(name)}, ${q(hashApiKey(key))}, 'hs_test_', ${q(key.slice(-4))}, ${Date.now()}, NULL, NULL)`,
  );
  return key;
}

export interface HealthzConfig {
  status: "none" | "applied" | "rejected" | "failed";
  hash: string | null;
  applied_hash: string | null;
  applied_at: string | null;
  issues?: string[];
}

export async function healthz(baseUrl: string): Promise<{ ok: boolean; config: HealthzConfig }> {
  const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET /healthz: ${res.status} ${await res.text()}`);
  return (await res.json()) as { ok: boolean; config: HealthzConfig };
}
