import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { mailgunConfigSchema, mailgunVerifier } from "./mailgun.js";
import type { VerifyRequest } from "./types.js";

const KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
const NOW = 1_750_000_000;
const ctx = { now: () => NOW * 1000 };
const config = mailgunConfigSchema.parse({ secrets: [KEY] });
const token = "c6b5a4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2";
const signature = (timestamp: number, key = KEY) => createHmac("sha256", key).update(`${timestamp}${token}`).digest("hex");

const req = (body: string | Uint8Array, contentType: string): VerifyRequest => ({
  method: "POST",
  url: "https://hooks.example.com/in",
  headers: { "content-type": contentType },
  body: typeof body === "string" ? new TextEncoder().encode(body) : body,
});

describe("mailgun scheme", () => {
  it("reads the signature object of JSON webhooks", async () => {
    const body = JSON.stringify({ signature: { timestamp: String(NOW), token, signature: signature(NOW) }, "event-data": { event: "opened" } });
    expect(await mailgunVerifier.verify(req(body, "application/json"), config, ctx)).toEqual({ ok: true });
  });

  it("reads the form fields of legacy webhooks", async () => {
    const body = new URLSearchParams({ timestamp: String(NOW), token, signature: signature(NOW), event: "delivered" }).toString();
    expect(await mailgunVerifier.verify(req(body, "application/x-www-form-urlencoded"), config, ctx)).toEqual({ ok: true });
  });

  it("reads multipart posts from routes", async () => {
    const form = new FormData();
    form.set("timestamp", String(NOW));
    form.set("token", token);
    form.set("signature", signature(NOW));
    form.set("attachment-1", new Blob(["%PDF-1.4"]), "invoice.pdf");
    const encoded = new Response(form);
    const body = new Uint8Array(await encoded.arrayBuffer());
    expect(await mailgunVerifier.verify(req(body, encoded.headers.get("content-type")!), config, ctx)).toEqual({ ok: true });
    expect(await mailgunVerifier.verify(req(body, "multipart/form-data; boundary=wrong"), config, ctx)).toMatchObject({ ok: false });
  });

  it("checks the timestamp only when a tolerance is configured", async () => {
    const old = NOW - 3600;
    const body = JSON.stringify({ signature: { timestamp: old, token, signature: signature(old) } });
    expect(await mailgunVerifier.verify(req(body, "application/json"), config, ctx)).toEqual({ ok: true });
    expect(await mailgunVerifier.verify(req(body, "application/json"), { ...config, tolerance_seconds: 300 }, ctx)).toMatchObject({
      reason: "stale_timestamp",
    });
  });

  it("refuses bodies it cannot read or that lack a part of the signature", async () => {
    expect(await mailgunVerifier.verify(req("plain text", "text/plain"), config, ctx)).toMatchObject({ reason: "malformed" });
    const partial = JSON.stringify({ signature: { timestamp: String(NOW), token } });
    expect(await mailgunVerifier.verify(req(partial, "application/json"), config, ctx)).toMatchObject({ reason: "missing_signature" });
    const notHex = JSON.stringify({ signature: { timestamp: String(NOW), token, signature: "zz" } });
    expect(await mailgunVerifier.verify(req(notHex, "application/json"), config, ctx)).toMatchObject({ reason: "malformed" });
  });
});
