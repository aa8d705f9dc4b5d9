// Requests signed by the providers themselves: their published test vectors, their own SDKs,
// and the SDKs' verifiers agreeing with the fixture signers where an SDK only verifies.
import { LinearWebhookClient } from "@linear/sdk/webhooks";
import { sign as githubSign, verify as githubVerify } from "@octokit/webhooks-methods";
import { Paddle } from "@paddle/paddle-node-sdk";
import Stripe from "stripe";
import { getExpectedBodyHash, getExpectedTwilioSignature, validateRequest, validateRequestWithBody } from "twilio/lib/webhooks/webhooks.js";
import { describe, expect, it } from "vitest";
import { INGEST_URL, TEMPLATE_FIXTURES } from "./conformance.fixtures.js";
import { resolveVerification, type SourceVerification } from "./registry.js";
import type { VerifyContext, VerifyRequest } from "./types.js";

const encoder = new TextEncoder();

function verifier(template: string, verification: Record<string, unknown>): SourceVerification {
  const resolved = resolveVerification({ template, verification });
  if (!resolved.ok || !resolved.value) throw new Error(`cannot resolve ${template}`);
  return resolved.value;
}

const at = (seconds: number): VerifyContext => ({ now: () => seconds * 1000 });

function req(body: string, headers: Record<string, string>, url = INGEST_URL, method = "POST"): VerifyRequest {
  return { method, url, headers, body: encoder.encode(body) };
}

describe("GitHub", () => {
  // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
  const secret = "It's a Secret to Everybody";
  const payload = "Hello, World!";
  const published = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

  it("accepts the published test vector, and @octokit/webhooks-methods signs the same", async () => {
    expect(await githubSign(secret, payload)).toBe(published);
    const result = await verifier("github", { secret }).verify(
      req(payload, { "x-hub-signature-256": published, "x-github-delivery": "d-1", "x-github-event": "ping" }),
      at(1_750_000_000),
    );
    expect(result).toEqual({ ok: true, event_id: "d-1", event_type: "ping" });
  });

  it("refuses the vector with one hex digit changed, whatever its case", async () => {
    const v = verifier("github", { secret });
    const flipped = published.slice(0, -1) + "f";
    expect(await v.verify(req(payload, { "x-hub-signature-256": flipped }), at(0))).toMatchObject({ reason: "invalid_signature" });
    expect(await v.verify(req(payload, { "x-hub-signature-256": published.toUpperCase().replace("SHA256=", "sha256=") }), at(0))).toMatchObject({ ok: true });
    expect(await githubVerify(secret, payload, flipped)).toBe(false);
  });
});

describe("Slack", () => {
  // https://docs.slack.dev/authentication/verifying-requests-from-slack (the worked example)
  const secret = "8f742231b10e8888abcd99yyyzzz85a5";
  const timestamp = 1531420618;
  const body =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
  const headers = {
    "content-type": "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
  };

  it("accepts the published example at its own time, with the slash command as its type", async () => {
    expect(await verifier("slack", { secret }).verify(req(body, headers), at(timestamp + 10))).toEqual({ ok: true, event_type: "/webhook-collect" });
  });

  it("refuses the same request replayed ten minutes later", async () => {
    expect(await verifier("slack", { secret }).verify(req(body, headers), at(timestamp + 600))).toMatchObject({ reason: "stale_timestamp" });
  });
});

