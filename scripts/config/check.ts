/**
 * `npm run config:check`: validates the declarations without cloud access.
 *   1. tsc over the program's project (a typo in a filter op fails here, as file(line,col))
 *   2. compile without the Pulumi engine and check the GatewayConfig (references, names, templates,
 *      JSONata, JSON Schemas, filters, unsafe URLs), one `file:line: declaration: field: message` each
 * Secret stack values are replaced with placeholders. Exit 0 when clean, 1 on any problem.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { formatIssue } from "../../worker/src/config/index.js";
import { EXIT, UsageError, run } from "./cli.js";
import { DEFAULT_PROGRAM, REPO_ROOT, compileDeclarations, programErrorMessage } from "./compile.js";
import { ConfigToolError } from "./stack-config.js";
import { projectFor, typeCheck } from "./tsc.js";

const USAGE = `usage: npm run config:check -- [--program ${DEFAULT_PROGRAM}] [--project <tsconfig dir>] [--stack dev] [--skip-types] [--json]`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        program: { type: "string", default: DEFAULT_PROGRAM },
        project: { type: "string" },
        stack: { type: "string", default: process.env.PULUMI_STACK ?? "dev" },
        "skip-types": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (args.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const program = args.program!;
  if (!fs.existsSync(path.resolve(REPO_ROOT, program))) throw new ConfigToolError(`${program}: no such program`);
  const project = args.project ?? projectFor(program);

  const types = args["skip-types"] ? null : await typeCheck(project);
  let compileError: string | null = null;
  let compiled: Awaited<ReturnType<typeof compileDeclarations>> | null = null;
  try {
    compiled = await compileDeclarations({ program, stack: args.stack! });
  } catch (err) {
    if (err instanceof ConfigToolError) throw err;
    compileError = programErrorMessage(err);
  }
  const issues = compiled?.issues ?? [];
  const ok = (types?.ok ?? true) && !compileError && issues.length === 0;

  if (args.json) {
    console.log(
      JSON.stringify(
        {
          ok,
          program,
          stack: args.stack,
          types: types && { ok: types.ok, project: types.project, errors: types.output },
          compile_error: compileError,
          issues: issues.map((i) => ({ ...i, text: formatIssue(i) })),
          counts: compiled && counts(compiled.config),
        },
        null,
        2,
      ),
    );
    return ok ? EXIT.ok : EXIT.error;
  }

  const problems: string[] = [];
  if (types && !types.ok) problems.push(...types.output);
  if (compileError) problems.push(`${program}: the program failed: ${compileError}`);
  problems.push(...issues.map(formatIssue));
  if (!ok) {
    for (const line of problems) console.error(line);
    const n = (types && !types.ok ? types.output.filter((l) => /error TS\d+/.test(l)).length : 0) + (compileError ? 1 : 0) + issues.length;
    console.error(`\nconfig:check: ${n} problem${n === 1 ? "" : "s"} in ${program} (stack ${args.stack})`);
    return EXIT.error;
  }
  const c = counts(compiled!.config);
  const typesNote = types ? `types ok (tsc -p ${types.project}), ` : "types skipped, ";
  const placeholderNote = compiled!.placeholders.length ? `; ${compiled!.placeholders.length} secret value(s) checked with placeholders` : "";
  console.log(
    `config:check: ok — ${program} (stack ${args.stack}): ${typesNote}${c.sources} source${c.sources === 1 ? "" : "s"}, ${c.destinations} destination${c.destinations === 1 ? "" : "s"}, ${c.connections} connection${c.connections === 1 ? "" : "s"}${placeholderNote}`,
  );
  return EXIT.ok;
}

function counts(config: { sources?: unknown[]; destinations?: unknown[]; connections?: unknown[] }) {
  return { sources: config.sources?.length ?? 0, destinations: config.destinations?.length ?? 0, connections: config.connections?.length ?? 0 };
}

run("config:check", USAGE, main);
