/**
 * `npm run config:check`: validates the declarations without cloud access.
 *   1. tsc over the program's project (a typo in a filter op fails here, as file(line,col))
 *   2. compile without the Pulumi engine and check the GatewayConfig (references, names, templates,
 *      JSONata, JSON Schemas, filters, unsafe URLs), one `file:line: declaration: field: message` each
 * Secret stack values are replaced with placeholders. Exit 0 when clean, 1 on any problem.
 */
import { parseArgs } from "node:util";
import { formatIssue } from "../../worker/src/config/index.js";
import { checkDeclarations, summary } from "./check-declarations.js";
import { EXIT, UsageError, run } from "./cli.js";
import { DEFAULT_PROGRAM } from "./compile.js";

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
  const r = await checkDeclarations({ program: args.program!, stack: args.stack!, skipTypes: args["skip-types"]!, ...(args.project ? { project: args.project } : {}) });
  if (args.json) {
    const report = {
      ok: r.ok,
      program: r.program,
      stack: r.stack,
      types: r.types && { ok: r.types.ok, project: r.types.project, errors: r.types.output },
      compile_error: r.compileError,
      issues: r.issues.map((i) => ({ ...i, text: formatIssue(i) })),
      counts: r.counts,
    };
    console.log(JSON.stringify(report, null, 2));
  } else if (r.ok) {
    console.log(summary(r));
  } else {
    for (const line of r.problems) console.error(line);
    console.error(`\n${summary(r)}`);
  }
  return r.ok ? EXIT.ok : EXIT.error;
}

run("config:check", USAGE, main);
