import { describe, expect, it } from "vitest";
import { Coalescer } from "./coalescer.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("Coalescer (group commit)", () => {
  it("flushes the first item at once and groups the ones that arrive while it is in flight", async () => {
    const flushes: number[][] = [];
    const gate = deferred();
    const c = new Coalescer<number>(async (items) => {
      flushes.push(items);
      if (flushes.length === 1) await gate.promise;
    }, 100);
    const first = c.add(1);
    const rest = [2, 3, 4].map((n) => c.add(n));
    expect(flushes).toEqual([[1]]);
    gate.resolve();
    await Promise.all([first, ...rest]);
    expect(flushes).toEqual([[1], [2, 3, 4]]);
  });

  it("settles a caller only after the flush carrying its item", async () => {
    const gate = deferred();
    let written = false;
    const c = new Coalescer<string>(async () => {
      await gate.promise;
      written = true;
    }, 10);
    let settled = false;
    const p = c.add("a").then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    gate.resolve();
    await p;
    expect(written).toBe(true);
  });

  it("fails every caller of a failed flush, and only those", async () => {
    let n = 0;
    const gate = deferred();
    const c = new Coalescer<number>(async (items) => {
      n++;
      if (n === 1) await gate.promise;
      if (items.includes(13)) throw new Error("boom");
    }, 100);
    const ok1 = c.add(1);
    const bad = c.add(13);
    const ok2 = c.add(2);
    gate.resolve();
    await expect(ok1).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow("boom");
    await expect(ok2).rejects.toThrow("boom");
    await expect(c.add(3)).resolves.toBeUndefined();
  });

  it("caps a group at maxItems", async () => {
    const sizes: number[] = [];
    const gate = deferred();
    const c = new Coalescer<number>(async (items) => {
      sizes.push(items.length);
      if (sizes.length === 1) await gate.promise;
    }, 3);
    const all = Array.from({ length: 8 }, (_, i) => c.add(i));
    gate.resolve();
    await Promise.all(all);
    expect(sizes).toEqual([1, 3, 3, 1]);
  });

  it("hands its loop to waitUntil so the runtime keeps it alive", async () => {
    const kept: Promise<unknown>[] = [];
    const c = new Coalescer<number>(async () => undefined, 10);
    await c.add(1, (p) => kept.push(p));
    await c.add(2, (p) => kept.push(p));
    expect(kept).toHaveLength(2);
    await c.idle();
  });
});