describe("Twilio", () => {
  const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
  const formHeaders = (signature: string) => ({ "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature });

  it("accepts the example in Twilio's security docs", async () => {
    // https://www.twilio.com/docs/usage/webhooks/webhooks-security
    const params = { CallSid: "CA1234567890ABCDE", Caller: "+12349013030", Digits: "1234", From: "+12349013030", To: "+18005551212" };
    const request = req(form(params), formHeaders("0/KCTR6DLpKmkAf8muzZqo1nDgQ="), url);
    expect(await verifier("twilio", { secret: "12345" }).verify(request, at(0))).toEqual({ ok: true });
    expect(validateRequest("12345", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url, params)).toBe(true);
  });

  it("accepts the vector of Twilio's own SDK test suites", async () => {
    const params = { CallSid: "CA1234567890ABCDE", Caller: "+14158675309", Digits: "1234", From: "+14158675309", To: "+18005551212" };
    const request = req(form(params), formHeaders("RSOYDt4T1cUTdK1PDd93/VVr8B8="), url);
    expect(await verifier("twilio", { secret: "12345" }).verify(request, at(0))).toEqual({ ok: true });
  });

  it("sorts repeated parameters the way the SDK does", async () => {
    const params = { To: "+18005551212", MediaUrl: ["https://b.example/2.png", "https://a.example/1.png"] };
    const body = new URLSearchParams([["To", params.To], ["MediaUrl", params.MediaUrl[0]!], ["MediaUrl", params.MediaUrl[1]!]]).toString();
    const signature = getExpectedTwilioSignature("tok", url, params);
    expect(await verifier("twilio", { secret: "tok" }).verify(req(body, formHeaders(signature), url), at(0))).toEqual({ ok: true });
  });

  it("accepts a URL signed with the default port and received without it, and the reverse", async () => {
    const params = { Digits: "1" };
    const v = verifier("twilio", { secret: "tok" });
    const withPort = "https://mycompany.com:443/myapp.php?foo=1";
    const withoutPort = "https://mycompany.com/myapp.php?foo=1";
    expect(await v.verify(req(form(params), formHeaders(getExpectedTwilioSignature("tok", withPort, params)), withoutPort), at(0))).toEqual({ ok: true });
    expect(await v.verify(req(form(params), formHeaders(getExpectedTwilioSignature("tok", withoutPort, params)), withPort), at(0))).toEqual({ ok: true });
  });

  it("verifies JSON bodies through bodySHA256, as validateRequestWithBody does", async () => {
    const body = JSON.stringify({ type: "com.twilio.messaging.message.delivered", data: { messageSid: "SM1" } });
    const signedUrl = `${INGEST_URL}?bodySHA256=${getExpectedBodyHash(body)}`;
    const signature = getExpectedTwilioSignature("tok", signedUrl, {});
    expect(validateRequestWithBody("tok", signature, signedUrl, body)).toBe(true);

    const v = verifier("twilio", { secret: "tok" });
    const headers = { "content-type": "application/json", "x-twilio-signature": signature };
    expect(await v.verify(req(body, headers, signedUrl), at(0))).toEqual({ ok: true });
    expect(await v.verify(req(`${body} `, headers, signedUrl), at(0))).toMatchObject({ reason: "invalid_signature" });
  });

  it("signs the public origin when a proxy changes the one requests arrive at", async () => {
    const params = { Digits: "1" };
    const signature = getExpectedTwilioSignature("tok", "https://hooks.example.com/v1/ingest/src_1?x=1", params);
    const arrived = req(form(params), formHeaders(signature), "http://127.0.0.1:8787/v1/ingest/src_1?x=1");
    expect(await verifier("twilio", { secret: "tok" }).verify(arrived, at(0))).toMatchObject({ reason: "invalid_signature" });
    expect(await verifier("twilio", { secret: "tok", public_origin: "https://hooks.example.com" }).verify(arrived, at(0))).toEqual({ ok: true });
  });
});

describe("Square", () => {
  // The vector of Square's SDK test suites (WebhooksHelper tests in its Node, Python, Java, Go, PHP and Ruby SDKs).
  const body =
    '{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}';
  const notificationUrl = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9";
  const headers = { "x-square-hmacsha256-signature": "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=" };

  it("accepts the published vector at its notification URL", async () => {
    const result = await verifier("square", { secret: "Ibxx_5AKakO-3qeNVR61Dw" }).verify(req(body, headers, notificationUrl), at(0));
    expect(result).toEqual({ ok: true, event_id: "ac3ac95b-f97d-458c-a6e6-18981597e05f", event_type: "webhooks.test_notification" });
  });

  it("needs the configured notification URL when requests arrive at another one", async () => {
    expect(await verifier("square", { secret: "Ibxx_5AKakO-3qeNVR61Dw" }).verify(req(body, headers), at(0))).toMatchObject({ reason: "invalid_signature" });
    const configured = verifier("square", { secret: "Ibxx_5AKakO-3qeNVR61Dw", url: notificationUrl });
    expect(await configured.verify(req(body, headers), at(0))).toMatchObject({ ok: true });
  });
});

describe("Standard Webhooks", () => {
  // The specification's test vector (also used by worker/src/delivery/signing.test.ts).
  const headers = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  };

  it("accepts the specification's vector, among other entries, under both header families", async () => {
    const v = verifier("standard_webhooks", { secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" });
    const several = { ...headers, "webhook-signature": `v1a,bm90IGVkMjU1MTk= v1,Zm9yZ2VkAA== ${headers["webhook-signature"]}` };
    expect(await v.verify(req('{"test": 2432232314}', several), at(1614265330))).toEqual({ ok: true, event_id: "msg_p5jXN8AQM9LWM0D4loKWxJek" });
    const svix = { "svix-id": headers["webhook-id"], "svix-timestamp": headers["webhook-timestamp"], "svix-signature": headers["webhook-signature"] };
    expect(await verifier("svix", { secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }).verify(req('{"test": 2432232314}', svix), at(1614265330))).toMatchObject({ ok: true });
  });
});

describe("Stripe", () => {
  it("accepts a header with several v1 signatures (Stripe rolling a secret) and a v0 one", async () => {
    const body = '{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}';
    const timestamp = 1_750_000_000;
    const fromOld = await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: "whsec_old", timestamp });
    const fromNew = await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: "whsec_new", timestamp, scheme: "v1" });
    const v0 = await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: "whsec_new", timestamp, scheme: "v0" });
    const header = [fromNew, fromOld.split(",")[1], v0.split(",")[1]].join(",");
    expect(header).toMatch(/^t=1750000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64},v0=[0-9a-f]{64}$/);

    const result = await verifier("stripe", { secret: "whsec_old" }).verify(req(body, { "stripe-signature": header }), at(timestamp));
    expect(result).toMatchObject({ ok: true, event_type: "payment_intent.succeeded" });
    const onlyV0 = await verifier("stripe", { secret: "whsec_new" }).verify(req(body, { "stripe-signature": `t=${timestamp},${v0.split(",")[1]}` }), at(timestamp));
    expect(onlyV0).toMatchObject({ ok: false, reason: "malformed" });
  });

  it("agrees with the SDK's own verifier on what is stale", async () => {
    const body = '{"id":"evt_1","type":"ping"}';
    const header = await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: "whsec_x", timestamp: 1000 });
    const sdk = (receivedAt: number) =>
      Stripe.webhooks.constructEventAsync(body, header, "whsec_x", 300, undefined, receivedAt).then(
        () => true,
        () => false,
      );
    const ours = async (receivedAt: number) => (await verifier("stripe", { secret: "whsec_x" }).verify(req(body, { "stripe-signature": header }), { now: () => receivedAt })).ok;
    for (const receivedAt of [1000_000, 1300_000, 1301_000, 1_000_000_000]) expect(await ours(receivedAt)).toBe(await sdk(receivedAt));
  });
});

