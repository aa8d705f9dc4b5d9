// Types for gateway.mjs (plain ESM so it runs before `npm install`; imported by the TS e2e setup).

export const REPO_ROOT: string;
export const WORKER_DIR: string;

export interface WorkerDirOption {
  /** Worker directory holding wrangler.jsonc (default: worker/, or $HOOKSTREAM_WORKER_DIR) */
  workerDir?: string;
}

export interface Tenant {
  api_key: string;
  org_id: string;
  env_id: string;
  key_id: string;
}

export interface Gateway {
  baseUrl: string;
  /** pid of wrangler, also its process-group id */
  pid: number;
  /** ms from spawn until GET /healthz answered 200 */
  startupMs: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signal the whole process group, wait for it to exit (SIGKILL after 5 s). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function wranglerBin(workerDir?: string): string;
export function ensureInstalled(): Promise<void>;
export function offlineEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
export function runWrangler(
  args: string[],
  opts?: WorkerDirOption & { env?: NodeJS.ProcessEnv },
): Promise<{ stdout: string; stderr: string; ms: number }>;
export interface Secrets {
  ENCRYPTION_KEY: string;
  BETTER_AUTH_SECRET: string;
}
export function readSecrets(stateDir: string): Secrets | null;
export function prepareState(
  stateDir: string,
  opts?: WorkerDirOption,
): Promise<{ stateDir: string; secrets: Secrets; migrationsMs: number }>;
export function sqlString(value: unknown): string;
export function d1Query(stateDir: string, sql: string, opts?: WorkerDirOption): Promise<Record<string, unknown>[][]>;
export function hashApiKey(apiKey: string): string;
export function seedTenant(
  stateDir: string,
  names?: { orgName?: string; envName?: string; keyName?: string },
  opts?: WorkerDirOption,
): Promise<Tenant>;
export function apiKeyIsActive(stateDir: string, apiKey: string, opts?: WorkerDirOption): Promise<boolean>;
export interface UserTenant extends Tenant {
  user_id: string;
  email: string;
  password: string;
  /** `name=value` of the session cookie */
  cookie: string;
}
export function signIn(baseUrl: string, email: string, password: string): Promise<string | null>;
export function signUpTenant(
  baseUrl: string,
  opts: { email: string; password: string; name?: string; orgName?: string; keyName?: string; mode?: "live" | "test" },
): Promise<UserTenant>;
export function freePort(): Promise<number>;
export function startGateway(opts: {
  port: number;
  stateDir: string;
  vars?: Record<string, string>;
  /** file for wrangler's stdout+stderr (appended); inherited when omitted */
  log?: string;
  inspectorPort?: number;
  workerDir?: string;
  timeoutMs?: number;
}): Promise<Gateway>;
export function triggerScheduled(
  baseUrl: string,
  opts?: { cron?: string; time?: number },
): Promise<{ ok: true; status: number; body: string }>;
