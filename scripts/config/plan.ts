/**
 * `npm run config:plan -- --against <api-url>`: what this branch's declarations change in routing
 * compared with a running gateway, and which of its last N stored events would route differently.
 *
 *   --against <url>          the gateway's base URL or its API URL (…/v1, the stack output apiUrl);
 *                            required (or HOOKSTREAM_API_URL)
 *   --api-key <hs_…>         a project API key (or HOOKSTREAM_API_KEY)
 *   --events <N>             how many of the latest events to dry-run (default 50, 0 = none)
 *   --program, --stack       as config:check (default infra/index.ts, dev)
 *   --config-file <json>     known stack config values ({ "key": "value" }, e.g. real secrets, so a
 *                            changed secret can be detected); the others are placeholders
 *   --allow-private-destinations   for gateways that deliver to private addresses (local)
 *   --json | --markdown      machine-readable output, or a PR comment
 *   --detailed-exitcode      exit 2 when there are changes (0 none, 1 error), like terraform plan
 * Without --detailed-exitcode the exit code is 0 on success and 1 on an error.
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { formatIssues } from "../../worker/src/config/index.js";
import { apiClient } from "./api.js";
import { EXIT, UsageError, run } from "./cli.js";
import { DEFAULT_PROGRAM, compileDeclarations, programErrorMessage } from "./compile.js";
import { diffRouting, type ConnectionRow, type DestinationRow, type SourceRow } from "./diff.js";
import { renderPlan, type PlanReport } from "./render.js";
import { findReroutes, type EventSummary } from "./reroute.js";
import { ConfigToolError } from "./stack-config.js";

const USAGE =
  "usage: npm run config:plan -- --against <api-url> [--api-key hs_… | env HOOKSTREAM_API_KEY] [--events 50] " +
  `[--program ${DEFAULT_PROGRAM}] [--stack dev] [--config-file values.json] [--allow-private-destinations] [--json | --markdown] [--detailed-exitcode]`;

function readKnown(file: string | undefined): Record<string, string> {
  if (!file) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigToolError(`--config-file ${file}: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === "string")) {
    throw new ConfigToolError(`--config-file ${file}: must be a JSON object of strings ({ "key": "value" })`);
  }
  return parsed as Record<string, string>;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        against: { type: "string" },
        "api-key": { type: "string" },
        events: { type: "string", default: "50" },
        program: { type: "string", default: DEFAULT_PROGRAM },
        stack: { type: "string", default: process.env.PULUMI_STACK ?? "dev" },
        "config-file": { type: "string" },
        "allow-private-destinations": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        markdown: { type: "boolean", default: false },
        "detailed-exitcode": { type: "boolean", default: false },
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
  const against = args.against ?? process.env.HOOKSTREAM_API_URL;
  if (!against) throw new UsageError("--against <api-url> is required (the running gateway's base URL)");
  const apiKey = args["api-key"] ?? process.env.HOOKSTREAM_API_KEY;
  if (!apiKey) throw new UsageError("no API key: give --api-key hs_… or set HOOKSTREAM_API_KEY");
  const eventCount = Number(args.events);
  if (!Number.isInteger(eventCount) || eventCount < 0 || eventCount > 1000) throw new UsageError(`--events ${args.events}: must be an integer from 0 to 1000`);
  if (args.json && args.markdown) throw new UsageError("give --json or --markdown, not both");

  const known = readKnown(args["config-file"]);
  const knownValues = new Set(Object.values(known));
  let compiled;
  try {
    compiled = await compileDeclarations({ program: args.program!, stack: args.stack!, known, allowPrivateDestinations: args["allow-private-destinations"]! });
  } catch (err) {
    if (err instanceof ConfigToolError) throw err;
    throw new ConfigToolError(`${args.program}: the program failed: ${programErrorMessage(err)}`);
  }
  if (compiled.issues.length) {
    throw new ConfigToolError(`the declarations do not pass config:check:\n${formatIssues(compiled.issues)}`);
  }

  const api = apiClient(against, apiKey);
  const [sources, destinations, connections] = await Promise.all([
    api.list<SourceRow>("/v1/sources"),
    api.list<DestinationRow>("/v1/destinations"),
    api.list<ConnectionRow>("/v1/connections"),
  ]);
  const current = { sources, destinations, connections };
  const diff = diffRouting(compiled.config, current, (v) => knownValues.has(v));
  const events = eventCount > 0 ? await api.list<EventSummary>("/v1/events", eventCount) : [];
  const reroutes = await findReroutes(api, compiled.config, current, events.slice(0, eventCount));

  const report: PlanReport = {
    program: compiled.program,
    stack: compiled.stack,
    against: against.replace(/\/+$/, "").replace(/\/v1$/, ""),
    diff,
    reroutes,
    events_requested: eventCount,
    managed_rows: [...sources, ...destinations, ...connections].filter((r) => r.managed_by === "config").length,
  };
  console.log(args.json ? JSON.stringify(report, null, 2) : renderPlan(report, args.markdown ? "markdown" : "text"));
  const changed = diff.changes.length > 0 || reroutes.changes.length > 0;
  return args["detailed-exitcode"] && changed ? EXIT.changes : EXIT.ok;
}

run("config:plan", USAGE, main);
