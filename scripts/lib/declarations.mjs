// npm run dev's side of the declared config: compile infra/ for the local gateway (in a child process,
// through tsx), create the sinks it declares on local peers, and give the development user an API key
// in the declared project.
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT, runNodeCaptured } from "./gateway.mjs";

const RESULT_MARKER = "hookstream-dev-compile: ";

/** Are there declarations to compile (a program and the local compiler)? */
export function hasDeclarations(program = "infra/index.ts") {
  return fs.existsSync(path.join(REPO_ROOT, program)) && fs.existsSync(path.join(REPO_ROOT, "infra", "hookstream", "local.ts"));
}

/**
 * Runs scripts/config/dev-compile.ts and returns its result ({ ok, error?, vars, org_id, env_id, sources, sinks, … }).
 * @param {{ program?: string, stack?: string, owner?: string, valuesFile: string, encryptionKey: string,
 *           awsEndpoint?: string, pubsubEndpoint?: string }} opts
 */
export async function compileForDev({ program = "infra/index.ts", stack = "dev", owner, valuesFile, encryptionKey, authSecret, awsEndpoint, pubsubEndpoint }) {
  const tsx = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
  const args = [tsx, path.join(REPO_ROOT, "scripts", "config", "dev-compile.ts"), "--program", program, "--stack", stack, "--values-file", valuesFile];
  if (owner) args.push("--owner", owner);
  if (awsEndpoint) args.push("--aws-endpoint", awsEndpoint);
  if (pubsubEndpoint) args.push("--pubsub-endpoint", pubsubEndpoint);
  const { code, signal, stdout, stderr } = await runNodeCaptured(args, {
    cwd: REPO_ROOT,
    env: { ...process.env, HOOKSTREAM_DEV_ENCRYPTION_KEY: encryptionKey, ...(authSecret ? { HOOKSTREAM_DEV_AUTH_SECRET: authSecret } : {}) },
  });
  const line = stdout.split("\n").reverse().find((l) => l.startsWith(RESULT_MARKER));
  if (!line) throw new Error(`compiling the declarations failed (${signal ?? `exit ${code}`}):\n${(stderr || stdout).trim().slice(-2000)}`);
  return JSON.parse(line.slice(RESULT_MARKER.length));
}

/** The sink types each local peer serves. */
export const PEER_OF_SINK = { sqs: "moto", s3: "moto", eventbridge: "moto", pubsub: "pubsub" };

/** Create the queues, buckets, buses and topics the declarations use on the local peers (idempotent). */
export async function createSinks(sinks, { awsEndpoint, pubsubEndpoint }) {
  const { AwsClient } = await import("aws4fetch");
  const aws = (service) => new AwsClient({ accessKeyId: "test", secretAccessKey: "test", service, region: "us-east-1", retries: 0 });
  const created = [];
  for (const sink of sinks) {
    let res;
    if (sink.type === "sqs" && awsEndpoint) {
      const name = sink.resource.split("/").filter(Boolean).at(-1);
      res = await aws("sqs").fetch(`${awsEndpoint}/`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ Action: "CreateQueue", QueueName: name, Version: "2012-11-05" }).toString(),
      });
    } else if (sink.type === "s3" && awsEndpoint) {
      res = await aws("s3").fetch(`${awsEndpoint}/${encodeURIComponent(sink.resource)}`, { method: "PUT" });
      if (res.status === 409) res = new Response(null, { status: 200 }); // already there
    } else if (sink.type === "eventbridge" && awsEndpoint) {
      if (sink.resource === "default") continue;
      res = await aws("events").fetch(`${awsEndpoint}/`, {
        method: "POST",
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSEvents.CreateEventBus" },
        body: JSON.stringify({ Name: sink.resource }),
      });
      if (res.status === 400 && /ResourceAlreadyExists/.test(await res.clone().text())) res = new Response(null, { status: 200 });
    } else if (sink.type === "pubsub" && pubsubEndpoint) {
      res = await fetch(`${pubsubEndpoint}/v1/${sink.resource}`, { method: "PUT", headers: { "content-type": "application/json" }, body: "{}" });
      if (res.status === 409) res = new Response(null, { status: 200 });
    } else continue;
    if (!res.ok) throw new Error(`creating ${sink.type} ${sink.resource} on the local peer failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    created.push(sink);
  }
  return created;
}

async function call(baseUrl, method, pathname, { cookie, org, body } = {}) {
  const res = await fetch(`${baseUrl}${pathname}`, {
    method,
    headers: {
      origin: baseUrl,
      ...(cookie ? { cookie } : {}),
      ...(org ? { "x-hookstream-org": org } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/**
 * The development user (signed up now, or an existing one from an older state) as an owner of the
 * declared organization, with a new API key in the declared project. The gateway makes a declared
 * owner a member when it applies the config (at sign-up, or at once for a user who already exists):
 * wait for that, running the scheduled sync if it takes a moment.
 */
export async function declaredDevKey(baseUrl, { email, password, orgId, envId, signIn, triggerScheduled, keyName = "dev", timeoutMs = 20_000 }) {
  let cookie = await signIn(baseUrl, email, password);
  if (!cookie) {
    const up = await call(baseUrl, "POST", "/api/auth/sign-up/email", { body: { email, password, name: "Developer" } });
    if (up.status !== 200) throw new Error(`sign-up of the development user failed: HTTP ${up.status} ${up.text.slice(0, 300)}`);
    cookie = await signIn(baseUrl, email, password);
    if (!cookie) throw new Error(`cannot sign in as ${email} (the address may already belong to a user with another password)`);
  }
  const deadline = Date.now() + timeoutMs;
  let triggered = false;
  for (;;) {
    const me = await call(baseUrl, "GET", "/v1/me", { cookie });
    if (me.status !== 200) throw new Error(`GET /v1/me failed: HTTP ${me.status} ${me.text.slice(0, 300)}`);
    if ((me.json.organizations ?? []).some((o) => o.id === orgId)) break;
    if (Date.now() > deadline) {
      throw new Error(
        `${email} did not become a member of the declared organization ${orgId} (is the declared config applied? GET ${baseUrl}/healthz shows its status)`,
      );
    }
    if (!triggered) {
      triggered = true;
      await triggerScheduled(baseUrl).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const key = await call(baseUrl, "POST", "/v1/api-keys", { cookie, org: orgId, body: { name: keyName, env_id: envId, mode: "test" } });
  if (key.status !== 201) throw new Error(`creating an API key in the declared project failed: HTTP ${key.status} ${key.text.slice(0, 300)}`);
  return { api_key: key.json.key, org_id: orgId, env_id: envId, email, password };
}
