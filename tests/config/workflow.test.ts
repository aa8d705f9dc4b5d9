// The example CI workflow: parsed as YAML and checked against the scripts and docs it relies on.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = path.resolve(import.meta.dirname, "../..");
const workflowFile = path.join(root, ".github/workflows/hookstream.yml");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}
interface Job {
  if?: string;
  steps: Step[];
  permissions?: Record<string, string>;
}
interface Workflow {
  on: { pull_request?: unknown; push?: { branches?: string[] } };
  jobs: Record<string, Job>;
}

const workflow = parse(fs.readFileSync(workflowFile, "utf8")) as Workflow;
const scripts = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const jobFor = (event: string) => Object.values(workflow.jobs).find((j) => j.if?.includes(`github.event_name == '${event}'`));
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");
const pulumi = (job: Job) => job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));

describe(".github/workflows/hookstream.yml", () => {
  it("runs on pull requests and on pushes to main", () => {
    expect(workflow.on.pull_request).toBeDefined();
    expect(workflow.on.push?.branches).toEqual(["main"]);
  });

  it("checks, plans and previews a pull request, and posts the plan", () => {
    const job = jobFor("pull_request");
    expect(job).toBeDefined();
    const text = runs(job!);
    const order = ["npm ci", "npm run config:check", "config:plan"].map((s) => text.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toMatch(/config:plan -- .*--markdown/);
    expect(pulumi(job!).map((s) => s.with?.command)).toEqual(["preview"]);
    expect(job!.steps.some((s) => s.uses?.startsWith("actions/github-script@") && String(s.with?.script).includes("createComment"))).toBe(true);
    expect(job!.permissions?.["pull-requests"]).toBe("write");
  });

  it("deploys with pulumi up only on main", () => {
    const job = jobFor("push");
    expect(job?.if).toContain("refs/heads/main");
    expect(pulumi(job!).map((s) => s.with?.command)).toEqual(["up"]);
    expect(runs(job!)).toContain("npm run config:check");
  });

  it("calls only npm scripts that exist, with flags they accept", () => {
    const all = Object.values(workflow.jobs).map(runs).join("\n");
    const called = [...all.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1]!);
    expect(called.length).toBeGreaterThan(0);
    for (const name of called) expect(scripts, `npm run ${name}`).toHaveProperty(name);
    const planSource = fs.readFileSync(path.join(root, "scripts/config/plan.ts"), "utf8");
    for (const m of all.matchAll(/config:plan -- ([^\n>]*)/g)) {
      for (const flag of m[1]!.match(/--[\w-]+/g) ?? []) expect(planSource, flag).toMatch(new RegExp(`["']?${flag.slice(2)}["']?: \\{ type:`));
    }
  });

  it("documents every secret it reads in docs/gitops.md", () => {
    const text = fs.readFileSync(workflowFile, "utf8");
    const used = [...new Set([...text.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]!))];
    expect(used).toEqual(expect.arrayContaining(["HOOKSTREAM_API_URL", "HOOKSTREAM_API_KEY", "PULUMI_ACCESS_TOKEN"]));
    const docs = fs.readFileSync(path.join(root, "docs/gitops.md"), "utf8");
    for (const name of used) expect(docs, name).toContain(name);
  });
});
