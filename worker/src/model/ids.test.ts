import { describe, expect, it } from "vitest";
import { isId, newId } from "./ids.js";

describe("ids", () => {
  it("are prefixed, 32 hex digits, and sort by creation time", () => {
    const a = newId("event", 1_700_000_000_000);
    const b = newId("event", 1_700_000_000_001);
    expect(a).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(a < b).toBe(true);
    expect(isId("event", a)).toBe(true);
    expect(isId("source", a)).toBe(false);
  });

  it("carry 80 random bits: no collisions in 10k ids minted in the same millisecond", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId("delivery", 5)));
    expect(ids.size).toBe(10_000);
  });

  it("rejects look-alikes", () => {
    for (const bad of ["evt_", "evt_XYZ", `evt_${"0".repeat(31)}`, `EVT_${"0".repeat(32)}`, `evt_${"0".repeat(32)}/..`]) {
      expect(isId("event", bad)).toBe(false);
    }
  });
});
