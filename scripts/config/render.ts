/** config:plan's report as text (terminal, CI log) or Markdown (a pull-request comment). */
import type { Kind, ResourceChange, RoutingDiff } from "./diff.js";
import type { RerouteReport, RouteChangeKind } from "./reroute.js";

export interface PlanReport {
  program: string;
  stack: string;
  against: string;
  diff: RoutingDiff;
  reroutes: RerouteReport;
  events_requested: number;
  /** Rows the gateway reports as managed by a config (0: it never applied one for this key's project). */
  managed_rows: number;
}

const KINDS: [Kind, string][] = [
  ["source", "Sources"],
  ["destination", "Destinations"],
  ["connection", "Connections"],
];
const MARK = { add: "+", change: "~", remove: "-" } as const;
const ROUTE: Record<RouteChangeKind, string> = {
  newly_routed: "newly routed",
  no_longer_routed: "no longer routed",
  output_changed: "output changed",
  destination_changed: "destination changed",
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function resourceLines(c: ResourceChange): string[] {
  const where = c.declared_in ? (c.action === "remove" ? `(was ${c.declared_in})` : c.declared_in) : "";
  const lines = [`${MARK[c.action]} ${c.name.padEnd(30)} ${where}`.trimEnd()];
  for (const f of c.changes) lines.push(f.secret ? `    ${f.field}: secret changed` : `    ${f.field}: ${f.from} → ${f.to}`);
  return lines;
}

export function planLines(r: PlanReport): string[] {
  const lines: string[] = [`config:plan: ${r.program} (stack ${r.stack}) against ${r.against}`, ""];
  for (const [kind, title] of KINDS) {
    const changes = r.diff.changes.filter((c) => c.kind === kind);
    const unchanged = r.diff.unchanged.filter((c) => c.kind === kind).length;
    lines.push(`${title}${unchanged ? ` (${unchanged} unchanged)` : ""}`);
    if (changes.length === 0) lines.push("  no changes");
    for (const c of changes) lines.push(...resourceLines(c).map((l) => `  ${l}`));
  }
  if (r.diff.unmanaged.length) {
    lines.push("", "Not managed by the config, untouched (created through the API):");
    for (const [kind, title] of KINDS) {
      const rows = r.diff.unmanaged.filter((u) => u.kind === kind);
      if (!rows.length) continue;
      const names = rows.slice(0, 10).map((u) => (u.name ? `${u.name} (${u.id})` : u.id));
      lines.push(`  ${title.toLowerCase()}: ${names.join(", ")}${rows.length > 10 ? `, … ${rows.length - 10} more` : ""}`);
    }
  }
  if (r.managed_rows === 0 && r.diff.changes.some((c) => c.action === "add")) {
    lines.push("", "note: the gateway reports no managed resources for this API key's project: either no config was deployed yet, or the key belongs to another project.");
  }
  lines.push("");
  if (r.events_requested === 0) lines.push("Events: not checked (--events 0)");
  else {
    lines.push(
      `Events: ${r.reroutes.events_checked} latest checked (${plural(r.reroutes.dry_runs, "dry run")}): ${
        r.reroutes.changes.length ? `${plural(r.reroutes.changes.length, "route")} would change` : "none would route differently"
      }`,
    );
    for (const c of r.reroutes.changes) {
      const head = c.change === "no_longer_routed" ? "-" : c.change === "newly_routed" ? "+" : "~";
      lines.push(`${head} ${c.event_id} ${c.received_at} ${c.event_type ?? ""}`.trimEnd());
      lines.push(`    ${c.source} → ${c.connection}: ${ROUTE[c.change]}${c.detail ? ` (${c.detail})` : ""}`);
    }
  }
  const count = (a: ResourceChange["action"]) => r.diff.changes.filter((c) => c.action === a).length;
  lines.push(
    "",
    `Plan: ${count("add")} to add, ${count("change")} to change, ${count("remove")} to remove; ${plural(r.reroutes.changes.length, "event route")} would change.`,
  );
  return lines;
}

export function renderPlan(r: PlanReport, format: "text" | "markdown"): string {
  const lines = planLines(r);
  if (format === "text") return lines.join("\n");
  const summary = lines.at(-1)!;
  return ["### hookstream config:plan", "", `**${summary}**`, "", "```diff", ...lines.slice(0, -2), "```", ""].join("\n");
}
