import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { resolveVerification } from "./registry.js";
import { standardWebhookKey, standardWebhooksConfigSchema, standardWebhooksVerifier } from "./standard-webhooks.js";
import type { VerifyRequest } from "./types.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW = 1_750_000_000;
const ctx = { now: () => NOW * 1000 };
const config = standardWebhooksConfigSchema.parse({ secrets: [SECRET] });
const body = '{"type":"ping"}';

function signed(overrides: Record<string, string | undefined> = {}): VerifyRequest {
  const headers: Record<string, string> = {
    "webhook-id": "msg_1",
    "webhook-timestamp": String(NOW),
    "webhook-signature": new Webhook(SECRET).sign("msg_1", new Date(NOW * 1000), body),
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return { method: "POST", url: "https://hooks.example.com/in", headers, body: new TextEncoder().encode(body) };
}

describe("standard webhooks scheme", () => {
  it("returns the message id as the delivery id", async () => {
    expect(await standardWebhooksVerifier.verify(signed(), config, ctx)).toEqual({ ok: true, event_id: "msg_1" });
  });

  it("names the missing header", async () => {
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      expect(await standardWebhooksVerifier.verify(signed({ [name]: undefined }), config, ctx)).toEqual({
        ok: false,
        reason: "missing_signature",
        message: `missing ${name} header`,
      });
    }
  });

  it("signs the id and timestamp along with the body", async () => {
    expect(await standardWebhooksVerifier.verify(signed({ "webhook-id": "msg_2" }), config, ctx)).toMatchObject({ reason: "invalid_signature" });
    expect(await standardWebhooksVerifier.verify(signed({ "webhook-timestamp": String(NOW + 1) }), config, ctx)).toMatchObject({
      reason: "invalid_signature",
    });
  });

  it("refuses timestamps that are not seconds and signatures without a v1 entry", async () => {
    expect(await standardWebhooksVerifier.verify(signed({ "webhook-timestamp": "2025-06-15T00:00:00Z" }), config, ctx)).toMatchObject({
      reason: "malformed",
    });
    expect(await standardWebhooksVerifier.verify(signed({ "webhook-signature": "v1a,AAAA v2,AAAA" }), config, ctx)).toEqual({
      ok: false,
      reason: "malformed",
      message: "webhook-signature has no v1,<base64> entry",
    });
  });

  it("accepts secrets with or without the whsec_ prefix, and refuses others in the config", () => {
    expect(standardWebhookKey(SECRET)).toEqual(standardWebhookKey(SECRET.slice("whsec_".length)));
    expect(standardWebhookKey("whsec_not base64")).toBeNull();
    expect(standardWebhookKey("whsec_")).toBeNull();
    expect(standardWebhooksConfigSchema.safeParse({ secrets: ["plain text"] }).success).toBe(false);
  });

  it("gives a custom source (no template) the message id as delivery id too", async () => {
    const resolved = resolveVerification({ verification: { type: "standard_webhooks", secret: SECRET } });
    if (!resolved.ok || !resolved.value) throw new Error("did not resolve");
    expect(await resolved.value.verify(signed(), ctx)).toEqual({ ok: true, event_id: "msg_1" });
  });
});
