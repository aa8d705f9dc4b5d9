// Test-only: one fixture signer per template, signing requests the way the provider does.
// Where the provider publishes an npm SDK that signs, the SDK signs (Stripe, GitHub's
// @octokit/webhooks-methods, Twilio, standardwebhooks, Svix). Elsewhere node:crypto follows
// the provider's documented algorithm, independently of the WebCrypto code under test.
import { createHmac } from "node:crypto";
import { sign as githubSign } from "@octokit/webhooks-methods";
import { Webhook as StandardWebhook } from "standardwebhooks";
import Stripe from "stripe";
import { Webhook as SvixWebhook } from "svix";
import { getExpectedTwilioSignature } from "twilio/lib/webhooks/webhooks.js";
import type { TemplateId } from "./templates.js";
import type { VerifyFailureReason, VerifyRequest } from "./types.js";

export const NOW_SECONDS = 1_750_000_000;
export const INGEST_URL = "https://hooks.example.com/v1/ingest/src_0123456789abcdef0123456789abcdef";

export interface SignInput {
  secret: string;
  /** Unix seconds the provider stamps on the request. */
  timestamp: number;
  /** The ingest URL the request is sent to (Twilio and Square sign it); INGEST_URL by default. */
  url?: string;
}

export interface TemplateFixture {
  template: TemplateId;
  /** Two secrets in the provider's format: [current, previous]. */
  secrets: readonly [string, string];
  sign(input: SignInput): Promise<VerifyRequest>;
  /** What a valid request yields. */
  expected: { event_id?: string; event_type?: string };
  /** The template's default tolerance, when it checks a timestamp. */
  tolerance_seconds?: number;
  /** The same request with its signature removed. */
  unsign(req: VerifyRequest): VerifyRequest;
  /** A change the signature must catch; null when the scheme does not cover the body (a static token). */
  tamper: ((req: VerifyRequest) => VerifyRequest) | null;
  /** What a wrong secret is refused as. */
  wrong_secret_reason: VerifyFailureReason;
}

const encoder = new TextEncoder();

function request(body: string, headers: Record<string, string>, url = INGEST_URL, method = "POST"): VerifyRequest {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  return { method, url, headers: lower, body: encoder.encode(body) };
}

function withoutHeader(name: string): (req: VerifyRequest) => VerifyRequest {
  return (req) => {
    const headers = { ...req.headers };
    delete headers[name];
    return { ...req, headers };
  };
}

function appendToBody(req: VerifyRequest): VerifyRequest {
  const body = new Uint8Array(req.body.length + 1);
  body.set(req.body);
  body[req.body.length] = 0x20;
  return { ...req, body };
}

const hmacOf = (algorithm: "sha1" | "sha256" | "sha512", secret: string, data: string, encoding: "hex" | "base64"): string =>
  createHmac(algorithm, secret).update(data, "utf8").digest(encoding);

const JSON_TYPE = { "content-type": "application/json" };
const FORM_TYPE = { "content-type": "application/x-www-form-urlencoded" };

function bodyFixture(
  template: TemplateId,
  options: {
    secrets: readonly [string, string];
    body: string;
    signatureHeader: string;
    headers: (input: SignInput, body: string) => Promise<Record<string, string>> | Record<string, string>;
    expected: TemplateFixture["expected"];
    tolerance_seconds?: number;
    contentType?: Record<string, string>;
  },
): TemplateFixture {
  return {
    template,
    secrets: options.secrets,
    async sign(input) {
      return request(options.body, { ...(options.contentType ?? JSON_TYPE), ...(await options.headers(input, options.body)) }, input.url);
    },
    expected: options.expected,
    ...(options.tolerance_seconds === undefined ? {} : { tolerance_seconds: options.tolerance_seconds }),
    unsign: withoutHeader(options.signatureHeader),
    tamper: appendToBody,
    wrong_secret_reason: "invalid_signature",
  };
}

const STRIPE_EVENT = JSON.stringify({
  id: "evt_1PvKq2LkdIwHu7ixY0Fv2x8Q",
  object: "event",
  api_version: "2024-06-20",
  type: "payment_intent.succeeded",
  data: { object: { id: "pi_3PvKq1LkdIwHu7ix0T2nQm5e", object: "payment_intent", amount: 2000, currency: "usd" } },
});

