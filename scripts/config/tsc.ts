/** `tsc --noEmit` over a Pulumi program's project: the compile-time half of config:check. */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./compile.js";

export interface TypeCheck {
  ok: boolean;
  /** The tsconfig directory checked, relative to the repository root. */
  project: string;
  /** tsc's diagnostics, `file(line,col): error TSxxxx: …` (with continuation lines). */
  output: string[];
  ms: number;
}

/** The program's own directory when it has a tsconfig.json, else infra/. */
export function projectFor(program: string): string {
  const dir = path.dirname(program);
  return fs.existsSync(path.join(REPO_ROOT, dir, "tsconfig.json")) ? dir : "infra";
}

export function typeCheck(project: string): Promise<TypeCheck> {
  const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Incremental: a second check of the same project only re-reads what changed (the AWS / GCP
    // provider typings are large). The build info lives in node_modules/.cache, outside the repo.
    const buildInfo = path.join(REPO_ROOT, "node_modules", ".cache", "hookstream-config-check", `${project.replace(/[^A-Za-z0-9]+/g, "_")}.tsbuildinfo`);
    const args = [tsc, "-p", project, "--noEmit", "--pretty", "false", "--incremental", "--tsBuildInfoFile", buildInfo];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      const output = out.split("\n").filter((l) => l.trim() !== "");
      resolve({ ok: code === 0, project, output, ms: Date.now() - started });
    });
  });
}
