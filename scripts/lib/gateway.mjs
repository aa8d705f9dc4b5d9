// Local hookstream gateway helpers: used by `npm run dev`, the e2e tests and benchmarks.
//
// Only Node 20 built-ins are imported here, so this module can run before `npm install`.
// Everything wrangler-related runs the wrangler that is installed in node_modules, fully
// offline (see offlineEnv), with absolute --persist-to paths, from the worker/ directory.

import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
// HOOKSTREAM_WORKER_DIR points the helpers at another Worker directory (used to test the tooling itself).
export const WORKER_DIR = process.env.HOOKSTREAM_WORKER_DIR
  ? path.resolve(process.env.HOOKSTREAM_WORKER_DIR)
  : path.join(REPO_ROOT, "worker");

const HEALTH_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/** Resolve wrangler's CLI entry (hoisted to the root node_modules, or inside worker/). */
export function wranglerBin(workerDir = WORKER_DIR) {
  const candidates = [
    path.join(workerDir, "node_modules", "wrangler", "bin", "wrangler.js"),
    path.join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js"),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(`wrangler is not installed (looked in ${candidates.join(", ")}); run \`npm install\` in ${REPO_ROOT}`);
  }
  return found;
}

/** Run `npm install` from the repo root if wrangler is not in node_modules yet. */
export async function ensureInstalled() {
  if (fs.existsSync(path.join(REPO_ROOT, "node_modules", "wrangler", "package.json"))) return;
  console.error("[hookstream] node_modules/wrangler is missing: running `npm install` …");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const code = await new Promise((resolve, reject) => {
    const child = spawn(npm, ["install"], { cwd: REPO_ROOT, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (c, s) => resolve(c ?? (s ? 1 : 0)));
  });
  if (code !== 0) throw new Error(`npm install failed with exit code ${code}`);
}

/** process.env plus the switches that keep wrangler offline, quiet and non-interactive. */
export function offlineEnv(extra = {}) {
  return {
    ...process.env,
    CLOUDFLARE_CF_FETCH_ENABLED: "false", // no request.cf lookup against workers.cloudflare.com
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true", // the banner is also where the npm update check runs
    DO_NOT_TRACK: "1",
    ...extra,
  };
}

/**
 * Run `node <argv>` with stdin closed (never prompts) and its output captured.
 * Resolves { code, signal, stdout, stderr } whatever the exit; rejects only when it cannot start.
 */
export function runNodeCaptured(argv, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Run the local wrangler CLI in workerDir with stdin closed (never prompts).
 * Resolves { stdout, stderr, ms }; rejects with the captured output on a non-zero exit.
 */
export async function runWrangler(args, { workerDir = WORKER_DIR, env } = {}) {
  const started = Date.now();
  const { code, signal, stdout, stderr } = await runNodeCaptured([wranglerBin(workerDir), ...args], {
    cwd: workerDir,
    env: env ?? offlineEnv({ FORCE_COLOR: "0", NO_COLOR: "1" }),
  });
  const ms = Date.now() - started;
  if (code === 0) return { stdout, stderr, ms };
  const shown = args.map((a) => (a.length > 200 ? `${a.slice(0, 200)}…` : a)).join(" ");
  throw new Error(`wrangler ${shown} failed (${signal ?? `exit ${code}`})\n--- stdout ---\n${stdout.trim()}\n--- stderr ---\n${stderr.trim()}`);
}

function secretsPath(stateDir) {
  return path.join(stateDir, "secrets.json");
}

/** Read `<stateDir>/secrets.json` ({ ENCRYPTION_KEY, BETTER_AUTH_SECRET }) or null if it does not exist. */
export function readSecrets(stateDir) {
  try {
    return JSON.parse(fs.readFileSync(secretsPath(path.resolve(stateDir)), "utf8"));
  } catch (err) {
    if (err && err.code === "ENOENT") return null;
    throw err;
  }
}

/**
 * mkdir -p stateDir, apply the D1 migrations to its local database and create
 * `<stateDir>/secrets.json` with a fresh ENCRYPTION_KEY and BETTER_AUTH_SECRET (each only the first time).
 * @returns {Promise<{ stateDir: string, secrets: { ENCRYPTION_KEY: string, BETTER_AUTH_SECRET: string }, migrationsMs: number }>}
 */
export async function prepareState(stateDir, { workerDir = WORKER_DIR } = {}) {
  stateDir = path.resolve(stateDir);
  await fsp.mkdir(stateDir, { recursive: true });
  const { ms } = await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], {
    workerDir,
  });
  let secrets = readSecrets(stateDir);
  if (!secrets?.ENCRYPTION_KEY || !secrets?.BETTER_AUTH_SECRET) {
    secrets = {
      ...(secrets ?? {}),
      ENCRYPTION_KEY: secrets?.ENCRYPTION_KEY ?? randomBytes(32).toString("base64"),
      BETTER_AUTH_SECRET: secrets?.BETTER_AUTH_SECRET ?? randomBytes(32).toString("base64"),
    };
    await fsp.writeFile(secretsPath(stateDir), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return { stateDir, secrets, migrationsMs: ms };
}

/** Quote a value as a single-quoted SQL string literal. */
export function sqlString(value) {
  return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * Run SQL against the local D1 database of stateDir and return the rows of every statement
 * (`wrangler d1 execute DB --local --json`): an array with one `results` array per statement.
 */
export async function d1Query(stateDir, sql, { workerDir = WORKER_DIR } = {}) {
  const { stdout } = await runWrangler(
    ["d1", "execute", "DB", "--local", "--persist-to", path.resolve(stateDir), "--json", "--command", sql],
    { workerDir },
  );
  const start = stdout.indexOf("[");
  if (start < 0) throw new Error(`unexpected output from wrangler d1 execute --json:\n${stdout}`);
  const parsed = JSON.parse(stdout.slice(start));
  return parsed.map((r) => r.results ?? []);
}

const newId = (prefix) => `${prefix}_${randomBytes(16).toString("hex")}`;

/** Lowercase hex SHA-256, as stored in api_keys.key_hash. */
export function hashApiKey(apiKey) {
  return createHash("sha256").update(apiKey).digest("hex");
}

/**
 * Insert one organization, one environment and one API key into the local database.
 * @returns {Promise<{ api_key: string, org_id: string, env_id: string, key_id: string }>}
 */
export async function seedTenant(
  stateDir,
  { orgName = "Development", envName = "development", keyName = "dev" } = {},
  { workerDir = WORKER_DIR } = {},
) {
  const org_id = newId("org");
  const env_id = newId("env");
  const key_id = newId("key");
  const prefix = "hs_test_";
  const api_key = `${prefix}${randomBytes(32).toString("hex")}`;
  const now = Date.now();
  const q = sqlString;
  const sql = [
    `INSERT INTO organizations (id, name, created_at) VALUES (${q(org_id)}, ${q(orgName)}, ${now})`,
    `INSERT INTO environments (id, org_id, name, created_at) VALUES (${q(env_id)}, ${q(org_id)}, ${q(envName)}, ${now})`,
    `INSERT INTO api_keys (id, org_id, env_id, name, key_hash, prefix, last4, created_at, last_used_at, revoked_at) VALUES (` +
      [q(key_id), q(org_id), q(env_id), q(keyName), q(hashApiKey(api_key)), q(prefix), q(api_key.slice(-4)), now].join(", ") +
      `, NULL, NULL)`,
  ].join("; ");
  await runWrangler(["d1", "execute", "DB", "--local", "--persist-to", path.resolve(stateDir), "--command", sql], {
    workerDir,
  });
  return { api_key, org_id, env_id, key_id };
}

/** True if an unrevoked API key with this plaintext exists in the local database. */
export async function apiKeyIsActive(stateDir, apiKey, opts = {}) {
  if (typeof apiKey !== "string" || !apiKey) return false;
  const [rows] = await d1Query(
    stateDir,
    `SELECT id FROM api_keys WHERE key_hash = ${sqlString(hashApiKey(apiKey))} AND revoked_at IS NULL`,
    opts,
  );
  return Array.isArray(rows) && rows.length > 0;
}

/** POST JSON to the gateway as the dashboard would (Better Auth checks the Origin). */
async function postJson(baseUrl, pathname, body, headers = {}) {
  const res = await fetch(`${baseUrl}${pathname}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl, ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

async function getJson(baseUrl, pathname, headers) {
  const res = await fetch(`${baseUrl}${pathname}`, { headers, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${pathname}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * Sign in through the running gateway (`/api/auth/sign-in/email`).
 * @returns {Promise<string | null>} the session cookie (`name=value`), or null if the credentials were refused
 */
export async function signIn(baseUrl, email, password) {
  const res = await postJson(baseUrl, "/api/auth/sign-in/email", { email, password });
  if (res.status !== 200) return null;
  const cookie = res.headers.getSetCookie().find((c) => c.includes("session_token="));
  if (!cookie) throw new Error("sign-in answered 200 without a session cookie");
  return cookie.split(";")[0];
}

/**
 * A user of the running gateway with an API key: signs in with `email`/`password`, or signs up
 * first (which provisions their organization and `production` project), optionally renames the
 * organization, and creates an API key bound to that project. Everything goes through the API.
 * @returns {Promise<{ api_key: string, key_id: string, org_id: string, env_id: string, user_id: string, email: string, password: string, cookie: string }>}
 */
export async function signUpTenant(baseUrl, { email, password, name = "Developer", orgName, keyName = "dev", mode = "test" }) {
  let cookie = await signIn(baseUrl, email, password);
  if (!cookie) {
    const up = await postJson(baseUrl, "/api/auth/sign-up/email", { email, password, name });
    if (up.status !== 200) throw new Error(`sign-up failed: HTTP ${up.status} ${up.text.slice(0, 300)}`);
    cookie = await signIn(baseUrl, email, password);
    if (!cookie) throw new Error(`cannot sign in as ${email} (the address may already belong to a user with another password)`);
  }
  const me = await getJson(baseUrl, "/v1/me", { cookie });
  const org_id = me.organizations[0].id;
  const envs = await getJson(baseUrl, "/v1/environments", { cookie, "x-hookstream-org": org_id });
  const env_id = envs.data[0].id;
  if (orgName) {
    const res = await fetch(`${baseUrl}/v1/org`, {
      method: "PATCH",
      headers: { cookie, origin: baseUrl, "content-type": "application/json", "x-hookstream-org": org_id },
      body: JSON.stringify({ name: orgName }),
    });
    if (!res.ok) throw new Error(`renaming the organization failed: HTTP ${res.status} ${await res.text()}`);
  }
  const key = await postJson(baseUrl, "/v1/api-keys", { name: keyName, env_id, mode }, { cookie, "x-hookstream-org": org_id });
  if (key.status !== 201) throw new Error(`creating an API key failed: HTTP ${key.status} ${key.text.slice(0, 300)}`);
  return { api_key: key.json.key, key_id: key.json.id, org_id, env_id, user_id: me.user.id, email, password, cookie };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Is any live (non-zombie) process left in process group pgid? */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return err.code === "EPERM";
  }
  // kill(0) also succeeds for zombies that nobody reaps (e.g. in containers without an init);
  // on Linux look at the real process states.
  if (process.platform !== "linux") return true;
  let entries;
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return true;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") return true;
  }
  return false;
}

async function waitGroupGone(pgid, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid)) return true;
    await sleep(50);
  }
  return !groupAlive(pgid);
}

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if (err.code !== "ESRCH") throw err;
  }
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (text) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

/** The part of a log file written after byte offset `from`, without ANSI colours. */
function readLog(file, from = 0) {
  try {
    const buf = fs.readFileSync(file);
    return stripAnsi(buf.subarray(Math.min(from, buf.length)).toString("utf8"));
  } catch {
    return "";
  }
}

function tail(file, lines = 60) {
  if (!file) return "(wrangler output was not captured; see the output above)";
  try {
    return stripAnsi(fs.readFileSync(file, "utf8")).split("\n").slice(-lines).join("\n");
  } catch (err) {
    return `(could not read ${file}: ${err.message})`;
  }
}

// Kill every gateway still running when this Node process exits, so that a crashed test run
// or dev session does not leave workerd behind.
const liveGroups = new Set();
process.once("exit", () => {
  for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
});

/**
 * Start `wrangler dev` for the worker in its own process group and wait for GET /healthz = 200.
 * @param {{ port: number, stateDir: string, vars?: Record<string, string>, log?: string,
 *           inspectorPort?: number, workerDir?: string, timeoutMs?: number }} opts
 *   log: file that receives wrangler's stdout+stderr (appended); without it they are inherited.
 * @returns {Promise<{ baseUrl: string, pid: number, startupMs: number,
 *           exited: Promise<{ code: number | null, signal: string | null }>,
 *           stop(signal?: NodeJS.Signals): Promise<void> }>}
 */
export async function startGateway({
  port,
  stateDir,
  vars = {},
  log,
  inspectorPort,
  workerDir = WORKER_DIR,
  timeoutMs = HEALTH_TIMEOUT_MS,
}) {
  if (!port) throw new Error("startGateway: port is required");
  if (!stateDir) throw new Error("startGateway: stateDir is required");
  stateDir = path.resolve(stateDir);
  let secrets = readSecrets(stateDir);
  if (!secrets?.ENCRYPTION_KEY || !secrets?.BETTER_AUTH_SECRET) secrets = (await prepareState(stateDir, { workerDir })).secrets;

  const allVars = {
    ENCRYPTION_KEY: secrets.ENCRYPTION_KEY,
    BETTER_AUTH_SECRET: secrets.BETTER_AUTH_SECRET,
    ALLOW_PRIVATE_DESTINATIONS: "true",
    ...vars,
  };
  const args = [
    wranglerBin(workerDir),
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort ?? (await freePort())),
    "--persist-to",
    stateDir,
    "--test-scheduled",
    "--show-interactive-dev-session=false",
  ];
  for (const [k, v] of Object.entries(allVars)) args.push("--var", `${k}:${v}`);

  let logFd;
  let logStart = 0;
  if (log) {
    await fsp.mkdir(path.dirname(path.resolve(log)), { recursive: true });
    logFd = fs.openSync(log, "a");
    logStart = fs.fstatSync(logFd).size;
  }
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: workerDir,
    // A dev registry of its own: wrangler reloads every running `wrangler dev` when another one
    // starts or stops in the shared registry (~/.config/.wrangler/registry), and a POST caught
    // by that reload is answered 503 "restarted mid-request". The gateway binds no other local
    // Worker, so it needs no shared registry.
    env: offlineEnv({ WRANGLER_REGISTRY_PATH: path.join(stateDir, "dev-registry"), ...(log ? { FORCE_COLOR: "0", NO_COLOR: "1" } : {}) }),
    stdio: ["ignore", logFd ?? "inherit", logFd ?? "inherit"],
    detached: true,
  });
  if (logFd !== undefined) fs.closeSync(logFd);
  const pid = child.pid;
  if (!pid) throw new Error("failed to spawn wrangler dev");
  liveGroups.add(pid);

  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.on("error", (err) => {
      exitInfo = { code: null, signal: null, error: err };
      resolve(exitInfo);
    });
  });

  let stopping;
  const stop = (signal = "SIGTERM") => {
    stopping ??= (async () => {
      killGroup(pid, signal);
      if (!(await waitGroupGone(pid, STOP_GRACE_MS))) {
        killGroup(pid, "SIGKILL");
        await waitGroupGone(pid, STOP_GRACE_MS);
      }
      // make sure Node has reaped the direct child too
      await Promise.race([exited, sleep(1_000)]);
      liveGroups.delete(pid);
    })();
    return stopping;
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = started + timeoutMs;
  let lastError = "no response yet";
  while (true) {
    if (exitInfo) {
      await stop("SIGKILL");
      throw new Error(
        `wrangler dev exited before becoming healthy (${exitInfo.error?.message ?? exitInfo.signal ?? `exit ${exitInfo.code}`}).\n` +
          `--- ${log ?? "wrangler output"} (tail) ---\n${tail(log)}`,
      );
    }
    // wrangler keeps running (waiting for file changes) after a failed build: fail fast instead.
    if (log && /\[ERROR\] Build failed/.test(readLog(log, logStart))) {
      await stop();
      throw new Error(`wrangler dev could not build the Worker.\n--- ${log} (tail) ---\n${tail(log)}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `gateway at ${baseUrl} did not answer GET /healthz with 200 within ${timeoutMs / 1000}s (last: ${lastError}).\n` +
          `--- ${log ?? "wrangler output"} (tail) ---\n${tail(log)}`,
      );
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.status === 200) break;
      lastError = `HTTP ${res.status} ${body.slice(0, 200)}`;
    } catch (err) {
      lastError = err?.cause?.code ?? err?.message ?? String(err);
    }
    await sleep(150);
  }
  return { baseUrl, pid, startupMs: Date.now() - started, exited, stop };
}