const stripe = bodyFixture("stripe", {
  secrets: ["whsec_test_current_3b1f0c9d2e", "whsec_test_previous_7a6e5d4c3b"],
  body: STRIPE_EVENT,
  signatureHeader: "stripe-signature",
  async headers({ secret, timestamp }, payload) {
    return { "stripe-signature": await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp }) };
  },
  expected: { event_id: "evt_1PvKq2LkdIwHu7ixY0Fv2x8Q", event_type: "payment_intent.succeeded" },
  tolerance_seconds: 300,
});

const GITHUB_DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
const github = bodyFixture("github", {
  secrets: ["It's a Secret to Everybody", "an older secret"],
  body: JSON.stringify({ zen: "Design for failure.", hook_id: 123456, hook: { type: "Repository" } }),
  signatureHeader: "x-hub-signature-256",
  async headers({ secret }, payload) {
    return {
      "x-hub-signature-256": await githubSign(secret, payload),
      "x-github-delivery": GITHUB_DELIVERY,
      "x-github-event": "ping",
    };
  },
  expected: { event_id: GITHUB_DELIVERY, event_type: "ping" },
});

const shopify = bodyFixture("shopify", {
  secrets: ["shpss_current_0f9e8d7c6b5a", "shpss_previous_1a2b3c4d5e6f"],
  body: JSON.stringify({ id: 820982911946154500, email: "jon@example.com", total_price: "403.00" }),
  signatureHeader: "x-shopify-hmac-sha256",
  headers: ({ secret }, payload) => ({
    "x-shopify-hmac-sha256": hmacOf("sha256", secret, payload, "base64"),
    "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    "x-shopify-topic": "orders/create",
  }),
  expected: { event_id: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", event_type: "orders/create" },
});

const slack = bodyFixture("slack", {
  secrets: ["8f742231b10e8888abcd99yyyzzz85a5", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"],
  body: JSON.stringify({
    token: "XXYYZZ",
    team_id: "T123ABC456",
    type: "event_callback",
    event_id: "Ev08MFMKH6",
    event: { type: "app_mention", user: "U061F7AUR", text: "<@U0LAN0Z89> is it everything?" },
  }),
  signatureHeader: "x-slack-signature",
  headers: ({ secret, timestamp }, payload) => ({
    "x-slack-signature": `v0=${hmacOf("sha256", secret, `v0:${timestamp}:${payload}`, "hex")}`,
    "x-slack-request-timestamp": String(timestamp),
  }),
  expected: { event_id: "Ev08MFMKH6", event_type: "app_mention" },
  tolerance_seconds: 300,
});

const twilioUrl = (url = INGEST_URL) => `${url}?foo=1&bar=2`;
const TWILIO_PARAMS = {
  AccountSid: "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
  MessageSid: "SM1f0e8ae6ade43cb3c0ce4525424e404f",
  From: "+14158675310",
  To: "+18005551212",
  Body: "Hello & welcome (100% ü)",
  MessageStatus: "delivered",
};
const twilio: TemplateFixture = {
  template: "twilio",
  secrets: ["12345abcdef0123456789abcdef01234", "fedcba9876543210fedcba9876543210"],
  async sign({ secret, url }) {
    return request(new URLSearchParams(TWILIO_PARAMS).toString(), {
      ...FORM_TYPE,
      "x-twilio-signature": getExpectedTwilioSignature(secret, twilioUrl(url), TWILIO_PARAMS),
      "i-twilio-idempotency-token": "8f1b0b6e-2f6c-4b3f-9b7c-3f4d9f1e2a10",
    }, twilioUrl(url));
  },
  expected: { event_id: "8f1b0b6e-2f6c-4b3f-9b7c-3f4d9f1e2a10" },
  unsign: withoutHeader("x-twilio-signature"),
  tamper: appendToBody,
  wrong_secret_reason: "invalid_signature",
};

const STANDARD_EVENT = JSON.stringify({ type: "invoice.paid", timestamp: "2025-06-15T14:13:20Z", data: { id: "in_123" } });

function svixStyle(template: TemplateId, secrets: readonly [string, string], event: string, type: string): TemplateFixture {
  const id = "msg_2ZhQuz8VAMU3kJ8bLrRbY3cPmGq";
  return bodyFixture(template, {
    secrets,
    body: event,
    signatureHeader: "svix-signature",
    headers: ({ secret, timestamp }, payload) => ({
      "svix-id": id,
      "svix-timestamp": String(timestamp),
      "svix-signature": new SvixWebhook(secret).sign(id, new Date(timestamp * 1000), payload),
    }),
    expected: { event_id: id, event_type: type },
    tolerance_seconds: 300,
  });
}

const standardWebhooks = bodyFixture("standard_webhooks", {
  secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"],
  body: STANDARD_EVENT,
  signatureHeader: "webhook-signature",
  headers: ({ secret, timestamp }, payload) => {
    const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    return {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": new StandardWebhook(secret).sign(id, new Date(timestamp * 1000), payload),
    };
  },
  expected: { event_id: "msg_p5jXN8AQM9LWM0D4loKWxJek", event_type: "invoice.paid" },
  tolerance_seconds: 300,
});

const SVIX_SECRETS = ["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] as const;
const svix = svixStyle("svix", SVIX_SECRETS, STANDARD_EVENT, "invoice.paid");
const clerk = svixStyle(
  "clerk",
  SVIX_SECRETS,
  JSON.stringify({ type: "user.created", object: "event", data: { id: "user_29w83sxmDNGwOuEthce5gg56FcC" } }),
  "user.created",
);
const resend = svixStyle(
  "resend",
  SVIX_SECRETS,
  JSON.stringify({ type: "email.delivered", created_at: "2025-06-15T14:13:20.000Z", data: { email_id: "56761188-7520-42d8-8898-ff6fc54ce618" } }),
  "email.delivered",
);

function linearBody(timestampSeconds: number): string {
  return JSON.stringify({
    action: "create",
    type: "Issue",
    data: { id: "2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9", title: "Ingest refuses stale requests" },
    url: "https://linear.app/acme/issue/ENG-42",
    webhookTimestamp: timestampSeconds * 1000,
    webhookId: "000042e3-d123-4980-b49f-8e140eef9329",
  });
}
const linear: TemplateFixture = {
  template: "linear",
  secrets: ["lin_wh_current_9f8e7d6c5b4a39281706", "lin_wh_previous_0a1b2c3d4e5f60718293"],
  async sign({ secret, timestamp }) {
    const body = linearBody(timestamp);
    return request(body, {
      ...JSON_TYPE,
      "linear-signature": hmacOf("sha256", secret, body, "hex"),
      "linear-delivery": "234d1a4e-b617-4388-90fe-adc3633d6b72",
      "linear-event": "Issue",
    });
  },
  expected: { event_id: "234d1a4e-b617-4388-90fe-adc3633d6b72", event_type: "Issue" },
  tolerance_seconds: 60,
  unsign: withoutHeader("linear-signature"),
  tamper: appendToBody,
  wrong_secret_reason: "invalid_signature",
};

const paddle = bodyFixture("paddle", {
  secrets: ["pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI", "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_oldsecretoldsecretoldsecret0"],
  body: JSON.stringify({
    event_id: "evt_01hv8wptq8987qeep44cyrewp9",
    event_type: "transaction.completed",
    occurred_at: "2025-06-15T14:13:20.000Z",
    notification_id: "ntf_01hv8wptvxc7ad3d5jc7mu9ujc",
    data: { id: "txn_01hv8wnwqx7cwgc2ddcs6y2jsz", status: "completed" },
  }),
  signatureHeader: "paddle-signature",
  headers: ({ secret, timestamp }, payload) => ({
    "paddle-signature": `ts=${timestamp};h1=${hmacOf("sha256", secret, `${timestamp}:${payload}`, "hex")}`,
  }),
  expected: { event_id: "evt_01hv8wptq8987qeep44cyrewp9", event_type: "transaction.completed" },
  tolerance_seconds: 5,
});

const typeform = bodyFixture("typeform", {
  secrets: ["typeform-current-secret", "typeform-previous-secret"],
  body: JSON.stringify({
    event_id: "01HXJ6X3P2Z8K1Q9V7W5R4T3S2",
    event_type: "form_response",
    form_response: { form_id: "lT4Z3j", token: "a3a12ec67a1365927098a606107fac15", answers: [] },
  }),
  signatureHeader: "typeform-signature",
  headers: ({ secret }, payload) => ({ "typeform-signature": `sha256=${hmacOf("sha256", secret, payload, "base64")}` }),
  expected: { event_id: "01HXJ6X3P2Z8K1Q9V7W5R4T3S2", event_type: "form_response" },
});

const pagerduty = bodyFixture("pagerduty", {
  secrets: ["pd-current-signing-secret-0123", "pd-previous-signing-secret-456"],
  body: JSON.stringify({
    event: {
      id: "01DEN2HPCRWCQ1ZY5MJYYBQU3U",
      event_type: "incident.triggered",
      resource_type: "incident",
      occurred_at: "2025-06-15T14:13:20.000Z",
      data: { id: "PGR0VU2", type: "incident", title: "Disk is full" },
    },
  }),
  signatureHeader: "x-pagerduty-signature",
  headers: ({ secret }, payload) => ({ "x-pagerduty-signature": `v1=${hmacOf("sha256", secret, payload, "hex")}` }),
  expected: { event_id: "01DEN2HPCRWCQ1ZY5MJYYBQU3U", event_type: "incident.triggered" },
});

const square = bodyFixture("square", {
  secrets: ["Ibxx_5AKakO-3qeNVR61Dw", "previous-signature-key"],
  body: JSON.stringify({
    merchant_id: "MLEFBHHSJGVHD",
    type: "payment.updated",
    event_id: "ac3ac95b-f97d-458c-a6e6-18981597e05f",
    created_at: "2025-06-15T14:13:20.000Z",
    data: { type: "payment", id: "KkAkhdMsgzn59SM8A89WgKwekxLZY" },
  }),
  signatureHeader: "x-square-hmacsha256-signature",
  headers: ({ secret, url }, payload) => ({ "x-square-hmacsha256-signature": hmacOf("sha256", secret, (url ?? INGEST_URL) + payload, "base64") }),
  expected: { event_id: "ac3ac95b-f97d-458c-a6e6-18981597e05f", event_type: "payment.updated" },
});

function mailgunBody(secret: string, timestamp: number, token: string): string {
  return JSON.stringify({
    signature: { timestamp: String(timestamp), token, signature: hmacOf("sha256", secret, `${timestamp}${token}`, "hex") },
    "event-data": { id: "CPgfbmQMTCKtHW6uIWtuVe", event: "delivered", timestamp: timestamp + 0.5, recipient: "alice@example.com" },
  });
}
const MAILGUN_TOKEN = "b7ca2e8d1c0f4f7e9a6d5c4b3a2918e7f6d5c4b3a29180fe1d";
const mailgun: TemplateFixture = {
  template: "mailgun",
  secrets: ["key-3ax6xnjp29jd6fds4gc373sgvjxteol0", "key-previous0previous0previous0prev"],
  async sign({ secret, timestamp }) {
    return request(mailgunBody(secret, timestamp, MAILGUN_TOKEN), JSON_TYPE);
  },
  expected: { event_id: "CPgfbmQMTCKtHW6uIWtuVe", event_type: "delivered" },
  unsign(req) {
    const body = JSON.parse(new TextDecoder().decode(req.body)) as Record<string, unknown>;
    delete body.signature;
    return { ...req, body: encoder.encode(JSON.stringify(body)) };
  },
  // The signature covers timestamp + token only, so that is what a forger has to change.
  tamper(req) {
    const text = new TextDecoder().decode(req.body).replace(MAILGUN_TOKEN, `${MAILGUN_TOKEN.slice(0, -1)}0`);
    return { ...req, body: encoder.encode(text) };
  },
  wrong_secret_reason: "invalid_signature",
};

const intercom = bodyFixture("intercom", {
  secrets: ["intercom-client-secret-current", "intercom-client-secret-previous"],
  body: JSON.stringify({
    type: "notification_event",
    id: "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3",
    topic: "conversation.user.created",
    data: { item: { type: "conversation", id: "147" } },
  }),
  signatureHeader: "x-hub-signature",
  headers: ({ secret }, payload) => ({ "x-hub-signature": `sha1=${hmacOf("sha1", secret, payload, "hex")}` }),
  expected: { event_id: "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3", event_type: "conversation.user.created" },
});

const vercel = bodyFixture("vercel", {
  secrets: ["vercel-webhook-secret-current", "vercel-webhook-secret-previous"],
  body: JSON.stringify({ id: "uev_9X7a7k1n2J3mV1s9oP0qR2tU", type: "deployment.succeeded", createdAt: 1_750_000_000_000, payload: {} }),
  signatureHeader: "x-vercel-signature",
  headers: ({ secret }, payload) => ({ "x-vercel-signature": hmacOf("sha1", secret, payload, "hex") }),
  expected: { event_id: "uev_9X7a7k1n2J3mV1s9oP0qR2tU", event_type: "deployment.succeeded" },
});

const zoom = bodyFixture("zoom", {
  secrets: ["zoom-secret-token-current", "zoom-secret-token-previous"],
  body: JSON.stringify({ event: "meeting.started", event_ts: 1_750_000_000_000, payload: { account_id: "AAAAAABBBB", object: { id: "1234567890" } } }),
  signatureHeader: "x-zm-signature",
  headers: ({ secret, timestamp }, payload) => ({
    "x-zm-signature": `v0=${hmacOf("sha256", secret, `v0:${timestamp}:${payload}`, "hex")}`,
    "x-zm-request-timestamp": String(timestamp),
  }),
  expected: { event_type: "meeting.started" },
  tolerance_seconds: 300,
});

const gitlab: TemplateFixture = {
  template: "gitlab",
  secrets: ["glpat-like-webhook-token-current", "glpat-like-webhook-token-previous"],
  async sign({ secret }) {
    return request(JSON.stringify({ object_kind: "push", ref: "refs/heads/main", checkout_sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7" }), {
      ...JSON_TYPE,
      "x-gitlab-token": secret,
      "x-gitlab-event": "Push Hook",
      "x-gitlab-event-uuid": "13792a34-cac6-4fda-95a8-c58e00a3954e",
      "idempotency-key": "f5e5f430-f57b-4e6e-9fac-d9128cd7232f",
    });
  },
  expected: { event_id: "f5e5f430-f57b-4e6e-9fac-d9128cd7232f", event_type: "Push Hook" },
  unsign: withoutHeader("x-gitlab-token"),
  tamper: null,
  wrong_secret_reason: "unauthorized",
};

const woocommerce = bodyFixture("woocommerce", {
  secrets: ["wc-webhook-secret-current", "wc-webhook-secret-previous"],
  body: JSON.stringify({ id: 727, status: "processing", currency: "USD", total: "29.35" }),
  signatureHeader: "x-wc-webhook-signature",
  headers: ({ secret }, payload) => ({
    "x-wc-webhook-signature": hmacOf("sha256", secret, payload, "base64"),
    "x-wc-webhook-delivery-id": "9f3a1c0e2b7d4e5f8a6b",
    "x-wc-webhook-topic": "order.created",
    "x-wc-webhook-id": "12",
  }),
  expected: { event_id: "9f3a1c0e2b7d4e5f8a6b", event_type: "order.created" },
});

const paystack = bodyFixture("paystack", {
  secrets: ["sk_test_current0123456789abcdef0123456789", "sk_test_previous0123456789abcdef012345678"],
  body: JSON.stringify({ event: "charge.success", data: { id: 302961, reference: "qTPrJoy9Bx", amount: 10000, status: "success" } }),
  signatureHeader: "x-paystack-signature",
  headers: ({ secret }, payload) => ({ "x-paystack-signature": hmacOf("sha512", secret, payload, "hex") }),
  expected: { event_type: "charge.success" },
});

export const TEMPLATE_FIXTURES: Readonly<Record<TemplateId, TemplateFixture>> = {
  stripe,
  github,
  shopify,
  slack,
  twilio,
  standard_webhooks: standardWebhooks,
  svix,
  clerk,
  resend,
  linear,
  paddle,
  typeform,
  pagerduty,
  square,
  mailgun,
  intercom,
  vercel,
  zoom,
  gitlab,
  woocommerce,
  paystack,
};

