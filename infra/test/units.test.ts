import { describe, expect, it } from "vitest";
import { callerLocation } from "../hookstream/declared-in.js";
import { migrationsSince, parseJsonc } from "../hookstream/worker-bundle.js";

describe("migrationsSince", () => {
  const all = [
    { tag: "v1", new_sqlite_classes: ["A"] },
    { tag: "v2", new_sqlite_classes: ["B"] },
    { tag: "v3", renamed_classes: [{ from: "B", to: "C" }] },
  ];
  it("a new script gets every step; an existing one the steps after its tag, with that tag as precondition", () => {
    expect(migrationsSince(all)).toEqual({ newTag: "v3", steps: [{ newSqliteClasses: ["A"] }, { newSqliteClasses: ["B"] }, { renamedClasses: [{ from: "B", to: "C" }] }] });
    expect(migrationsSince(all, "v2")).toEqual({ oldTag: "v2", newTag: "v3", steps: [{ renamedClasses: [{ from: "B", to: "C" }] }] });
    expect(migrationsSince(all, "v3")).toBeUndefined();
    expect(migrationsSince([], undefined)).toBeUndefined();
    expect(() => migrationsSince(all, "v0")).toThrow(/no migration with that tag/);
  });
});

describe("parseJsonc", () => {
  it("drops comments outside strings and trailing commas, keeps // inside strings", () => {
    expect(parseJsonc('{\n  // note\n  "u": "https://x.test/a", /* b */ "l": [1, 2,],\n}')).toEqual({ u: "https://x.test/a", l: [1, 2] });
  });
});

describe("callerLocation", () => {
  it("is the repository-relative file:line of the first frame outside infra/hookstream", () => {
    const line = Number(/:(\d+):\d+\)?$/.exec(new Error().stack!.split("\n")[1]!)![1]) + 1;
    expect(callerLocation()).toBe(`infra/test/units.test.ts:${line}`);
    expect(callerLocation("Error\n    at x (/somewhere/node_modules/p/i.js:1:1)\n    at y (file:///elsewhere/prog.ts:7:3)")).toBe("/elsewhere/prog.ts:7");
  });
});
