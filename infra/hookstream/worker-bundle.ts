/**
 * The Worker as infra uploads it: the esbuild bundle of worker/src/index.ts (built at program
 * time with the options `npm run build` uses) and the settings wrangler.jsonc keeps — the
 * compatibility date and flags, the cron, and the append-only Durable Object migrations.
 */
import fs from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { ENTRY, WORKERD_BUNDLE_OPTIONS } from "../../worker/build.mjs";
import { REPO_ROOT } from "./declared-in.js";

export const WRANGLER_CONFIG = path.join(REPO_ROOT, "worker", "wrangler.jsonc");
export const MAIN_MODULE = "index.js";

/** JSON with comments: drops `//` and block comments outside strings, and trailing commas. */
export function parseJsonc(text: string): unknown {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      out += text.slice(start, i + 1);
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
    } else out += c;
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, "$1"));
}

export interface WranglerMigration {
  tag: string;
  new_sqlite_classes?: string[];
  new_classes?: string[];
  renamed_classes?: { from: string; to: string }[];
  deleted_classes?: string[];
}
export interface WranglerSettings {
  compatibility_date: string;
  compatibility_flags: string[];
  crons: string[];
  migrations: WranglerMigration[];
  vars: Record<string, string>;
}

export function wranglerSettings(file = WRANGLER_CONFIG): WranglerSettings {
  const w = parseJsonc(fs.readFileSync(file, "utf8")) as Record<string, any>;
  return {
    compatibility_date: w.compatibility_date,
    compatibility_flags: w.compatibility_flags ?? [],
    crons: w.triggers?.crons ?? [],
    migrations: w.migrations ?? [],
    vars: w.vars ?? {},
  };
}

/** The `migrations` of a script upload (camelCase, as @pulumi/cloudflare 6.22.1 takes them). */
export interface ScriptMigrations {
  oldTag?: string;
  newTag: string;
  steps: {
    newSqliteClasses?: string[];
    newClasses?: string[];
    renamedClasses?: { from: string; to: string }[];
    deletedClasses?: string[];
  }[];
}

/**
 * What to upload given the tag the deployed script is at (`appliedTag`; undefined: a new
 * script). Like wrangler: the steps after that tag, with `oldTag` as the precondition the API
 * checks, or nothing when the script is already at the last tag. The list only ever grows.
 */
export function migrationsSince(all: readonly WranglerMigration[], appliedTag?: string): ScriptMigrations | undefined {
  const last = all.at(-1);
  if (!last) return undefined;
  let from = 0;
  if (appliedTag !== undefined && appliedTag !== "") {
    const at = all.findIndex((m) => m.tag === appliedTag);
    if (at < 0) throw new Error(`hookstream:durableObjectsMigratedTo is "${appliedTag}", but worker/wrangler.jsonc has no migration with that tag (tags: ${all.map((m) => m.tag).join(", ")})`);
    from = at + 1;
  }
  if (from >= all.length) return undefined;
  return {
    ...(from > 0 ? { oldTag: all[from - 1]!.tag } : {}),
    newTag: last.tag,
    steps: all.slice(from).map((m) => ({
      ...(m.new_sqlite_classes ? { newSqliteClasses: m.new_sqlite_classes } : {}),
      ...(m.new_classes ? { newClasses: m.new_classes } : {}),
      ...(m.renamed_classes ? { renamedClasses: m.renamed_classes } : {}),
      ...(m.deleted_classes ? { deletedClasses: m.deleted_classes } : {}),
    })),
  };
}

let bundle: Promise<string> | undefined;
/** The bundle text, built once per process. */
export function workerBundle(): Promise<string> {
  bundle ??= esbuild
    .build({
      ...(WORKERD_BUNDLE_OPTIONS as esbuild.BuildOptions),
      entryPoints: [ENTRY],
      outfile: MAIN_MODULE,
      write: false,
      minify: false,
      legalComments: "none",
      logLevel: "silent",
    })
    .then((r) => {
      const js = r.outputFiles.find((f) => f.path.endsWith(".js"));
      if (!js) throw new Error("esbuild produced no JavaScript for worker/src/index.ts");
      return js.text;
    });
  return bundle;
}
