/**
 * The declarations compiled for `npm run dev` (scripts/dev.mjs runs this in a child process and reads
 * one JSON object from stdout): the GATEWAY_CONFIG / GATEWAY_SECRETS vars, the declared ids, the sinks
 * to create on local peers, and each source's signing secret so a developer can sign test webhooks.
 *
 *   --stack dev --program infra/index.ts --owner <email> --values-file .hookstream/dev-config.json
 *   [--aws-endpoint URL] [--pubsub-endpoint URL]
 *   env HOOKSTREAM_DEV_ENCRYPTION_KEY / HOOKSTREAM_DEV_AUTH_SECRET: the local gateway's keys (declared ids
 *   derive from the encryption key; they are given to the program as hookstream:encryptionKey / authSecret)
 *
 * Secret stack values (`secure:` in Pulumi.<stack>.yaml) are generated once and kept in the values file.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { checkGatewayConfig, declaredIds, formatIssues, splitSecrets, type GatewayConfigInput } from "../../worker/src/config/index.js";
import { DEFAULT_PROGRAM, compileDeclarations, programErrorMessage } from "./compile.js";
import { generatedSecret } from "./stack-config.js";

export interface DevSink {
  type: "sqs" | "s3" | "eventbridge" | "pubsub";
  destination: string;
  /** Queue URL, bucket, bus name, or `projects/<p>/topics/<t>`. */
  resource: string;
  config: Record<string, unknown>;
}
export interface DevCompile {
  ok: boolean;
  error?: string;
  vars?: { GATEWAY_CONFIG: string; GATEWAY_SECRETS: string };
  org_id?: string;
  env_id?: string;
  project?: { organization: string; name: string };
  sources?: { name: string; id: string; template: string | null; declared_in: string | null; secret: string | null }[];
  counts?: { sources: number; destinations: number; connections: number };
  sinks?: DevSink[];
  generated?: string[];
}

function sinksOf(config: GatewayConfigInput): DevSink[] {
  const out: DevSink[] = [];
  for (const d of config.destinations ?? []) {
    const c = (d.config ?? {}) as Record<string, unknown>;
    const s = (k: string) => (typeof c[k] === "string" ? (c[k] as string) : "");
    if (d.type === "sqs" && s("queue_url")) out.push({ type: "sqs", destination: d.name, resource: s("queue_url"), config: c });
    if (d.type === "s3" && s("bucket")) out.push({ type: "s3", destination: d.name, resource: s("bucket"), config: c });
    if (d.type === "eventbridge" && s("event_bus_name")) out.push({ type: "eventbridge", destination: d.name, resource: s("event_bus_name"), config: c });
    if (d.type === "pubsub" && s("topic")) out.push({ type: "pubsub", destination: d.name, resource: `projects/${s("project_id")}/topics/${s("topic")}`, config: c });
  }
  return out;
}

/** The line of stdout that carries the result (a program may print too). */
export const RESULT_MARKER = "hookstream-dev-compile: ";

async function main(): Promise<DevCompile> {
  const { values: args } = parseArgs({
    options: {
      stack: { type: "string", default: "dev" },
      program: { type: "string", default: DEFAULT_PROGRAM },
      owner: { type: "string" },
      "values-file": { type: "string" },
      "aws-endpoint": { type: "string" },
      "pubsub-endpoint": { type: "string" },
    },
  });
  const valuesFile = args["values-file"];
  const fileValues: Record<string, string> = valuesFile && fs.existsSync(valuesFile) ? JSON.parse(fs.readFileSync(valuesFile, "utf8")) : {};
  // The local gateway's own keys: declared ids derive from the encryption key, so they must agree.
  const local: Record<string, string> = {};
  if (process.env.HOOKSTREAM_DEV_ENCRYPTION_KEY) local["hookstream:encryptionKey"] = process.env.HOOKSTREAM_DEV_ENCRYPTION_KEY;
  if (process.env.HOOKSTREAM_DEV_AUTH_SECRET) local["hookstream:authSecret"] = process.env.HOOKSTREAM_DEV_AUTH_SECRET;
  const known: Record<string, string> = { ...fileValues, ...local };
  const generated: string[] = [];
  const peers = {
    ...(args["aws-endpoint"] ? { awsEndpoint: args["aws-endpoint"] } : {}),
    ...(args["pubsub-endpoint"] ? { pubsubEndpoint: args["pubsub-endpoint"] } : {}),
  };
  let compiled;
  try {
    compiled = await compileDeclarations({
      program: args.program!,
      stack: args.stack!,
      known,
      fillSecret: (key) => {
        const value = generatedSecret(key);
        fileValues[key] = value;
        generated.push(key);
        return value;
      },
      ...(Object.keys(peers).length ? { peers } : {}),
      allowPrivateDestinations: true,
    });
  } catch (err) {
    return { ok: false, error: `${args.program}: ${programErrorMessage(err)}` };
  }
  if (generated.length && valuesFile) {
    fs.mkdirSync(path.dirname(valuesFile), { recursive: true });
    fs.writeFileSync(valuesFile, `${JSON.stringify(fileValues, null, 2)}\n`, { mode: 0o600 });
  }
  if (compiled.issues.length) return { ok: false, error: formatIssues(compiled.issues) };

  // The development user owns the declared organization, so the dashboard and their API key see it.
  const config = structuredClone(compiled.config);
  // The Pub/Sub emulator checks no auth, and the key a local compile made up would send the provider to
  // a token exchange that cannot succeed: a destination aimed at the local emulator goes without one.
  const pubsubPeer = args["pubsub-endpoint"];
  if (pubsubPeer) {
    for (const d of config.destinations ?? []) {
      const c = d.config as Record<string, unknown>;
      if (d.type === "pubsub" && c.endpoint === pubsubPeer) {
        delete c.service_account_json;
        delete c.token_url;
      }
    }
  }
  const owner = args.owner;
  if (owner && !(config.project.owners ?? []).includes(owner)) config.project.owners = [...(config.project.owners ?? []), owner];
  const checked = checkGatewayConfig(config, { allowPrivateDestinations: true });
  if (!checked.ok) return { ok: false, error: formatIssues(checked.issues) };
  const split = splitSecrets(config);
  const key = process.env.HOOKSTREAM_DEV_ENCRYPTION_KEY;
  const ids = key ? await declaredIds(key, config) : null;
  return {
    ok: true,
    vars: { GATEWAY_CONFIG: JSON.stringify(split.config), GATEWAY_SECRETS: JSON.stringify(split.secrets) },
    ...(ids ? { org_id: ids.org_id, env_id: ids.env_id } : {}),
    project: { organization: config.project.organization, name: config.project.name },
    sources: (config.sources ?? []).map((s) => {
      const v = (s.verification ?? null) as { secret?: unknown; secrets?: unknown } | null;
      const secret = typeof v?.secret === "string" ? v.secret : Array.isArray(v?.secrets) && typeof v.secrets[0] === "string" ? v.secrets[0] : null;
      return { name: s.name, id: ids?.sources[s.name] ?? "", template: s.template ?? null, declared_in: s.declared_in ?? null, secret };
    }),
    counts: { sources: config.sources?.length ?? 0, destinations: config.destinations?.length ?? 0, connections: config.connections?.length ?? 0 },
    sinks: sinksOf(config),
    generated,
  };
}

main().then(
  (result) => {
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) })}\n`);
    process.exit(0);
  },
);
