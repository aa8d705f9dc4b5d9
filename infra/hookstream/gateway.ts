import path from "node:path";
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { BINDINGS, DURABLE_OBJECT_CLASSES } from "../../worker/src/bindings.js";
import { declaredIds, formatIssues } from "../../worker/src/config/index.js";
import { compileDeclarations, configTree, type Compiled, type ProjectDeclaration } from "./compile.js";
import type { Connection } from "./connection.js";
import { REPO_ROOT } from "./declared-in.js";
import type { Destination } from "./destination.js";
import { localOptions, record } from "./registry.js";
import type { Source } from "./source.js";
import { MAIN_MODULE, migrationsSince, workerBundle, wranglerSettings } from "./worker-bundle.js";

/** Where the Worker answers: its workers.dev URL, and/or a custom domain, and/or a zone route. */
export interface GatewayDomain {
  /** The account's workers.dev subdomain (Workers → Settings): the Worker answers on `<scriptName>.<subdomain>.workers.dev`. */
  workersDevSubdomain?: string;
  /** A hostname on a zone in this account: a Workers custom domain (DNS and certificate are managed by Cloudflare). */
  customDomain?: { hostname: string; zoneId: pulumi.Input<string> };
  /** An extra route pattern on a zone, e.g. `hooks.example.com/v1/ingest/*`. */
  route?: { pattern: string; zoneId: pulumi.Input<string> };
}

export interface GatewayArgs extends GatewayDomain {
  accountId: pulumi.Input<string>;
  /** The project the declared resources live in (organization and project are created on apply). */
  project: ProjectDeclaration;
  /** base64 of 32 random bytes (`openssl rand -base64 32`): encrypts secrets at rest, keys the declared ids. */
  encryptionKey: pulumi.Input<string>;
  /** Better Auth's secret, at least 32 characters. */
  authSecret: pulumi.Input<string>;
  /** Resend API key for emails; without it emails are only logged. */
  resendApiKey?: pulumi.Input<string>;
  notifyFrom?: string;
  /** Cloudflare resource names; default `hookstream-<stack>`. */
  scriptName?: string;
  /**
   * The Durable Object migration tag the deployed script is already at (undefined: a new
   * script). See docs/gitops.md "Durable Object migrations".
   */
  durableObjectsMigratedTo?: string;
  /** The dashboard's static files; default dashboard/public. Null: no assets. */
  assetsDirectory?: string | null;
  sources?: readonly Source[];
  destinations?: readonly Destination[];
  connections?: readonly Connection[];
}

/**
 * The whole gateway in one Cloudflare account: D1, KV, R2, the Worker (bundle, bindings,
 * Durable Object migrations, dashboard assets), its cron and its URL — and the declared
 * routing compiled into the Worker's GATEWAY_CONFIG / GATEWAY_SECRETS bindings.
 */
export class Gateway extends pulumi.ComponentResource {
  readonly database: cloudflare.D1Database;
  readonly kv: cloudflare.WorkersKvNamespace;
  readonly bodies: cloudflare.R2Bucket;
  readonly script: cloudflare.WorkersScript;
  readonly baseUrl: pulumi.Output<string>;
  readonly apiUrl: pulumi.Output<string>;
  readonly dashboardUrl: pulumi.Output<string>;
  /** Ingest URL by declared source name (derived ids: stable across deploys). */
  readonly ingestUrls: pulumi.Output<Record<string, string>>;
  readonly gatewayConfig: pulumi.Output<string>;
  readonly gatewaySecrets: pulumi.Output<string>;
  /** The compiled declarations (issues included; also when they are not thrown). */
  readonly compiled: Promise<Compiled>;
  readonly durableObjectMigrationTag: string | undefined;
  /** The Worker's bindings as uploaded (each secret_text's text is a secret Output). */
  readonly bindings: { name: string; type: string; [field: string]: unknown }[];

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookstream:index:Gateway", name, {}, opts);
    const parent = { parent: this };
    const stackName = args.scriptName ?? `hookstream-${pulumi.getStack()}`;
    const { accountId } = args;
    if (!args.workersDevSubdomain && !args.customDomain) {
      throw new Error("hookstream Gateway: give workersDevSubdomain or customDomain (where the Worker answers)");
    }
    const w = wranglerSettings();

    this.database = new cloudflare.D1Database(`${name}-db`, { accountId, name: stackName }, { ...parent, protect: opts?.protect });
    this.kv = new cloudflare.WorkersKvNamespace(`${name}-kv`, { accountId, title: stackName }, parent);
    this.bodies = new cloudflare.R2Bucket(`${name}-bodies`, { accountId, name: `${stackName}-bodies` }, parent);

    this.baseUrl = pulumi.output(args.customDomain ? `https://${args.customDomain.hostname}` : `https://${stackName}.${args.workersDevSubdomain}.workers.dev`);
    this.apiUrl = this.baseUrl.apply((b) => `${b}/v1`);
    this.dashboardUrl = this.baseUrl.apply((b) => `${b}/`);

