import { spawnSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { formatIssues } from "../../worker/src/config/index.js";
import { REPO_ROOT } from "../hookstream/declared-in.js";
import { Destination } from "../hookstream/index.js";
import { gatewayMocks } from "../hookstream/mocks.js";
import { compileExample, SECRETS } from "./helpers.js";

const DEPLOY_CONFIG = {
  ...SECRETS, "hookstream:accountId": "0123456789abcdef0123456789abcdef", "hookstream:workersDevSubdomain": "acme",
  "hookstream:organization": "acme", "aws:region": "us-east-1", "gcp:project": "acme-hookstream-dev",
};

const FIXTURE = "infra/test/fixtures/bad-routing.ts";

describe("bad declarations", () => {
  it("are returned as issues naming the declaration and its file:line (config:check)", async () => {
    const r = await compileExample({ program: FIXTURE });
    expect(r.bindings).toBeNull();
    const text = formatIssues(r.issues);
    expect(text).toContain(`${FIXTURE}:11: connection "to-ghost": destination: no destination named "ghost" is declared`);
    expect(text).toContain(`${FIXTURE}:6: source "stripe": name: another source is already declared with this name (${FIXTURE}:5)`);
    expect(text).toMatch(new RegExp(`${FIXTURE}:8: destination "hook": config\\.url: unsafe URL: points at a private`));
    expect(text).toMatch(new RegExp(`${FIXTURE}:12: connection "bad-schema": schema: `));
    expect(text).toMatch(new RegExp(`${FIXTURE}:13: connection "bad-transform": transform: `));
    expect(r.issues).toHaveLength(5);
  });

  it("an unknown template (past TypeScript through a cast) is named too", async () => {
    const r = await compileExample({ program: "infra/test/fixtures/bad-template.ts" });
    expect(formatIssues(r.issues)).toMatch(/^infra\/test\/fixtures\/bad-template\.ts:5: source "shop": template: unknown template/);
  });

  it("fail the deploy (what pulumi preview runs) with the same text, and a good program does not", () => {
    const run = (program: string) =>
      spawnSync(process.execPath, ["--import", "tsx", "infra/test/fixtures/deploy.mts", program, JSON.stringify(DEPLOY_CONFIG)], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
    const bad = run(FIXTURE);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("hookstream: the declared routing has 5 problem(s):");
    expect(bad.stderr).toContain(`${FIXTURE}:11: connection "to-ghost": destination: no destination named "ghost" is declared`);
    expect(bad.stdout).not.toContain("deployed");
    const good = run("infra/index.ts");
    expect(good.stderr).toBe("");
    expect(good.stdout).toContain("deployed");
    expect(good.status).toBe(0);
  });

  it("check during preview even while a created sink's outputs are unknown", async () => {
    // preview = true: the mock leaves nothing unknown, so make the queue URL unknown ourselves.
    await pulumi.runtime.setMocks(gatewayMocks(), "hookstream", "dev", true);
    const { compileDeclarations } = await import("../hookstream/compile.js");
    const unknownUrl = pulumi.output(pulumi.unknown as unknown as string);
    const q = { kind: "destination", declaredName: "q", declaredIn: "x.ts:1", entry: { name: "q", type: "sqs", declared_in: "x.ts:1", config: { queue_url: unknownUrl, access_key_id: "AKIAAAAAAAAAAAAAAAAA", secret_access_key: "s".repeat(20) } } } as const;
    const ok = await compileDeclarations({ project: { organization: "a", name: "b" }, destinations: [q] });
    expect(ok).toMatchObject({ unknown: true, issues: [] });
    const bad = await compileDeclarations({ project: { organization: "a", name: "b" }, destinations: [{ ...q, entry: { ...q.entry, config: { ...q.entry.config, region: "moon-1" } } }] });
    expect(formatIssues(bad.issues)).toContain('x.ts:1: destination "q": config.region: must be an AWS region');
  });

  it("refuse a secret Output in a field that is not secret (it would land in the plain binding)", async () => {
    await pulumi.runtime.setMocks(gatewayMocks(), "hookstream", "dev", false);
    const { compileDeclarations } = await import("../hookstream/compile.js");
    const d = new Destination("leaky", { type: "http", config: { url: "https://example.com/hook", headers: { authorization: pulumi.secret("Bearer t0ken") } } });
    const r = await compileDeclarations({ project: { organization: "a", name: "b" }, destinations: [d] });
    expect(r.bindings).toBeNull();
    expect(formatIssues(r.issues)).toMatch(/destination "leaky": config\.headers\.authorization: a secret value here would be stored in the plain GATEWAY_CONFIG binding/);
  });
});

describe("binding size", () => {
  it("a config that does not fit a Worker variable (5 KiB) is an issue, not a failed upload", async () => {
    await pulumi.runtime.setMocks(gatewayMocks(), "hookstream", "dev", false);
    const { compileDeclarations, BINDING_SIZE_LIMIT } = await import("../hookstream/compile.js");
    const many = Array.from({ length: 60 }, (_, i) => new Destination(`hook-${i}`, { type: "http", config: { url: `https://example.com/hooks/${i}` } }));
    const r = await compileDeclarations({ project: { organization: "a", name: "b" }, destinations: many });
    expect(r.bindings).toBeNull();
    expect(formatIssues(r.issues)).toMatch(new RegExp(`^config: GATEWAY_CONFIG: is \\d+ bytes; a Worker variable holds at most ${BINDING_SIZE_LIMIT}`));
    const few = await compileDeclarations({ project: { organization: "a", name: "b" }, destinations: many.slice(0, 5) });
    expect(few.issues).toEqual([]);
  });
});
