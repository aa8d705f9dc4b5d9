#!/usr/bin/env node
// `npm run dev`: run the whole gateway locally in workerd through wrangler, fully offline.
//
//   PORT                  listen port on 127.0.0.1 (default 8787)
//   HOOKSTREAM_STATE_DIR  D1/KV/R2/DO state + secrets.json (default .hookstream/state)
//
// On first start a development user signs up through the API (which gives them an organization
// and a `production` project), gets an API key, and all of it is written to
// .hookstream/dev-credentials.json; later starts reuse it as long as its API key is still valid.

import { randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import {
  REPO_ROOT,
  apiKeyIsActive,
  ensureInstalled,
  prepareState,
  signUpTenant,
  startGateway,
  triggerScheduled,
} from "./lib/gateway.mjs";

const SWEEP_INTERVAL_MS = 60_000;
const log = (msg) => console.log(`[hookstream] ${msg}`);

async function readJson(file) {
  try {
    return JSON.parse(await fsp.readFile(file, "utf8"));
  } catch (err) {
    if (err?.code === "ENOENT") return null;
    log(`ignoring unreadable ${path.relative(REPO_ROOT, file)}: ${err.message}`);
    return null;
  }
}

async function writePrivateJson(file, value) {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await fsp.chmod(tmp, 0o600);
  await fsp.rename(tmp, file);
}

let shutdown = (signal) => {
  // Not started yet: exiting runs gateway.mjs's exit hook, which kills a half-started wrangler.
  log(`${signal}: aborting start-up`);
  process.exit(130);
};
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => void shutdown(sig));

async function main() {
  await ensureInstalled();

  const port = Number(process.env.PORT || 8787);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid PORT: ${process.env.PORT}`);
  const stateDir = process.env.HOOKSTREAM_STATE_DIR
    ? path.resolve(process.env.HOOKSTREAM_STATE_DIR)
    : path.join(REPO_ROOT, ".hookstream", "state");
  const credentialsFile = path.join(REPO_ROOT, ".hookstream", "dev-credentials.json");
  const baseUrl = `http://127.0.0.1:${port}`;

  log(`state: ${stateDir}`);
  log("applying D1 migrations …");
  const { migrationsMs } = await prepareState(stateDir);
  log(`migrations up to date (${(migrationsMs / 1000).toFixed(1)}s)`);

  const existing = await readJson(credentialsFile);
  const reusable =
    existing?.api_key && existing.org_id && existing.env_id && existing.email && existing.password && (await apiKeyIsActive(stateDir, existing.api_key));

  log(`starting wrangler dev on ${baseUrl} …`);
  const gateway = await startGateway({ port, stateDir });

  let credentials;
  if (reusable) {
    credentials = { ...existing, base_url: baseUrl };
    log(`reusing ${path.relative(REPO_ROOT, credentialsFile)}`);
  } else {
    // Same user again if we know them (their key was revoked, or the file is from before accounts); else a new one.
    const email = existing?.email ?? `dev-${randomBytes(4).toString("hex")}@hookstream.local`;
    const password = existing?.password ?? randomBytes(18).toString("base64url");
    try {
      const t = await signUpTenant(baseUrl, { email, password, name: "Developer", orgName: "Development", keyName: "dev" });
      credentials = { base_url: baseUrl, api_key: t.api_key, org_id: t.org_id, env_id: t.env_id, email: t.email, password: t.password };
      log(`signed up the development user ${email} (${t.org_id} / ${t.env_id})`);
    } catch (err) {
      await gateway.stop();
      throw err;
    }
  }
  await writePrivateJson(credentialsFile, credentials);

  let sweeping = false;
  const sweepTimer = setInterval(async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await triggerScheduled(gateway.baseUrl);
    } catch (err) {
      log(`scheduled sweep failed: ${err.message}`);
    } finally {
      sweeping = false;
    }
  }, SWEEP_INTERVAL_MS);

  let shuttingDown = false;
  shutdown = async (signal) => {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(sweepTimer);
    log(`${signal}: stopping gateway …`);
    await gateway.stop();
    log("stopped");
    process.exit(0);
  };
  gateway.exited.then(({ code, signal }) => {
    if (shuttingDown) return;
    clearInterval(sweepTimer);
    log(`wrangler dev exited unexpectedly (${signal ?? `exit ${code}`})`);
    gateway.stop("SIGKILL").finally(() => process.exit(code || 1));
  });

  const key = credentials.api_key;
  console.log(
    [
      "",
      "  hookstream is running",
      `  base_url     ${gateway.baseUrl}`,
      `  api_key      ${key}`,
      `  sign in      ${credentials.email} / ${credentials.password}`,
      `  credentials  ${path.relative(process.cwd(), credentialsFile) || credentialsFile}`,
      `  ready in     ${(gateway.startupMs / 1000).toFixed(1)}s; scheduled sweep every ${SWEEP_INTERVAL_MS / 1000}s`,
      "",
      "  try:",
      `    curl -X POST ${gateway.baseUrl}/v1/sources -H "authorization: Bearer ${key}" -H content-type:application/json -d '{"name":"demo"}'`,
      "",
      "  Ctrl-C to stop",
      "",
    ].join("\n"),
  );
}

main().catch((err) => {
  console.error(`[hookstream] ${err?.stack ?? err}`);
  process.exit(1);
});
