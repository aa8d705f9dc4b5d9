import { env } from "cloudflare:workers";
import { newId } from "../../src/model/ids.js";

export interface SeededKey {
  key_id: string;
  /** The plaintext `hs_test_…` key, for `Authorization: Bearer`. */
  key: string;
}

export interface SeededTenant extends SeededKey {
  org_id: string;
  env_id: string;
}

function hex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Hashed here, not with the worker's helper, so a wrong hash in the worker cannot go unnoticed. */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Inserts an API key straight into D1, the way an operator's bootstrap would. */
export async function seedKey(t: { org_id: string; env_id: string }, opts: { revoked?: boolean; name?: string } = {}): Promise<SeededKey> {
  const key = `hs_test_${hex(crypto.getRandomValues(new Uint8Array(32)))}`;
  const key_id = newId("apiKey");
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO api_keys (id, org_id, env_id, name, key_hash, prefix, last4, created_at, last_used_at, revoked_at)
     VALUES (?1, ?2, ?3, ?4, ?5, 'hs_test_', ?6, ?7, NULL, ?8)`,
  )
    .bind(key_id, t.org_id, t.env_id, opts.name ?? "seeded", await sha256Hex(key), key.slice(-4), now, opts.revoked ? now : null)
    .run();
  return { key_id, key };
}

/** A new environment in an existing organization, with its own key. */
export async function seedEnvironment(org_id: string, name = "staging"): Promise<SeededTenant> {
  const env_id = newId("environment");
  await env.DB.prepare("INSERT INTO environments (id, org_id, name, created_at) VALUES (?1, ?2, ?3, ?4)").bind(env_id, org_id, name, Date.now()).run();
  return { org_id, env_id, ...(await seedKey({ org_id, env_id })) };
}

/** An organization with one environment and one active key. */
export async function seedTenant(name = "acme"): Promise<SeededTenant> {
  const org_id = newId("organization");
  await env.DB.prepare("INSERT INTO organizations (id, name, created_at) VALUES (?1, ?2, ?3)").bind(org_id, name, Date.now()).run();
  return seedEnvironment(org_id, "production");
}

export async function countRows(table: "events" | "deliveries" | "delivery_attempts" | "dead_letters" | "sources" | "destinations" | "connections"): Promise<number> {
  const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>();
  return row?.n ?? 0;
}
