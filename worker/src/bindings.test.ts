import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BINDINGS, DURABLE_OBJECT_CLASSES, SECRET_BINDINGS } from "./bindings.js";

/** infra and local dev must wire the names the worker reads; wrangler.jsonc is the local wiring. */
const wrangler = JSON.parse(
  readFileSync(fileURLToPath(new URL("../wrangler.jsonc", import.meta.url)), "utf8").replace(/^\s*\/\/.*$/gm, ""),
) as {
  d1_databases: { binding: string }[];
  kv_namespaces: { binding: string }[];
  r2_buckets: { binding: string }[];
  durable_objects: { bindings: { name: string; class_name: string }[] };
  migrations: { new_sqlite_classes?: string[] }[];
  vars: Record<string, string>;
};

describe("binding names", () => {
  it("wrangler.jsonc declares every storage binding the worker reads", () => {
    expect(wrangler.d1_databases.map((b) => b.binding)).toEqual([BINDINGS.db]);
    expect(wrangler.kv_namespaces.map((b) => b.binding)).toEqual([BINDINGS.kv]);
    expect(wrangler.r2_buckets.map((b) => b.binding)).toEqual([BINDINGS.bodies]);
    expect(wrangler.durable_objects.bindings).toEqual([
      { name: BINDINGS.deliveryScheduler, class_name: DURABLE_OBJECT_CLASSES.deliveryScheduler },
      { name: BINDINGS.sourceGuard, class_name: DURABLE_OBJECT_CLASSES.sourceGuard },
      { name: BINDINGS.websocketHub, class_name: DURABLE_OBJECT_CLASSES.websocketHub },
    ]);
    expect(wrangler.vars).toHaveProperty(BINDINGS.allowPrivateDestinations, "false");
    expect(wrangler.vars).toHaveProperty(BINDINGS.resendBaseUrl, "https://api.resend.com");
    expect(wrangler.vars).toHaveProperty(BINDINGS.notifyFrom);
  });

  it("secrets are never plain vars, and every binding the worker reads is named in BINDINGS", () => {
    for (const secret of SECRET_BINDINGS) expect(wrangler.vars).not.toHaveProperty(secret);
    const envSource = readFileSync(fileURLToPath(new URL("./env.ts", import.meta.url)), "utf8");
    const declared = [...envSource.matchAll(/^\s{2}([A-Z][A-Z0-9_]+)\??:/gm)].map((m) => m[1]);
    expect(declared.sort()).toEqual(Object.values(BINDINGS).sort());
  });

  it("every Durable Object class is created by a migration", () => {
    const created = wrangler.migrations.flatMap((m) => m.new_sqlite_classes ?? []);
    expect(created).toEqual(Object.values(DURABLE_OBJECT_CLASSES));
  });
});