/**
 * Run the Worker's scheduled (cron) handler once and wait for it, including its waitUntil work.
 * wrangler 4.86 / miniflare serve `/cdn-cgi/handler/scheduled` (answers "ok" with 200, or 500
 * when the handler threw). The `--test-scheduled` path `/__scheduled` also works but returns
 * before waitUntil work finishes, so it is only used as a fallback.
 */
export async function triggerScheduled(baseUrl, { cron = "* * * * *", time } = {}) {
  const qs = new URLSearchParams({ cron });
  if (time !== undefined) qs.set("time", String(time));
  const res = await fetch(`${baseUrl}/cdn-cgi/handler/scheduled?${qs}`, { method: "GET" });
  const body = await res.text();
  if (res.status === 404) {
    const legacy = await fetch(`${baseUrl}/__scheduled?${new URLSearchParams({ cron })}`);
    const legacyBody = await legacy.text();
    if (!legacy.ok) throw new Error(`scheduled trigger failed: HTTP ${legacy.status} ${legacyBody.slice(0, 500)}`);
    return { ok: true, status: legacy.status, body: legacyBody };
  }
  if (!res.ok) throw new Error(`scheduled handler failed: HTTP ${res.status} ${body.slice(0, 500)}`);
  return { ok: true, status: res.status, body };
}
