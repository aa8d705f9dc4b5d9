/**
 * config:check's work, as a function (the CLI in check.ts prints it; tests call it in-process):
 * tsc over the program's project and the compiled GatewayConfig's issues, side by side.
 */
import fs from "node:fs";
import path from "node:path";
import { formatIssue, type ConfigIssue } from "../../worker/src/config/index.js";
import { REPO_ROOT, compileDeclarations, programErrorMessage } from "./compile.js";
import { ConfigToolError } from "./stack-config.js";
import { projectFor, typeCheck, type TypeCheck } from "./tsc.js";

export interface CheckRequest {
  program: string;
  /** tsconfig directory; default: the program's directory when it has one, else infra/. */
  project?: string;
  stack: string;
  skipTypes?: boolean;
}

export interface CheckReport {
  ok: boolean;
  program: string;
  stack: string;
  types: TypeCheck | null;
  /** The program threw (a missing stack value, a bug in it): its first line. */
  compileError: string | null;
  issues: ConfigIssue[];
  /** Every problem, one per line: tsc's `file(line,col): error TS…` lines, then `file:line: declaration: field: message`. */
  problems: string[];
  /** How many problems (tsc errors + program error + issues). */
  count: number;
  counts: { sources: number; destinations: number; connections: number } | null;
  placeholders: string[];
}

function counts(config: { sources?: unknown[]; destinations?: unknown[]; connections?: unknown[] }) {
  return { sources: config.sources?.length ?? 0, destinations: config.destinations?.length ?? 0, connections: config.connections?.length ?? 0 };
}

export async function checkDeclarations(req: CheckRequest): Promise<CheckReport> {
  const { program, stack } = req;
  if (!fs.existsSync(path.resolve(REPO_ROOT, program))) throw new ConfigToolError(`${program}: no such program`);
  const typesRun = req.skipTypes ? Promise.resolve(null) : typeCheck(req.project ?? projectFor(program));
  let compileError: string | null = null;
  let compiled: Awaited<ReturnType<typeof compileDeclarations>> | null = null;
  try {
    compiled = await compileDeclarations({ program, stack });
  } catch (err) {
    if (err instanceof ConfigToolError) {
      await typesRun.catch(() => undefined);
      throw err;
    }
    compileError = programErrorMessage(err);
  }
  const types = await typesRun;
  const issues = compiled?.issues ?? [];
  const problems: string[] = [];
  if (types && !types.ok) problems.push(...types.output);
  if (compileError) problems.push(`${program}: the program failed: ${compileError}`);
  problems.push(...issues.map(formatIssue));
  const count = (types && !types.ok ? types.output.filter((l) => /error TS\d+/.test(l)).length : 0) + (compileError ? 1 : 0) + issues.length;
  return {
    ok: count === 0 && (types?.ok ?? true),
    program,
    stack,
    types,
    compileError,
    issues,
    problems,
    count,
    counts: compiled && counts(compiled.config),
    placeholders: compiled?.placeholders ?? [],
  };
}

export function summary(r: CheckReport): string {
  if (!r.ok) return `config:check: ${r.count} problem${r.count === 1 ? "" : "s"} in ${r.program} (stack ${r.stack})`;
  const c = r.counts!;
  const typesNote = r.types ? `types ok (tsc -p ${r.types.project}), ` : "types skipped, ";
  const placeholderNote = r.placeholders.length ? `; ${r.placeholders.length} secret value(s) checked with placeholders` : "";
  const n = (k: number, w: string) => `${k} ${w}${k === 1 ? "" : "s"}`;
  return `config:check: ok — ${r.program} (stack ${r.stack}): ${typesNote}${n(c.sources, "source")}, ${n(c.destinations, "destination")}, ${n(c.connections, "connection")}${placeholderNote}`;
}
