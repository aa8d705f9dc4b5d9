/**
 * The Worker exactly as infra uploads it: the WorkersScript content and bindings taken from the
 * mock monitor, started under Miniflare (workerd) with those bindings on an empty D1, and given
 * to `wrangler deploy --dry-run` with a wrangler config generated from the same bindings.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../hookstream/declared-in.js";
import type { CompileLocallyResult } from "../hookstream/local.js";
import { wranglerSettings } from "../hookstream/worker-bundle.js";
import { compileExample, only, SCRIPT } from "./helpers.js";

type Binding = { name: string; type: string; text?: string; id?: string; namespaceId?: string; bucketName?: string; className?: string };

let r: CompileLocallyResult;
let script: Record<string, any>;
let dir: string;
beforeAll(async () => {
  r = await compileExample();
  script = only(r.resources, SCRIPT).inputs;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hookstream-infra-"));
  fs.writeFileSync(path.join(dir, script.mainModule), script.content);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ofType = (type: string) => (script.bindings as Binding[]).filter((b) => b.type === type);

describe("the uploaded bundle", () => {
  let mf: Miniflare | undefined;
  afterAll(async () => mf?.dispose());

  it("starts under workerd with infra's bindings, migrates the empty D1 itself and applies the declared config", async () => {
    const sqlite = new Set<string>(script.migrations.steps.flatMap((s: { newSqliteClasses?: string[] }) => s.newSqliteClasses ?? []));
    mf = new Miniflare({
      modules: [{ type: "ESModule", path: path.join(dir, script.mainModule) }],
      modulesRoot: dir,
      compatibilityDate: script.compatibilityDate,
      compatibilityFlags: script.compatibilityFlags,
      d1Databases: Object.fromEntries(ofType("d1").map((b) => [b.name, b.id!])),
      kvNamespaces: Object.fromEntries(ofType("kv_namespace").map((b) => [b.name, b.namespaceId!])),
      r2Buckets: Object.fromEntries(ofType("r2_bucket").map((b) => [b.name, b.bucketName!])),
      durableObjects: Object.fromEntries(ofType("durable_object_namespace").map((b) => [b.name, { className: b.className!, useSQLite: sqlite.has(b.className!) }])),
      bindings: Object.fromEntries([...ofType("plain_text"), ...ofType("secret_text")].map((b) => [b.name, b.text!])),
      assets: { directory: script.assets.directory, routerConfig: { has_user_worker: true } },
      host: "127.0.0.1",
      port: 0,
    });
    const health = await mf.dispatchFetch("http://localhost/healthz");
    expect(health.status).toBe(200);
    const body = (await health.json()) as { ok: boolean; config: { status: string; hash: string; issues?: string[] } };
    expect(body).toMatchObject({ ok: true, config: { status: "applied" } });
    expect(body.config.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("serves the dashboard's index.html from the uploaded assets, and the API from the Worker", async () => {
    const page = await mf!.dispatchFetch("http://localhost/");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<h1>hookstream</h1>");
    const api = await mf!.dispatchFetch("http://localhost/v1/sources");
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ error: { code: expect.any(String) } });
  });
});

describe("wrangler deploy --dry-run", () => {
  it("accepts the same Worker with a wrangler config generated from infra's bindings", () => {
    const w = wranglerSettings();
    const config = {
      name: script.scriptName,
      main: path.join(dir, script.mainModule),
      no_bundle: true,
      compatibility_date: script.compatibilityDate,
      compatibility_flags: script.compatibilityFlags,
      d1_databases: ofType("d1").map((b) => ({ binding: b.name, database_name: script.scriptName, database_id: b.id })),
      kv_namespaces: ofType("kv_namespace").map((b) => ({ binding: b.name, id: b.namespaceId })),
      r2_buckets: ofType("r2_bucket").map((b) => ({ binding: b.name, bucket_name: b.bucketName })),
      durable_objects: { bindings: ofType("durable_object_namespace").map((b) => ({ name: b.name, class_name: b.className })) },
      migrations: w.migrations,
      triggers: { crons: only(r.resources, "cloudflare:index/workersCronTrigger:WorkersCronTrigger").inputs.schedules.map((s: { cron: string }) => s.cron) },
      vars: Object.fromEntries(ofType("plain_text").map((b) => [b.name, b.text])),
      assets: { directory: script.assets.directory },
    };
    const file = path.join(dir, "wrangler.json");
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    const out = path.join(dir, "out");
    const res = spawnSync(process.execPath, [path.join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", out, "--config", file], {
      cwd: dir,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_LOG_PATH: dir },
    });
    expect(res.status, res.stderr + res.stdout).toBe(0);
    expect(res.stdout).toContain("--dry-run: exiting now.");
    for (const b of script.bindings as Binding[]) if (b.type !== "secret_text") expect(res.stdout, b.name).toContain(b.name);
    expect(fs.readFileSync(path.join(out, "index.js"), "utf8")).toBe(script.content);
  });
});
