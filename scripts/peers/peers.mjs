// The real peers the sink destinations are tested against, all on 127.0.0.1: moto (SQS, S3, EventBridge)
// with signature checking ON, the Pub/Sub emulator, RabbitMQ with the management plugin (installed with
// apt when missing), and the Kafka REST contract fake. Every process is stopped by its PID.
//
//   node scripts/peers/peers.mjs start <state.json>   starts them detached, writes ports/credentials/PIDs
//   node scripts/peers/peers.mjs stop <state.json>    stops the PIDs listed there
// Tests read the state through HOOKSTREAM_PEERS_FILE; vitest globalSetup (scripts/peers/global-setup.mjs)
// starts and stops its own set when that variable is unset.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AwsClient } from "aws4fetch";
import { freePort } from "../lib/gateway.mjs";

export { freePort };

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PUBSUB_EMULATOR = "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator";
const RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";


async function waitFor(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms${last ? `: ${last.message}` : ""}`);
}

function spawnDetached(cmd, args, logFile, env = process.env) {
  const out = fs.openSync(logFile, "a");
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", out, out], env });
  child.unref();
  fs.closeSync(out);
  return child.pid;
}

function killGroup(pid) {
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

async function startMoto(dir, pids, { auth = true } = {}) {
  const port = await freePort();
  pids.push(spawnDetached("moto_server", ["-H", "127.0.0.1", "-p", String(port)], path.join(dir, "moto.log")));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor("moto", async () => (await fetch(`${endpoint}/moto-api/`)).ok);
  // npm run dev: signature checking stays off, so the credentials a local compile gives sinks work.
  if (!auth) return { endpoint, region: "us-east-1", access_key_id: "test", secret_access_key: "test" };
  // While auth is off any signature passes: create an IAM user with an allow-all policy and a key.
  const bootstrap = new AwsClient({ accessKeyId: "AKIABOOTSTRAP0000000", secretAccessKey: "bootstrap", service: "iam", region: "us-east-1", retries: 0 });
  const iam = async (params) => {
    const res = await bootstrap.fetch(`${endpoint}/`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ Version: "2010-05-08", ...params }).toString(),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`moto IAM ${params.Action}: ${res.status} ${text}`);
    return text;
  };
  await iam({ Action: "CreateUser", UserName: "hookstream" });
  const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
  const created = await iam({ Action: "CreatePolicy", PolicyName: "allow-all", PolicyDocument: policy });
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(created)?.[1];
  await iam({ Action: "AttachUserPolicy", UserName: "hookstream", PolicyArn: arn });
  const key = await iam({ Action: "CreateAccessKey", UserName: "hookstream" });
  const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(key)?.[1];
  const secretAccessKey = /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(key)?.[1];
  // Signature checking ON from here: a wrong secret now gets 403 SignatureDoesNotMatch.
  const reset = await fetch(`${endpoint}/moto-api/reset-auth`, { method: "POST", body: "0" });
  if (!reset.ok) throw new Error(`moto reset-auth: ${reset.status}`);
  return { endpoint, region: "us-east-1", access_key_id: accessKeyId, secret_access_key: secretAccessKey };
}

async function startPubsub(dir, pids) {
  const port = await freePort();
  pids.push(spawnDetached(PUBSUB_EMULATOR, [`--host=127.0.0.1`, `--port=${port}`], path.join(dir, "pubsub.log")));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor("pubsub emulator", async () => (await fetch(`${endpoint}/`)).ok, 90_000);
  return { endpoint, project_id: "hookstream-test" };
}

function ensureRabbitmqInstalled() {
  if (fs.existsSync(RABBITMQ_SERVER)) return;
  console.log("[peers] rabbitmq-server is missing: apt-get install -y rabbitmq-server");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "rabbitmq-server"], { stdio: "inherit", env });
  } catch {
    execFileSync("apt-get", ["update"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "rabbitmq-server"], { stdio: "inherit", env });
  }
}

async function startRabbitmq(dir, pids) {
  ensureRabbitmqInstalled();
  const [amqpPort, mgmtPort, epmdPort, distPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const home = path.join(dir, "rabbitmq");
  await fsp.mkdir(path.join(home, "mnesia"), { recursive: true });
  await fsp.mkdir(path.join(home, "log"), { recursive: true });
  const password = randomBytes(12).toString("hex");
  await fsp.writeFile(
    path.join(home, "rabbitmq.conf"),
    [
      `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
      `management.tcp.ip = 127.0.0.1`,
      `management.tcp.port = ${mgmtPort}`,
      `distribution.listener.interface = 127.0.0.1`,
      `distribution.listener.port_range.min = ${distPort}`,
      `distribution.listener.port_range.max = ${distPort}`,
      `default_user = hookstream`,
      `default_pass = ${password}`,
      `loopback_users = none`,
      "",
    ].join("\n"),
  );
  await fsp.writeFile(path.join(home, "enabled_plugins"), "[rabbitmq_management].\n");
  await fsp.writeFile(path.join(home, ".erlang.cookie"), randomBytes(16).toString("hex"), { mode: 0o400 });
  const env = {
    ...process.env,
    HOME: home,
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: "127.0.0.1",
    RABBITMQ_NODENAME: "hookstream@localhost",
    RABBITMQ_CONFIG_FILE: path.join(home, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(home, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: path.join(home, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(home, "log"),
    RABBITMQ_PID_FILE: path.join(home, "rabbit.pid"),
    RABBITMQ_CONF_ENV_FILE: path.join(home, "rabbitmq-env.conf"),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(home, "advanced.config"),
  };
  pids.push(spawnDetached("epmd", ["-address", "127.0.0.1", "-port", String(epmdPort)], path.join(dir, "epmd.log"), env));
  pids.push(spawnDetached(RABBITMQ_SERVER, [], path.join(dir, "rabbitmq.log"), env));
  const endpoint = `http://127.0.0.1:${mgmtPort}`;
  const auth = `Basic ${Buffer.from(`hookstream:${password}`).toString("base64")}`;
  await waitFor("rabbitmq management", async () => (await fetch(`${endpoint}/api/overview`, { headers: { authorization: auth } })).ok, 90_000);
  return { endpoint, username: "hookstream", password, rabbit_pid_file: env.RABBITMQ_PID_FILE };
}

async function startKafkaFake(dir, pids) {
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  pids.push(spawnDetached(process.execPath, [path.join(HERE, "kafka-rest-fake.mjs"), String(port), "hookstream", password], path.join(dir, "kafka.log")));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor("kafka rest fake", async () => (await fetch(`${endpoint}/_fake/records`)).ok);
  return { endpoint, username: "hookstream", password, cluster_id: "hookstream-fake-cluster" };
}

/** Can this machine run the peer? (moto and the Pub/Sub emulator come with the image; RabbitMQ is apt-installed.) */
export function peerAvailable(name) {
  if (name === "pubsub") return fs.existsSync(PUBSUB_EMULATOR);
  if (name === "moto") {
    return (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, "moto_server")));
  }
  return true;
}

