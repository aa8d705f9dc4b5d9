#!/usr/bin/env node
// `npm run dev`: run the whole gateway locally in workerd through wrangler, fully offline.
//
//   PORT                  listen port on 127.0.0.1 (default 8787)
//   HOOKSTREAM_STATE_DIR  D1/KV/R2/DO state + secrets.json (default .hookstream/state)
//   --no-config           ignore the declarations in infra/ (plain gateway, as before)
//   --no-peers            do not start local peers for declared AWS / GCP sinks
//   --stack <name>        which Pulumi.<stack>.yaml the declarations read (default dev)
//
// The declarations in infra/ (the same Pulumi program `pulumi up` deploys) are compiled without the
// Pulumi engine and given to the gateway as GATEWAY_CONFIG / GATEWAY_SECRETS, so what a pull request
// declares runs here first. Secret stack values are generated once and kept in .hookstream/dev-config.json.
// Declared SQS / S3 / EventBridge / Pub/Sub sinks point at local peers (moto, the Pub/Sub emulator)
// when this machine has them.
//
// On first start a development user signs up through the API, becomes an owner of the declared
// organization (or, without declarations, gets their own with a `production` project), gets an API
// key for that project, and all of it is written to .hookstream/dev-credentials.json; later starts
// reuse it as long as its API key is still valid and belongs to the declared project.

import { randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  REPO_ROOT,
  apiKeyIsActive,
  ensureInstalled,
  prepareState,
  signIn,
  signUpTenant,
  startGateway,
  triggerScheduled,
} from "./lib/gateway.mjs";
import { PEER_OF_SINK, compileForDev, createSinks, declaredDevKey, hasDeclarations } from "./lib/declarations.mjs";

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

let peers = null;
async function stopPeers() {
  if (!peers) return;
  const state = peers;
  peers = null;
  const { stopPeers: stop } = await import("./peers/peers.mjs");
  await stop(state);
}

let shutdown = (signal) => {
  // Not started yet: exiting runs gateway.mjs's exit hook, which kills a half-started wrangler.
  log(`${signal}: aborting start-up`);
  stopPeers().finally(() => process.exit(130));
};
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => void shutdown(sig));

