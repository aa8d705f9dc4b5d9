/**
 * Keeps D1 in step with the GATEWAY_CONFIG / GATEWAY_SECRETS bindings. Runs before the first
 * request an isolate serves (memoized per config hash: one D1 read when the config is already
 * applied) and on every cron tick (which also corrects an isolate of an older deployment that
 * re-applied its config during a rollout). A config that fails validation is never applied:
 * the last good one stays live and /healthz says why the new one was rejected.
 */
import { formatIssue, loadGatewayConfig, type LoadedConfig } from "../config/index.js";
import { database } from "../db/client.js";
import { ensureMigrated } from "../db/migrate.js";
import { readConfigState, recordAttempt, type ConfigStateRow } from "../db/repositories/config-state.js";
import type { Env } from "../env.js";
import { applyConfig } from "./apply.js";
import { redactSecrets } from "./redact.js";

export type ConfigHealthStatus = "none" | "applied" | "rejected" | "failed";

/** What /healthz says about the declared config. Never carries a secret value. */
export interface ConfigHealth {
  status: ConfigHealthStatus;
  /** Hash of the config in this Worker's bindings (null when absent or not JSON). */
  hash: string | null;
  /** Hash of the config whose rows are live (the last good one). */
  applied_hash: string | null;
  applied_at: string | null;
  /** Why the config in the bindings was not applied: one `file:line: declaration: path: message` line each. */
  issues?: string[];
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

function health(loaded: LoadedConfig, state: ConfigStateRow | null, extra: Partial<ConfigHealth> = {}): ConfigHealth {
  const base = {
    hash: loaded.status === "none" ? null : loaded.hash,
    applied_hash: state?.applied_hash ?? null,
    applied_at: iso(state?.applied_at),
  };
  if (loaded.status === "none") return { status: "none", ...base, ...extra };
  if (loaded.status === "invalid") return { status: "rejected", ...base, ...extra };
  return { status: state?.applied_hash === loaded.hash ? "applied" : "failed", ...base, ...extra };
}

/** Loads, checks and (when needed) applies the bound config; returns what /healthz reports. */
export async function syncDeclaredConfig(env: Env, now = Date.now()): Promise<ConfigHealth> {
  await ensureMigrated(env.DB);
  const loaded = await loadGatewayConfig(env, { allowPrivateDestinations: env.ALLOW_PRIVATE_DESTINATIONS === "true" });
  const db = database(env.DB);
  const state = await readConfigState(db);
  if (loaded.status === "none") return health(loaded, state);
  if (loaded.status === "invalid") {
    const issues = redactSecrets(loaded.issues.map(formatIssue), env.GATEWAY_SECRETS);
    const text = JSON.stringify(issues);
    if (state?.last_hash !== loaded.hash || state?.last_status !== "rejected" || state?.last_issues !== text) {
      console.error(`declared config rejected (the last good one stays live):\n${issues.join("\n")}`);
      await db.batch([recordAttempt(db, { last_hash: loaded.hash, last_status: "rejected", last_issues: text, last_attempt_at: now })]);
    }
    return health(loaded, state, { issues });
  }
  if (state?.applied_hash === loaded.hash) return health(loaded, state);
  try {
    const summary = await applyConfig(env, loaded.config, loaded.hash, now);
    console.log(`declared config ${loaded.hash.slice(0, 12)} applied: ${summary.created.length} created, ${summary.updated.length} updated, ${summary.removed.length} removed`);
    return health(loaded, { ...(state ?? ({} as ConfigStateRow)), applied_hash: loaded.hash, applied_at: now });
  } catch (err) {
    // A D1 failure: nothing (or everything) of the batch was written; the next run retries.
    console.error("declared config: apply failed", err);
    await db.batch([recordAttempt(db, { last_hash: loaded.hash, last_status: "failed", last_issues: JSON.stringify(["the apply failed; it is retried within a minute"]), last_attempt_at: now })]).catch(() => undefined);
    return health(loaded, state, { issues: ["the apply failed; it is retried within a minute"] });
  }
}

interface Memo {
  config: unknown;
  secrets: unknown;
  health: ConfigHealth;
  /** A failed run is retried after this (epoch ms), not by every request. */
  retry_at?: number;
}

/** How long an isolate waits before retrying an apply that D1 refused. */
export const FAILED_APPLY_RETRY_MS = 15_000;
const done = new WeakMap<D1Database, Memo>();

/**
 * Once per isolate (per database and binding value): migrate, then sync. The hot path is a
 * WeakMap lookup and two identity comparisons. Only a finished run is remembered: requests
 * arriving while one runs do their own (harmless, the apply is idempotent) rather than wait
 * on another request's I/O, which workerd cancels as hung. A failed apply is retried after
 * FAILED_APPLY_RETRY_MS (and by the cron tick), not by every request.
 */
export async function ensureDeclaredConfig(env: Env): Promise<ConfigHealth> {
  const memo = done.get(env.DB);
  if (memo && memo.config === env.GATEWAY_CONFIG && memo.secrets === env.GATEWAY_SECRETS && (memo.retry_at === undefined || memo.retry_at > Date.now())) {
    return memo.health;
  }
  return remember(env, await syncDeclaredConfig(env));
}

function remember(env: Env, health: ConfigHealth): ConfigHealth {
  const memo: Memo = { config: env.GATEWAY_CONFIG, secrets: env.GATEWAY_SECRETS, health };
  if (health.status === "failed") memo.retry_at = Date.now() + FAILED_APPLY_RETRY_MS;
  done.set(env.DB, memo);
  return health;
}

/** The cron tick: always re-reads config_state (and refreshes the isolate's memo). */
export async function syncOnSchedule(env: Env): Promise<ConfigHealth> {
  return remember(env, await syncDeclaredConfig(env));
}
