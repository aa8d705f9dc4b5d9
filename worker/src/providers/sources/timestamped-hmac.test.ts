import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { timestampedHmacConfigSchema, timestampedHmacVerifier, type TimestampedHmacConfig } from "./timestamped-hmac.js";
import type { VerifyRequest } from "./types.js";

const NOW = 1_750_000_000;
const ctx = { now: () => NOW * 1000 };
const body = '{"id":"evt_1"}';
const hex = (secret: string, data: string) => createHmac("sha256", secret).update(data).digest("hex");

const stripeLike: TimestampedHmacConfig = timestampedHmacConfigSchema.parse({
  secrets: ["whsec_a"],
  header: "Stripe-Signature",
  signature_param: "v1",
  timestamp_param: "t",
  signed_payload: "{timestamp}.{body}",
});
const slackLike: TimestampedHmacConfig = timestampedHmacConfigSchema.parse({
  secrets: ["slack"],
  header: "x-slack-signature",
  prefix: "v0=",
  timestamp_header: "x-slack-request-timestamp",
  signed_payload: "v0:{timestamp}:{body}",
});

const req = (headers: Record<string, string>, payload = body): VerifyRequest => ({
  method: "POST",
  url: "https://hooks.example.com/in",
  headers,
  body: new TextEncoder().encode(payload),
});

describe("timestamped hmac scheme", () => {
  it("reads key=value lists, ignoring spaces and unknown keys", async () => {
    const header = ` t=${NOW} , v1=${hex("whsec_a", `${NOW}.${body}`)}, x=1`;
    expect(await timestampedHmacVerifier.verify(req({ "stripe-signature": header }), stripeLike, ctx)).toEqual({ ok: true });
  });

  it("names what is missing from the list", async () => {
    const sig = hex("whsec_a", `${NOW}.${body}`);
    expect(await timestampedHmacVerifier.verify(req({ "stripe-signature": `v1=${sig}` }), stripeLike, ctx)).toEqual({
      ok: false,
      reason: "malformed",
      message: "stripe-signature has no t= timestamp",
    });
    expect(await timestampedHmacVerifier.verify(req({ "stripe-signature": `t=${NOW}` }), stripeLike, ctx)).toMatchObject({
      message: "stripe-signature has no v1= signature",
    });
    expect(await timestampedHmacVerifier.verify(req({ "stripe-signature": `t=soon,v1=${sig}` }), stripeLike, ctx)).toMatchObject({
      reason: "malformed",
      message: "timestamp is not in unix seconds",
    });
  });

  it("checks the signature before the clock, so a forgery is never reported as merely stale", async () => {
    const old = NOW - 3600;
    const forged = `t=${old},v1=${hex("guess", `${old}.${body}`)}`;
    const genuine = `t=${old},v1=${hex("whsec_a", `${old}.${body}`)}`;
    expect(await timestampedHmacVerifier.verify(req({ "stripe-signature": forged }), stripeLike, ctx)).toMatchObject({ reason: "invalid_signature" });
    expect(await timestampedHmacVerifier.verify(req({ "stripe-signature": genuine }), stripeLike, ctx)).toMatchObject({ reason: "stale_timestamp" });
    expect(await timestampedHmacVerifier.verify(req({ "stripe-signature": genuine }), { ...stripeLike, tolerance_seconds: 0 }, ctx)).toEqual({ ok: true });
  });

  it("binds the timestamp: moving it breaks the signature", async () => {
    const sig = hex("whsec_a", `${NOW}.${body}`);
    expect(await timestampedHmacVerifier.verify(req({ "stripe-signature": `t=${NOW + 1},v1=${sig}` }), stripeLike, ctx)).toMatchObject({
      reason: "invalid_signature",
    });
  });

  it("reads a prefixed signature with the timestamp in its own header", async () => {
    const headers = { "x-slack-signature": `v0=${hex("slack", `v0:${NOW}:${body}`)}`, "x-slack-request-timestamp": String(NOW) };
    expect(await timestampedHmacVerifier.verify(req(headers), slackLike, ctx)).toEqual({ ok: true });
    expect(await timestampedHmacVerifier.verify(req({ "x-slack-signature": headers["x-slack-signature"] }), slackLike, ctx)).toEqual({
      ok: false,
      reason: "missing_signature",
      message: "missing x-slack-request-timestamp header",
    });
    expect(await timestampedHmacVerifier.verify(req({ ...headers, "x-slack-signature": "v1=00" }), slackLike, ctx)).toMatchObject({ reason: "malformed" });
  });

  it("validates where the timestamp and the body go", () => {
    const base = { secrets: ["s"], header: "x-sig", signed_payload: "{timestamp}.{body}" };
    expect(timestampedHmacConfigSchema.safeParse(base).success).toBe(false);
    expect(timestampedHmacConfigSchema.safeParse({ ...base, timestamp_header: "x-ts", timestamp_param: "t", signature_param: "v1" }).success).toBe(false);
    expect(timestampedHmacConfigSchema.safeParse({ ...base, timestamp_param: "t" }).success).toBe(false);
    expect(timestampedHmacConfigSchema.safeParse({ ...base, timestamp_header: "x-ts" }).success).toBe(true);
    expect(timestampedHmacConfigSchema.safeParse({ ...base, timestamp_header: "x-ts", signed_payload: "{body}.{timestamp}" }).success).toBe(false);
    expect(timestampedHmacConfigSchema.safeParse({ ...base, timestamp_header: "x-ts", signed_payload: "{body}" }).success).toBe(false);
  });
});