async function main() {
  const { values: flags } = parseArgs({
    options: {
      "no-config": { type: "boolean", default: false },
      "no-peers": { type: "boolean", default: false },
      stack: { type: "string", default: "dev" },
    },
  });
  await ensureInstalled();

  const port = Number(process.env.PORT || 8787);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid PORT: ${process.env.PORT}`);
  const stateDir = process.env.HOOKSTREAM_STATE_DIR
    ? path.resolve(process.env.HOOKSTREAM_STATE_DIR)
    : path.join(REPO_ROOT, ".hookstream", "state");
  const credentialsFile = path.join(REPO_ROOT, ".hookstream", "dev-credentials.json");
  const valuesFile = path.join(REPO_ROOT, ".hookstream", "dev-config.json");
  const baseUrl = `http://127.0.0.1:${port}`;

  log(`state: ${stateDir}`);
  log("applying D1 migrations …");
  const { migrationsMs, secrets } = await prepareState(stateDir);
  log(`migrations up to date (${(migrationsMs / 1000).toFixed(1)}s)`);

  const existing = await readJson(credentialsFile);
  // Same user again if we know them (their key was revoked, or the file is from before accounts); else a new one.
  const email = existing?.email ?? `dev-${randomBytes(4).toString("hex")}@hookstream.local`;
  const password = existing?.password ?? randomBytes(18).toString("base64url");

  // The declarations: compiled for this gateway, with the development user among the declared owners.
  let declared = null;
  if (!flags["no-config"] && hasDeclarations()) {
    const compileOpts = { stack: flags.stack, owner: email, valuesFile, encryptionKey: secrets.ENCRYPTION_KEY, authSecret: secrets.BETTER_AUTH_SECRET };
    log(`compiling the declarations in infra/ (stack ${flags.stack}) …`);
    declared = await compileForDev(compileOpts);
    if (declared.ok) {
      const wanted = [...new Set(declared.sinks.map((s) => PEER_OF_SINK[s.type]).filter(Boolean))];
      if (wanted.length && flags["no-peers"]) {
        log(`--no-peers: the declared ${declared.sinks.map((s) => s.type).join(", ")} sinks keep their cloud endpoints`);
      } else if (wanted.length) {
        const { peerAvailable, startPeers } = await import("./peers/peers.mjs");
        const available = wanted.filter((p) => peerAvailable(p));
        for (const p of wanted.filter((x) => !available.includes(x))) log(`${p} is not installed here: sinks it would serve keep their cloud endpoints`);
        if (available.length) {
          log(`starting local peers for the declared sinks: ${available.join(", ")} …`);
          peers = await startPeers({ only: available, motoAuth: false });
          const endpoints = { awsEndpoint: peers.moto?.endpoint, pubsubEndpoint: peers.pubsub?.endpoint };
          declared = await compileForDev({ ...compileOpts, ...endpoints });
          if (declared.ok) {
            const created = await createSinks(declared.sinks, endpoints);
            for (const sink of created) log(`  ${sink.type.padEnd(11)} ${sink.resource}  (destination "${sink.destination}")`);
          }
        }
      }
    }
    if (!declared.ok) {
      await stopPeers();
      throw new Error(`the declarations in infra/ do not compile:\n${declared.error}\n(npm run config:check shows every problem; npm run dev -- --no-config starts without them)`);
    }
    if (declared.generated.length) log(`generated development values for ${declared.generated.join(", ")} in ${path.relative(REPO_ROOT, valuesFile)}`);
  }

  const reusable =
    existing?.api_key &&
    existing.org_id &&
    existing.env_id &&
    existing.email &&
    existing.password &&
    (!declared || existing.env_id === declared.env_id) &&
    (await apiKeyIsActive(stateDir, existing.api_key));

  log(`starting wrangler dev on ${baseUrl} …`);
  const gateway = await startGateway({ port, stateDir, vars: declared ? declared.vars : {} }).catch(async (err) => {
    await stopPeers();
    throw err;
  });

  let credentials;
  if (reusable) {
    credentials = { ...existing, base_url: baseUrl };
    log(`reusing ${path.relative(REPO_ROOT, credentialsFile)}`);
  } else {
    try {
      if (declared) {
        const t = await declaredDevKey(baseUrl, { email, password, orgId: declared.org_id, envId: declared.env_id, signIn, triggerScheduled });
        credentials = { base_url: baseUrl, ...t };
        log(`${existing?.email ? "the development user" : "signed up the development user"} ${email}: owner of the declared organization "${declared.project.organization}", key for project "${declared.project.name}" (${t.org_id} / ${t.env_id})`);
      } else {
        const t = await signUpTenant(baseUrl, { email, password, name: "Developer", orgName: "Development", keyName: "dev" });
        credentials = { base_url: baseUrl, api_key: t.api_key, org_id: t.org_id, env_id: t.env_id, email: t.email, password: t.password };
        log(`signed up the development user ${email} (${t.org_id} / ${t.env_id})`);
      }
    } catch (err) {
      await gateway.stop();
      await stopPeers();
      throw err;
    }
  }
  await writePrivateJson(credentialsFile, credentials);
  if (declared) {
    await writePrivateJson(path.join(REPO_ROOT, ".hookstream", "dev-sources.json"), {
      base_url: baseUrl,
      sources: Object.fromEntries(
        declared.sources.map((s) => [s.name, { id: s.id, ingest_url: `${baseUrl}/v1/ingest/${s.id}`, template: s.template, secret: s.secret, declared_in: s.declared_in }]),
      ),
    });
  }

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
    if (peers) log("stopping local peers …");
    await stopPeers();
    log("stopped");
    process.exit(0);
  };
  gateway.exited.then(({ code, signal }) => {
    if (shuttingDown) return;
    clearInterval(sweepTimer);
    log(`wrangler dev exited unexpectedly (${signal ?? `exit ${code}`})`);
    gateway
      .stop("SIGKILL")
      .then(stopPeers)
      .finally(() => process.exit(code || 1));
  });

  const key = credentials.api_key;
  const rel = (file) => path.relative(process.cwd(), file) || file;
  const lines = [
    "",
    "  hookstream is running",
    `  base_url     ${gateway.baseUrl}`,
    `  api_key      ${key}`,
    `  sign in      ${credentials.email} / ${credentials.password}`,
    `  credentials  ${rel(credentialsFile)}`,
    `  ready in     ${(gateway.startupMs / 1000).toFixed(1)}s; scheduled sweep every ${SWEEP_INTERVAL_MS / 1000}s`,
    "",
  ];
  if (declared) {
    const { sources, destinations, connections } = declared.counts;
    lines.push(
      `  declared     ${declared.project.organization} / ${declared.project.name}: ${sources} sources, ${destinations} destinations, ${connections} connections (infra/, stack ${flags.stack})`,
      `  secrets      ${rel(path.join(REPO_ROOT, ".hookstream", "dev-sources.json"))} (signing secret of each source), ${rel(valuesFile)}`,
      "  ingest URLs",
      ...declared.sources.map((s) => `    ${s.name.padEnd(22)} ${gateway.baseUrl}/v1/ingest/${s.id}${s.template ? `  (${s.template})` : ""}`),
      "",
    );
  }
  lines.push(
    "  try:",
    declared?.sources.length
      ? `    curl ${gateway.baseUrl}/v1/sources -H "authorization: Bearer ${key}"`
      : `    curl -X POST ${gateway.baseUrl}/v1/sources -H "authorization: Bearer ${key}" -H content-type:application/json -d '{"name":"demo"}'`,
    "",
    "  Ctrl-C to stop",
    "",
  );
  console.log(lines.join("\n"));
}

main().catch(async (err) => {
  console.error(`[hookstream] ${err?.stack ?? err}`);
  await stopPeers().catch(() => undefined);
  process.exit(1);
});