/**
 * Starts the peers (every one by default, or `only` some: "moto", "pubsub", "rabbitmq", "kafka"); returns
 * their state (ports, credentials, PIDs). Stops what started if one fails. `motoAuth: false` leaves
 * moto's signature checking off (npm run dev).
 */
export async function startPeers({ only, motoAuth = true } = {}) {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "hookstream-peers-"));
  const pids = [];
  const started = Date.now();
  const want = (name) => !only || only.includes(name);
  try {
    const [moto, pubsub, rabbitmq, kafka] = await Promise.all([
      want("moto") ? startMoto(dir, pids, { auth: motoAuth }) : undefined,
      want("pubsub") ? startPubsub(dir, pids) : undefined,
      want("rabbitmq") ? startRabbitmq(dir, pids) : undefined,
      want("kafka") ? startKafkaFake(dir, pids) : undefined,
    ]);
    const names = ["moto", "pubsub", "rabbitmq", "kafka"].filter(want);
    console.log(`[peers] ${names.join(", ")} ready in ${Date.now() - started} ms (logs in ${dir})`);
    return { dir, pids, moto, pubsub, rabbitmq, kafka };
  } catch (err) {
    await stopPeers({ dir, pids });
    throw err;
  }
}

export async function stopPeers(state) {
  // RabbitMQ's Erlang VM is a child of the wrapper script; stop it by its own PID file too.
  const rabbitPid = state.rabbitmq ? Number(fs.existsSync(state.rabbitmq.rabbit_pid_file) ? fs.readFileSync(state.rabbitmq.rabbit_pid_file, "utf8").trim() : NaN) : NaN;
  for (const pid of [...state.pids].reverse()) killGroup(pid);
  if (Number.isInteger(rabbitPid) && rabbitPid > 0) {
    try {
      process.kill(rabbitPid, "SIGTERM");
    } catch {
      // gone with its group
    }
  }
  const deadline = Date.now() + 10_000;
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  while (Date.now() < deadline && state.pids.some(alive)) await new Promise((r) => setTimeout(r, 100));
  for (const pid of state.pids.filter(alive)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  if (!process.env.HOOKSTREAM_PEERS_KEEP_LOGS) await fsp.rm(state.dir, { recursive: true, force: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [command, file] = process.argv.slice(2);
  if (command === "start" && file) {
    const state = await startPeers();
    await fsp.writeFile(file, JSON.stringify(state, null, 2));
  } else if (command === "stop" && file) {
    if (fs.existsSync(file)) {
      await stopPeers(JSON.parse(await fsp.readFile(file, "utf8")));
      await fsp.rm(file, { force: true });
    }
  } else {
    console.error("usage: peers.mjs start|stop <state.json>");
    process.exit(2);
  }
}
