/**
 * A Pulumi mock monitor that answers every resource the program creates with plausible state
 * (ids, ARNs, queue URLs, keys), pointing sinks at local peers when given. Used by
 * compileLocally and the infra tests: the engine is never needed to compile the declarations.
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type { LocalPeers } from "./peers.js";

export interface CreatedResource {
  type: string;
  name: string;
  /** The inputs with secret markers removed. */
  inputs: Record<string, any>;
  /** Input properties the engine would receive as secrets (the SDK marks the whole property). */
  secretInputs: string[];
  state: Record<string, any>;
}

const ACCOUNT = "123456789012";
/** How the SDK marks a secret value in serialized properties. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const isSecretValue = (v: unknown): v is { value: unknown } => !!v && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
function unwrap(v: unknown): any {
  if (isSecretValue(v)) return unwrap(v.value);
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  return v;
}
const hex = (s: string, n = 32) => createHash("sha256").update(s).digest("hex").slice(0, n);
const uuid = (s: string) => { const h = hex(s); return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`; };

let rsa: string | undefined;
function privateKeyPem(): string {
  rsa ??= generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return rsa;
}

export interface MockOptions {
  peers?: LocalPeers | undefined;
  awsRegion?: string | undefined;
  gcpProject?: string | undefined;
}

export function gatewayMocks(options: MockOptions = {}): pulumi.runtime.Mocks & { created: CreatedResource[] } {
  const created: CreatedResource[] = [];
  const region = () => options.awsRegion ?? "us-east-1";
  const gcpProject = (inputs: Record<string, any>) => inputs.project ?? options.gcpProject ?? "hookstream-dev";
  const state = (type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } => {
    switch (type) {
      case "cloudflare:index/d1Database:D1Database": { const id = uuid(`d1:${inputs.name}`); return { id, state: { uuid: id } }; }
      case "cloudflare:index/workersKvNamespace:WorkersKvNamespace": return { id: hex(`kv:${inputs.title}`), state: {} };
      case "cloudflare:index/r2Bucket:R2Bucket": return { id: inputs.name, state: {} };
      case "cloudflare:index/workersScript:WorkersScript": return { id: inputs.scriptName, state: { etag: hex(String(inputs.content ?? "")) } };
      case "aws:sqs/queue:Queue": {
        const q = inputs.name ?? name;
        const url = options.peers?.awsEndpoint ? `${options.peers.awsEndpoint.replace(/\/$/, "")}/${ACCOUNT}/${q}` : `https://sqs.${region()}.amazonaws.com/${ACCOUNT}/${q}`;
        return { id: url, state: { name: q, url, arn: `arn:aws:sqs:${region()}:${ACCOUNT}:${q}` } };
      }
      case "aws:s3/bucket:Bucket": { const b = inputs.bucket ?? name; return { id: b, state: { bucket: b, arn: `arn:aws:s3:::${b}` } }; }
      case "aws:cloudwatch/eventBus:EventBus": { const b = inputs.name ?? name; return { id: b, state: { name: b, arn: `arn:aws:events:${region()}:${ACCOUNT}:event-bus/${b}` } }; }
      case "aws:iam/user:User": { const u = inputs.name ?? name; return { id: u, state: { name: u, arn: `arn:aws:iam::${ACCOUNT}:user${inputs.path ?? "/"}${u}` } }; }
      case "aws:iam/accessKey:AccessKey":
        return { id: `AKIA${hex(`ak:${inputs.user}`, 16).toUpperCase()}`, state: { secret: options.peers?.awsEndpoint ? "test-secret-access-key-0000" : hex(`sk:${inputs.user}`, 40), status: "Active" } };
      case "gcp:pubsub/topic:Topic": { const p = gcpProject(inputs); return { id: `projects/${p}/topics/${inputs.name}`, state: { project: p } }; }
      case "gcp:serviceaccount/account:Account": {
        const p = gcpProject(inputs); const email = `${inputs.accountId}@${p}.iam.gserviceaccount.com`;
        return { id: `projects/${p}/serviceAccounts/${email}`, state: { email, project: p, name: `projects/${p}/serviceAccounts/${email}`, uniqueId: hex(email, 21) } };
      }
      case "gcp:serviceaccount/key:Key": {
        const saName = String(inputs.serviceAccountId ?? "");
        const email = saName.split("/").at(-1) ?? "test@hookstream-dev.iam.gserviceaccount.com";
        const project = email.split("@")[1]?.split(".")[0] ?? "hookstream-dev";
        const keyId = hex(`key:${saName}`, 40);
        const json = JSON.stringify({
          type: "service_account", project_id: project, private_key_id: keyId, private_key: privateKeyPem(), client_email: email,
          token_uri: options.peers?.pubsubEndpoint ? `${options.peers.pubsubEndpoint.replace(/\/$/, "")}/token` : "https://oauth2.googleapis.com/token",
        });
        return { id: `${saName}/keys/${keyId}`, state: { privateKey: Buffer.from(json).toString("base64"), name: `${saName}/keys/${keyId}` } };
      }
      default: return { id: `${name}-id`, state: {} };
    }
  };
  return {
    created,
    newResource(args: pulumi.runtime.MockResourceArgs) {
      const inputs = unwrap(args.inputs) as Record<string, any>;
      const secretInputs = Object.entries(args.inputs ?? {}).filter(([, v]) => isSecretValue(v)).map(([k]) => k);
      const { id, state: extra } = state(args.type, args.name, inputs);
      const full = { ...inputs, ...extra };
      created.push({ type: args.type, name: args.name, inputs, secretInputs, state: full });
      return { id, state: full };
    },
    call(args: pulumi.runtime.MockCallArgs) {
      return args.inputs;
    },
  };
}