describe("SDK verifiers accept the fixture signers (providers whose SDK verifies but does not sign)", () => {
  it("Paddle's SDK accepts what the paddle fixture signs, and so do we", async () => {
    const fixture = TEMPLATE_FIXTURES.paddle;
    const now = Math.floor(Date.now() / 1000);
    const signed = await fixture.sign({ secret: fixture.secrets[0], timestamp: now });
    const body = new TextDecoder().decode(signed.body);
    const header = signed.headers["paddle-signature"]!;
    const paddle = new Paddle("pdl_sdbx_apikey_not_used_offline");
    expect(await paddle.webhooks.isSignatureValid(body, fixture.secrets[0], header)).toBe(true);
    expect(await paddle.webhooks.isSignatureValid(body, fixture.secrets[1], header)).toBe(false);
    expect(await verifier("paddle", { secret: fixture.secrets[0] }).verify(signed, { now: Date.now })).toMatchObject({ ok: true });
  });

  it("Linear's SDK accepts what the linear fixture signs, and so do we", async () => {
    const fixture = TEMPLATE_FIXTURES.linear;
    const now = Math.floor(Date.now() / 1000);
    const signed = await fixture.sign({ secret: fixture.secrets[0], timestamp: now });
    const raw = Buffer.from(signed.body);
    const signature = signed.headers["linear-signature"]!;
    expect(new LinearWebhookClient(fixture.secrets[0]).verify(raw, signature)).toBe(true);
    expect(() => new LinearWebhookClient(fixture.secrets[1]).verify(raw, signature)).toThrow();
    expect(await verifier("linear", { secret: fixture.secrets[0] }).verify(signed, { now: Date.now })).toMatchObject({ ok: true });
  });

});