    // Compile the declarations: eagerly (placeholders for values unknown during preview) so a bad
    // declaration fails preview; the binding values follow the inputs, so they carry their
    // dependencies, unknown-ness and secret-ness.
    const input = { project: args.project, sources: args.sources, destinations: args.destinations, connections: args.connections };
    this.compiled = compileDeclarations({ ...input, allowPrivateDestinations: localOptions()?.allowPrivateDestinations === true });
    const collecting = record(this, this.compiled);
    const checked = this.compiled.then((c) => {
      if (c.issues.length && !collecting) throw new Error(`hookstream: the declared routing has ${c.issues.length} problem(s):\n${formatIssues(c.issues)}`);
      return c;
    });
    const bindings = pulumi.all([pulumi.output(configTree(input)), checked]).apply(([, c]) => c.bindings ?? { GATEWAY_CONFIG: "", GATEWAY_SECRETS: "{}" });
    this.gatewayConfig = pulumi.unsecret(bindings.apply((b) => b.GATEWAY_CONFIG));
    this.gatewaySecrets = pulumi.secret(bindings.apply((b) => b.GATEWAY_SECRETS));

    const plain = (name: string, text: pulumi.Input<string>) => ({ name, type: "plain_text", text });
    const secret = (name: string, text: pulumi.Input<string>) => ({ name, type: "secret_text", text: pulumi.secret(text) });
    const durable = Object.entries(DURABLE_OBJECT_CLASSES).map(([key, className]) => ({
      name: BINDINGS[key as keyof typeof DURABLE_OBJECT_CLASSES],
      type: "durable_object_namespace",
      className,
    }));
    const migrations = migrationsSince(w.migrations, args.durableObjectsMigratedTo);
    this.durableObjectMigrationTag = w.migrations.at(-1)?.tag;
    const assetsDirectory = args.assetsDirectory === undefined ? path.join(REPO_ROOT, "dashboard", "public") : args.assetsDirectory;

    this.script = new cloudflare.WorkersScript(
      `${name}-worker`,
      {
        accountId,
        scriptName: stackName,
        content: workerBundle(),
        mainModule: MAIN_MODULE,
        compatibilityDate: w.compatibility_date,
        compatibilityFlags: w.compatibility_flags,
        bindings: (this.bindings = [
          { name: BINDINGS.db, type: "d1", id: this.database.uuid },
          { name: BINDINGS.kv, type: "kv_namespace", namespaceId: this.kv.id },
          { name: BINDINGS.bodies, type: "r2_bucket", bucketName: this.bodies.name },
          ...durable,
          plain(BINDINGS.allowPrivateDestinations, "false"),
          plain(BINDINGS.resendBaseUrl, w.vars[BINDINGS.resendBaseUrl] ?? "https://api.resend.com"),
          plain(BINDINGS.notifyFrom, args.notifyFrom ?? w.vars[BINDINGS.notifyFrom] ?? "hookstream <notifications@hookstream.dev>"),
          plain(BINDINGS.publicUrl, this.baseUrl),
          plain(BINDINGS.gatewayConfig, this.gatewayConfig),
          secret(BINDINGS.encryptionKey, args.encryptionKey),
          secret(BINDINGS.betterAuthSecret, args.authSecret),
          ...(args.resendApiKey === undefined ? [] : [secret(BINDINGS.resendApiKey, args.resendApiKey)]),
          secret(BINDINGS.gatewaySecrets, this.gatewaySecrets),
        ]),
        ...(migrations ? { migrations } : {}),
        ...(assetsDirectory ? { assets: { directory: assetsDirectory, config: { htmlHandling: "auto-trailing-slash", notFoundHandling: "none" } } } : {}),
        observability: { enabled: true },
      },
      // The sinks (IAM keys, service account keys) exist before the Worker that uses them.
      { ...parent, dependsOn: [...(args.destinations ?? [])] },
    );

    const scriptName = this.script.scriptName;
    new cloudflare.WorkersCronTrigger(`${name}-cron`, { accountId, scriptName, schedules: w.crons.map((cron) => ({ cron })) }, parent);
    new cloudflare.WorkersScriptSubdomain(`${name}-workers-dev`, { accountId, scriptName, enabled: Boolean(args.workersDevSubdomain), previewsEnabled: false }, parent);
    if (args.customDomain) {
      new cloudflare.WorkersCustomDomain(`${name}-domain`, { accountId, hostname: args.customDomain.hostname, service: scriptName, zoneId: args.customDomain.zoneId }, parent);
    }
    if (args.route) new cloudflare.WorkersRoute(`${name}-route`, { zoneId: args.route.zoneId, pattern: args.route.pattern, script: scriptName }, parent);

    const sourceNames = (args.sources ?? []).map((s) => ({ name: s.declaredName }));
    this.ingestUrls = pulumi.unsecret(
      pulumi.all([pulumi.output(args.encryptionKey), this.baseUrl]).apply(async ([key, base]) => {
        const ids = await declaredIds(key, { project: args.project, sources: sourceNames });
        return Object.fromEntries(Object.entries(ids.sources).map(([n, id]) => [n, `${base}/v1/ingest/${id}`]));
      }),
    );

    this.registerOutputs({ baseUrl: this.baseUrl, apiUrl: this.apiUrl, dashboardUrl: this.dashboardUrl, ingestUrls: this.ingestUrls });
  }
}
