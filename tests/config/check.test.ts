// npm run config:check on fixture programs (tests/config/fixtures/*): the exit code, and every problem
// named with its declaration and the file:line it was written at.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkDeclarations } from "../../scripts/config/check-declarations.js";

const root = path.resolve(import.meta.dirname, "../..");
const tsx = path.join(root, "node_modules", "tsx", "dist", "cli.mjs");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr, output: stdout + stderr }));
  });
}

const check = (fixture: string, ...extra: string[]) =>
  run(process.execPath, [tsx, "scripts/config/check.ts", "--program", `tests/config/fixtures/${fixture}/index.ts`, ...extra]);
// tsc over a program reads the AWS and GCP provider typings (~2 M lines) and each CLI run loads the Pulumi
// SDKs again: the CLI runs three times here; the fixtures whose point is the compiled config go through
// the same function the CLI prints (checkDeclarations), in this process, without tsc.
async function inProcess(fixture: string) {
  const r = await checkDeclarations({ program: `tests/config/fixtures/${fixture}/index.ts`, stack: "dev", skipTypes: true });
  return { ok: r.ok, text: r.problems.join("\n") };
}

/** `tests/config/fixtures/<fixture>/index.ts:<line>` of the first line containing `needle`. */
function at(fixture: string, needle: string): string {
  const file = `tests/config/fixtures/${fixture}/index.ts`;
  const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n");
  const index = lines.findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`${needle} is not in ${file}`);
  return `${file}:${index + 1}`;
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("npm run config:check", () => {
  it.concurrent("passes a good program through npm and summarises it", async () => {
    const r = await run("npm", ["run", "--silent", "config:check", "--", "--program", "tests/config/fixtures/good/index.ts"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/config:check: ok — tests\/config\/fixtures\/good\/index\.ts \(stack dev\): types ok \(tsc -p tests\/config\/fixtures\/good\), 2 sources, 2 destinations, 2 connections/);
  });

  it.concurrent("fails a filter-op typo in tsc, with file(line,col)", async () => {
    const r = await check("filter-op-typo");
    expect(r.code).toBe(1);
    const line = at("filter-op-typo", 'op: "equals"').split(":")[1];
    expect(r.stderr).toMatch(new RegExp(`^tests/config/fixtures/filter-op-typo/index\\.ts\\(${line},\\d+\\): error TS\\d+: .*"equals"`, "m"));
    // the compiled config is checked too, and names the declaration
    expect(r.stderr).toContain(`${at("filter-op-typo", 'new Connection("paid"')}: connection "paid": filters.0`);
    expect(r.stderr).toMatch(/config:check: \d+ problems in tests\/config\/fixtures\/filter-op-typo\/index\.ts/);
  });

  it.concurrent("finds a reference to an undeclared source that a cast got past tsc", async () => {
    const r = await check("dangling-ref");
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/error TS\d+/);
    expect(r.stderr).toContain(`${at("dangling-ref", 'new Connection("paid"')}: connection "paid": source: no source named "strpe" is declared`);
  });

  it.concurrent("answers --json with the same findings", async () => {
    const r = await check("bad-schema", "--json", "--skip-types");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; issues: { declaration: string; declared_in: string; path: string }[] };
    expect(report.ok).toBe(false);
    expect(report.issues.map((i) => [i.declaration, i.declared_in, i.path])).toEqual([['connection "paid"', at("bad-schema", 'new Connection("paid"'), "schema"]]);
  });

  it.concurrent("says which program is missing", async () => {
    const r = await check("nope", "--skip-types");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("tests/config/fixtures/nope/index.ts: no such program");
  });
});

describe("config:check's findings, compiled in-process (checkDeclarations)", () => {
  it("finds a duplicate name and points at both declarations", async () => {
    const r = await inProcess("duplicate");
    expect(r.ok).toBe(false);
    expect(r.text).toContain(
      `${at("duplicate", 'new Source("stripe-us"')}: source "stripe": name: another source is already declared with this name (${at("duplicate", 'new Source("stripe-eu"')})`,
    );
  });

  it("finds JSONata that does not parse", async () => {
    const r = await inProcess("bad-jsonata");
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(new RegExp(`^${escape(at("bad-jsonata", 'new Connection("paid"'))}: connection "paid": transform: .+`, "m"));
  });

  it("finds a JSON Schema that is not one", async () => {
    const r = await inProcess("bad-schema");
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(new RegExp(`^${escape(at("bad-schema", 'new Connection("paid"'))}: connection "paid": schema: .+`, "m"));
  });

  it("refuses a destination URL on a private address", async () => {
    const r = await inProcess("unsafe-url");
    expect(r.ok).toBe(false);
    expect(r.text).toContain(`${at("unsafe-url", 'new Destination("metadata"')}: destination "metadata": config.url: unsafe URL: points at a private or loopback address (169.254.169.254)`);
  });

  it("refuses an unknown template", async () => {
    const r = await inProcess("unknown-template");
    expect(r.ok).toBe(false);
    expect(r.text).toContain(`${at("unknown-template", 'new Source("stripe"')}: source "stripe": template: unknown template; GET /v1/source-templates lists them`);
  });

  it("refuses a template without its required secret", async () => {
    const r = await inProcess("missing-secret");
    expect(r.ok).toBe(false);
    expect(r.text).toContain(`${at("missing-secret", 'new Source("github"')}: source "github": verification.secret: required by template github`);
  });
});
