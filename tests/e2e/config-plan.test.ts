// config:plan against a real gateway (wrangler dev) that runs a compiled config: no false changes for the
// deployed declarations; a changed declaration reports the added / changed / removed connections and
// the stored events that would route differently; errors for a refused key and an unreachable API.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, prepareState, REPO_ROOT, signIn, startGateway, triggerScheduled, type Gateway } from "../../scripts/lib/gateway.mjs";
import { compileForDev, declaredDevKey } from "../../scripts/lib/declarations.mjs";
import { startReceiver, type Receiver } from "./setup/receiver.js";

const CURRENT = "tests/config/fixtures/plan-current/index.ts";
const NEXT = "tests/config/fixtures/plan-next/index.ts";
const tsx = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");

interface PlanRun {
  code: number | null;
  stdout: string;
  stderr: string;
}
interface PlanJson {
  diff: { changes: { kind: string; name: string; action: string; changes: { field: string; from?: string; to?: string }[] }[]; unmanaged: unknown[] };
  reroutes: { events_checked: number; changes: { event_id: string; connection: string; change: string; detail?: string }[] };
}

let tmp: string;
let gateway: Gateway | undefined;
let receiver: Receiver | undefined;
let apiKey: string;
const events: Record<string, string> = {};

function plan(args: string[], env: Record<string, string> = {}): Promise<PlanRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, "scripts/config/plan.ts", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, PLAN_FIXTURE_RECEIVER: `${receiver!.url}/hook`, HOOKSTREAM_API_KEY: "", HOOKSTREAM_API_URL: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
const against = () => ["--against", gateway!.baseUrl, "--api-key", apiKey, "--allow-private-destinations"];

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "hookstream-plan-"));
  const stateDir = path.join(tmp, "state");
  const { secrets } = await prepareState(stateDir);
  receiver = await startReceiver({ reply: { status: 200 } });
  process.env.PLAN_FIXTURE_RECEIVER = `${receiver.url}/hook`;
  const owner = "plan-owner@e2e.test";
  const password = `pw-${Date.now().toString(36)}-plan`;
  const compiled = await compileForDev({ program: CURRENT, owner, valuesFile: path.join(tmp, "values.json"), encryptionKey: secrets.ENCRYPTION_KEY, authSecret: secrets.BETTER_AUTH_SECRET });
  if (!compiled.ok) throw new Error(`the current fixture does not compile:\n${compiled.error}`);
  gateway = await startGateway({ port: await freePort(), stateDir, log: path.join(tmp, "wrangler.log"), vars: compiled.vars });
  const key = await declaredDevKey(gateway.baseUrl, { email: owner, password, orgId: compiled.org_id, envId: compiled.env_id, signIn, triggerScheduled });
  apiKey = key.api_key;

  // A source made through the API: the plan lists it as untouched.
  const handMade = await fetch(`${gateway.baseUrl}/v1/sources`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "hand-made" }),
  });
  expect(handMade.status).toBe(201);

  const shop = compiled.sources.find((s) => s.name === "shop")!;
  for (const type of ["order.created", "order.paid", "order.cancelled"]) {
    const res = await fetch(`${gateway.baseUrl}/v1/ingest/${shop.id}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type, id: type }) });
    expect(res.status).toBe(202);
    events[type] = ((await res.json()) as { event_id: string }).event_id;
  }
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await receiver?.close();
  delete process.env.PLAN_FIXTURE_RECEIVER;
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe("npm run config:plan against wrangler dev", () => {
  it("finds nothing to change for the declarations the gateway runs", async () => {
    const r = await plan([...against(), "--program", CURRENT, "--detailed-exitcode"]);
    expect(r.stderr).toBe("");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Sources (1 unchanged)\n  no changes\nDestinations (1 unchanged)\n  no changes\nConnections (2 unchanged)\n  no changes");
    expect(r.stdout).toMatch(/^Not managed by the config, untouched \(created through the API\):\n {2}sources: hand-made \(src_[0-9a-f]{32}\)$/m);
    expect(r.stdout).toContain("Events: 3 latest checked (0 dry runs): none would route differently");
    expect(r.stdout).toContain("Plan: 0 to add, 0 to change, 0 to remove; 0 event routes would change.");
  });

  it("reports the added, changed and removed connections and the events that would route differently", async () => {
    const text = await plan([...against(), "--program", NEXT, "--detailed-exitcode"]);
    expect(text.stderr).toBe("");
    expect(text.code, text.stderr).toBe(2);
    expect(text.stdout).toMatch(/^ {2}~ shop-orders +tests\/config\/fixtures\/plan-next\/index\.ts:\d+$/m);
    expect(text.stdout).toContain('      filters: [{"field":"body.type","op":"eq","value":"order.created"}] → [{"field":"body.type","op":"in","value":["order.created","order.paid"]}]');
    expect(text.stdout).toMatch(/^ {2}\+ shop-audit +tests\/config\/fixtures\/plan-next\/index\.ts:\d+$/m);
    expect(text.stdout).toMatch(/^ {2}- shop-legacy +\(was tests\/config\/fixtures\/plan-current\/index\.ts:\d+\)$/m);
    expect(text.stdout).toContain("Plan: 1 to add, 1 to change, 1 to remove; 5 event routes would change.");

    const r = await plan([...against(), "--program", NEXT, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as PlanJson;
    expect(report.diff.changes.map((c) => `${c.action} ${c.kind} ${c.name}`).sort()).toEqual(["add connection shop-audit", "change connection shop-orders", "remove connection shop-legacy"]);
    expect(report.reroutes.events_checked).toBe(3);
    const routes = report.reroutes.changes.map((c) => `${c.event_id} ${c.connection} ${c.change}`).sort();
    expect(routes).toEqual(
      [
        `${events["order.created"]} shop-audit newly_routed`,
        `${events["order.paid"]} shop-audit newly_routed`,
        `${events["order.cancelled"]} shop-audit newly_routed`,
        `${events["order.paid"]} shop-orders newly_routed`,
        `${events["order.cancelled"]} shop-legacy no_longer_routed`,
      ].sort(),
    );
    expect(report.reroutes.changes.find((c) => c.connection === "shop-legacy")?.detail).toBe("connection removed");
  });

  it("writes a PR comment with --markdown", async () => {
    const r = await plan([...against(), "--program", NEXT, "--markdown", "--events", "0"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^### hookstream config:plan\n\n\*\*Plan: 1 to add, 1 to change, 1 to remove; 0 event routes would change\.\*\*\n\n```diff\n/);
    expect(r.stdout).toContain("Events: not checked (--events 0)");
  });

  it("says when the API refuses the key, and when it cannot be reached", async () => {
    const refused = await plan(["--against", gateway!.baseUrl, "--program", CURRENT, "--allow-private-destinations"], { HOOKSTREAM_API_KEY: `hs_test_${"0".repeat(64)}` });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^\[hookstream\] config:plan: the gateway at http:\/\/127\.0\.0\.1:\d+ refused the API key \(401 [a-z_]+: .+\); give a project API key/);

    const port = await freePort();
    const down = await plan(["--against", `http://127.0.0.1:${port}`, "--api-key", apiKey, "--program", CURRENT, "--allow-private-destinations"]);
    expect(down.code, down.stderr).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`^\\[hookstream\\] config:plan: cannot reach the gateway at http://127\\.0\\.0\\.1:${port} \\(GET /v1/[a-z]+\\?limit=250: ECONNREFUSED\\)$`, "m"));

    const usage = await plan(["--program", CURRENT]);
    expect(usage.code, usage.stderr).toBe(1);
    expect(usage.stderr).toContain("[hookstream] config:plan: --against <api-url> is required");
  });
});
