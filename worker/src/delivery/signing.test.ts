import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  decodeSigningSecret,
  generateSigningSecret,
  signStandardWebhook,
  standardWebhookHeaders,
} from "./signing.js";

// Test vector from the Standard Webhooks specification / reference libraries.
const SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TIMESTAMP = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe("generateSigningSecret", () => {
  it("is whsec_ + base64 of 32 random bytes", () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(decodeSigningSecret(secret)?.length).toBe(32);
    expect(generateSigningSecret()).not.toBe(secret);
  });
});

describe("decodeSigningSecret", () => {
  it("rejects secrets without the prefix or with bad base64", () => {
    expect(decodeSigningSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).toBeNull();
    expect(decodeSigningSecret("whsec_not base64!")).toBeNull();
    expect(decodeSigningSecret("whsec_abc")).toBeNull();
    expect(decodeSigningSecret(SPEC_SECRET)?.length).toBe(24);
  });
});

describe("signStandardWebhook", () => {
  it("matches the specification's test vector", async () => {
    const signature = await signStandardWebhook({
      secret: SPEC_SECRET,
      id: SPEC_ID,
      timestamp: SPEC_TIMESTAMP,
      body: SPEC_BODY,
    });
    expect(signature).toBe(SPEC_SIGNATURE);
  });

  it("signs bytes and the equal string identically", async () => {
    const base = { secret: SPEC_SECRET, id: SPEC_ID, timestamp: SPEC_TIMESTAMP };
    const fromBytes = await signStandardWebhook({ ...base, body: new TextEncoder().encode(SPEC_BODY) });
    expect(fromBytes).toBe(SPEC_SIGNATURE);
  });

  it("agrees with the standardwebhooks package for a generated secret and multi-byte UTF-8 body", async () => {
    const secret = generateSigningSecret();
    const timestamp = nowSeconds();
    const text = '{"name":"Zoë","emoji":"🎉"}';
    const ours = await signStandardWebhook({ secret, id: "dlv_123", timestamp, body: new TextEncoder().encode(text) });
    const theirs = new Webhook(secret).sign("dlv_123", new Date(timestamp * 1000), text);
    expect(ours).toBe(theirs);
  });

  it("signs non-UTF-8 bodies over the raw bytes", async () => {
    // The standardwebhooks JS package decodes Buffers as UTF-8 first, so it cannot check this case.
    const secret = generateSigningSecret();
    const key = decodeSigningSecret(secret);
    if (key === null) throw new Error("generated secret did not decode");
    const body = new Uint8Array([0, 1, 2, 250, 255, 0x7b, 0x7d]);
    const expected = createHmac("sha256", key)
      .update(Buffer.concat([Buffer.from("dlv_1.1700000000."), Buffer.from(body)]))
      .digest("base64");
    expect(await signStandardWebhook({ secret, id: "dlv_1", timestamp: 1_700_000_000, body })).toBe(`v1,${expected}`);
  });

  it("changes when any signed part changes", async () => {
    const base = { secret: SPEC_SECRET, id: SPEC_ID, timestamp: SPEC_TIMESTAMP, body: SPEC_BODY };
    const variants = await Promise.all([
      signStandardWebhook({ ...base, id: `${SPEC_ID}x` }),
      signStandardWebhook({ ...base, timestamp: SPEC_TIMESTAMP + 1 }),
      signStandardWebhook({ ...base, body: `${SPEC_BODY} ` }),
      signStandardWebhook({ ...base, secret: generateSigningSecret() }),
    ]);
    for (const variant of variants) expect(variant).not.toBe(SPEC_SIGNATURE);
  });

  it("throws on a malformed secret (a bug, not an expected failure)", async () => {
    await expect(signStandardWebhook({ secret: "nope", id: "a", timestamp: 1, body: "" })).rejects.toThrow(
      "malformed signing secret",
    );
  });
});

describe("standardWebhookHeaders", () => {
  it("produces headers the standardwebhooks package verifies", async () => {
    const secret = generateSigningSecret();
    const body = JSON.stringify({ type: "invoice.paid", amount: 1200 });
    const timestamp = nowSeconds();
    const headers = await standardWebhookHeaders({ secret, id: "dlv_abc", timestamp, body });

    expect(headers["webhook-id"]).toBe("dlv_abc");
    expect(headers["webhook-timestamp"]).toBe(String(timestamp));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ type: "invoice.paid", amount: 1200 });
  });

  it("fails verification with another secret or a tampered body", async () => {
    const secret = generateSigningSecret();
    const headers = await standardWebhookHeaders({ secret, id: "dlv_abc", timestamp: nowSeconds(), body: "{}" });
    expect(() => new Webhook(generateSigningSecret()).verify("{}", { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify("{ }", { ...headers })).toThrow();
  });
});
