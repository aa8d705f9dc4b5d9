/** infra and the Worker agree on every binding: the names infra uploads are exactly those the Worker reads. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BINDINGS, DURABLE_OBJECT_CLASSES, SECRET_BINDINGS } from "../../worker/src/bindings.js";
import { REPO_ROOT } from "../hookstream/declared-in.js";
import { wranglerSettings } from "../hookstream/worker-bundle.js";
import { compileExample, only, SCRIPT } from "./helpers.js";

/** The field names of `interface Env` in worker/src/env.ts. */
function envFields(): string[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, "worker", "src", "env.ts"), "utf8");
  const body = /export interface Env \{([\s\S]*?)\n\}/.exec(text)![1]!;
  return [...body.matchAll(/^\s{2}([A-Z][A-Z0-9_]*)\??:/gm)].map((m) => m[1]!);
}

describe("binding names", () => {
  it("infra binds exactly what the Worker reads (env.ts) and bindings.ts lists", async () => {
    const r = await compileExample({ config: { "hookstream:resendApiKey": "re_test_123" } });
    const bindings = only(r.resources, SCRIPT).inputs.bindings as { name: string; type: string }[];
    const names = bindings.map((b) => b.name).sort();
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(envFields().sort());
    expect(names).toEqual(Object.values(BINDINGS).sort());
    expect(bindings.filter((b) => b.type === "secret_text").map((b) => b.name).sort()).toEqual([...SECRET_BINDINGS].sort());
  });

  it("the Durable Object classes are exported by the bundle and created by the migrations", async () => {
    const r = await compileExample();
    const script = only(r.resources, SCRIPT).inputs;
    const created = wranglerSettings().migrations.flatMap((m) => m.new_sqlite_classes ?? []);
    for (const cls of Object.values(DURABLE_OBJECT_CLASSES)) {
      expect(created, cls).toContain(cls);
      expect(script.content, cls).toMatch(new RegExp(`export\\s*\\{[^}]*\\b${cls}\\b`));
    }
  });
});
