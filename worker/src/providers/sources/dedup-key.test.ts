import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dedupConfigSchema, dedupKey } from "./dedup-key.js";

const sha = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
const body = new TextEncoder().encode('{"id":"evt_1","data":{"order":42}}');

describe("dedupKey", () => {
  it("uses the provider's delivery id when there is one", async () => {
    expect(await dedupKey({ source_id: "src_1", event_id: "d-1", body })).toEqual({ key: `dedup:src_1:event_id:${sha("d-1")}`, basis: "event_id" });
  });

  it("falls back to the SHA-256 of the raw body", async () => {
    expect(await dedupKey({ source_id: "src_1", body })).toEqual({ key: `dedup:src_1:body_sha256:${sha(body)}`, basis: "body_sha256" });
    expect(await dedupKey({ source_id: "src_1", event_id: "", body })).toMatchObject({ basis: "body_sha256" });
    expect(await dedupKey({ source_id: "src_1", event_id: "d-1", body, key: "body" })).toMatchObject({ basis: "body_sha256" });
  });

  it("scopes keys to the source and keeps them short whatever the id", async () => {
    const a = await dedupKey({ source_id: "src_1", event_id: "x".repeat(5000), body });
    const b = await dedupKey({ source_id: "src_2", event_id: "x".repeat(5000), body });
    expect(a.key).not.toBe(b.key);
    expect(a.key.length).toBeLessThan(512);
  });

  it("reads a configured field from headers, query or body, else falls back", async () => {
    const input = { source_id: "src_1", event_id: "d-1", body, headers: { "x-request-id": "r-9" }, url: "https://h.example/in?msg=m-3" };
    expect(await dedupKey({ ...input, key: "headers.X-Request-Id" })).toEqual({ key: `dedup:src_1:field:${sha("r-9")}`, basis: "field" });
    expect(await dedupKey({ ...input, key: "query.msg" })).toEqual({ key: `dedup:src_1:field:${sha("m-3")}`, basis: "field" });
    expect(await dedupKey({ ...input, key: "body.data.order" })).toEqual({ key: `dedup:src_1:field:${sha("42")}`, basis: "field" });
    expect(await dedupKey({ ...input, key: "body.data.missing" })).toMatchObject({ basis: "event_id" });
    expect(await dedupKey({ ...input, body: new TextEncoder().encode("not json"), key: "body.id" })).toMatchObject({ basis: "event_id" });
  });

  it("validates the dedup config", () => {
    expect(dedupConfigSchema.safeParse({ window_seconds: 3600 }).success).toBe(true);
    expect(dedupConfigSchema.safeParse({ window_seconds: 3600, key: "headers.x-request-id" }).success).toBe(true);
    expect(dedupConfigSchema.safeParse({ window_seconds: 30 }).success).toBe(false);
    expect(dedupConfigSchema.safeParse({ window_seconds: 3600, key: "cookies.x" }).success).toBe(false);
    expect(dedupConfigSchema.safeParse({ window_seconds: 3600, key: "headers." }).success).toBe(false);
  });
});
