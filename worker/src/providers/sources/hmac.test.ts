import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hmacConfigSchema, hmacVerifier, type HmacConfig } from "./hmac.js";
import type { VerifyRequest } from "./types.js";

const ctx = { now: () => 1_750_000_000_000 };
const body = new TextEncoder().encode('{"id":1}');

function config(input: Record<string, unknown>): HmacConfig {
  return hmacConfigSchema.parse({ secrets: ["s3cret"], header: "X-Signature", ...input });
}

function req(signature: string | undefined, payload: Uint8Array = body, url = "https://hooks.example.com/in"): VerifyRequest {
  return { method: "POST", url, headers: signature === undefined ? {} : { "x-signature": signature }, body: payload };
}

const sign = (algorithm: string, encoding: "hex" | "base64", data: Uint8Array | string, secret = "s3cret") =>
  createHmac(algorithm, secret).update(data).digest(encoding);

describe("hmac scheme", () => {
  it.each([
    ["sha1", "hex"],
    ["sha1", "base64"],
    ["sha256", "hex"],
    ["sha256", "base64"],
    ["sha512", "hex"],
    ["sha512", "base64"],
  ] as const)("verifies %s in %s", async (algorithm, encoding) => {
    const c = config({ algorithm, encoding });
    expect(await hmacVerifier.verify(req(sign(algorithm, encoding, body)), c, ctx)).toEqual({ ok: true });
    const other = algorithm === "sha1" ? "sha256" : "sha1";
    expect(await hmacVerifier.verify(req(sign(other, encoding, body)), c, ctx)).toMatchObject({ ok: false, reason: "invalid_signature" });
  });

  it("signs the raw bytes, not a decoded and re-encoded string", async () => {
    const binary = new Uint8Array([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d]);
    expect(await hmacVerifier.verify(req(sign("sha256", "hex", binary), binary), config({}), ctx)).toEqual({ ok: true });
  });

  it("strips the prefix, in any case, and refuses a value without it", async () => {
    const c = config({ prefix: "sha256=" });
    const mac = sign("sha256", "hex", body);
    expect(await hmacVerifier.verify(req(`sha256=${mac}`), c, ctx)).toEqual({ ok: true });
    expect(await hmacVerifier.verify(req(`SHA256=${mac}`), c, ctx)).toEqual({ ok: true });
    expect(await hmacVerifier.verify(req(mac), c, ctx)).toEqual({ ok: false, reason: "malformed", message: 'x-signature does not start with "sha256="' });
  });

  it("says when the signature is not in the configured encoding", async () => {
    const result = await hmacVerifier.verify(req(sign("sha256", "base64", body)), config({}), ctx);
    expect(result).toEqual({ ok: false, reason: "malformed", message: "x-signature is not hex" });
  });

  it("accepts any of several signatures in one header", async () => {
    const c = config({ prefix: "v1=", separator: "," });
    const good = sign("sha256", "hex", body);
    const other = sign("sha256", "hex", body, "other");
    expect(await hmacVerifier.verify(req(`v1=${other},v1=${good}`), c, ctx)).toEqual({ ok: true });
    expect(await hmacVerifier.verify(req(`v1=${other}, v2=${good}`), c, ctx)).toMatchObject({ reason: "invalid_signature" });
  });

  it("signs the URL followed by the body when asked, with a configured URL winning", async () => {
    const url = "https://hooks.example.com/in?x=1";
    const c = config({ encoding: "base64", signed_content: "url_and_body" });
    const signature = sign("sha256", "base64", Buffer.concat([Buffer.from(url), body]));
    expect(await hmacVerifier.verify(req(signature, body, url), c, ctx)).toEqual({ ok: true });
    expect(await hmacVerifier.verify(req(signature, body, "https://other.example.com/in?x=1"), c, ctx)).toMatchObject({ reason: "invalid_signature" });
    const configured = config({ encoding: "base64", signed_content: "url_and_body", url });
    expect(await hmacVerifier.verify(req(signature, body, "http://127.0.0.1:8787/in"), configured, ctx)).toEqual({ ok: true });
  });

  it("checks a timestamp inside the signed body when configured", async () => {
    const c = config({ body_timestamp: { path: "sent.at", unit: "ms", tolerance_seconds: 60 } });
    const at = (ms: unknown) => new TextEncoder().encode(JSON.stringify({ sent: { at: ms } }));
    const check = (payload: Uint8Array) => hmacVerifier.verify(req(sign("sha256", "hex", payload), payload), c, ctx);
    expect(await check(at(1_750_000_000_000 - 59_000))).toEqual({ ok: true });
    expect(await check(at(1_750_000_000_000 - 61_000))).toMatchObject({ reason: "stale_timestamp" });
    expect(await check(at("1750000000000"))).toEqual({ ok: false, reason: "malformed", message: "body has no numeric sent.at" });
    expect(await check(new TextEncoder().encode("not json"))).toMatchObject({ reason: "malformed" });
  });

  it("treats an absent or blank header as missing", async () => {
    expect(await hmacVerifier.verify(req(undefined), config({}), ctx)).toEqual({ ok: false, reason: "missing_signature", message: "missing x-signature header" });
    expect(await hmacVerifier.verify(req("  "), config({}), ctx)).toMatchObject({ reason: "missing_signature" });
  });

  it("validates its config", () => {
    expect(hmacConfigSchema.safeParse({ secrets: [], header: "x" }).success).toBe(false);
    expect(hmacConfigSchema.safeParse({ secrets: ["s"], header: "bad header" }).success).toBe(false);
    expect(hmacConfigSchema.safeParse({ secrets: ["s"], header: "x", algorithm: "md5" }).success).toBe(false);
    expect(hmacConfigSchema.safeParse({ secrets: ["s"], header: "x", extra: 1 }).success).toBe(false);
    expect(hmacConfigSchema.safeParse({ secrets: ["s"], header: "x", url: "ftp://x" }).success).toBe(false);
    expect(config({}).header).toBe("x-signature");
  });
});

describe("hmac scheme with odd header names", () => {
  it("never reads a header name off the object prototype", async () => {
    for (const header of ["constructor", "__proto__", "toString"]) {
      const c = hmacConfigSchema.parse({ secrets: ["s"], header });
      expect(await hmacVerifier.verify({ method: "POST", url: "https://h.example/in", headers: {}, body }, c, ctx)).toMatchObject({
        reason: "missing_signature",
      });
    }
  });
});
