import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { readMigrations, render, OUTFILE } from "../../scripts/embed-migrations.mjs";
import fs from "node:fs";
import { MIGRATIONS } from "./migrations.generated.js";

describe("embedded migrations", () => {
  it("match worker/migrations/*.sql (run `npm run db:embed -w worker` when this fails)", () => {
    expect(fs.readFileSync(OUTFILE, "utf8")).toBe(render());
    expect(MIGRATIONS.map((m) => m.name)).toEqual(readMigrations().map((m: { name: string }) => m.name));
  });

  it("split every file into single statements", () => {
    for (const m of MIGRATIONS) {
      expect(m.statements.length).toBeGreaterThan(0);
      for (const s of m.statements) expect(s).not.toContain("statement-breakpoint");
    }
    expect(MIGRATIONS.map((m) => m.name)).toContain("0002_declared_config.sql");
  });
});
