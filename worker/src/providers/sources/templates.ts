import type { z } from "zod";
import type { basicAuthConfigSchema } from "./basic-auth.js";
import type { headerTokenConfigSchema } from "./header-token.js";
import type { hmacConfigSchema } from "./hmac.js";
import type { mailgunConfigSchema } from "./mailgun.js";
import type { FieldRef } from "./request-fields.js";
import type { standardWebhooksConfigSchema } from "./standard-webhooks.js";
import type { timestampedHmacConfigSchema } from "./timestamped-hmac.js";
import type { twilioConfigSchema } from "./twilio.js";
import type { SchemeId } from "./types.js";

interface SchemeInput {
  hmac: z.input<typeof hmacConfigSchema>;
  timestamped_hmac: z.input<typeof timestampedHmacConfigSchema>;
  standard_webhooks: z.input<typeof standardWebhooksConfigSchema>;
  basic_auth: z.input<typeof basicAuthConfigSchema>;
  header_token: z.input<typeof headerTokenConfigSchema>;
  twilio: z.input<typeof twilioConfigSchema>;
  mailgun: z.input<typeof mailgunConfigSchema>;
}

export interface TemplateField {
  name: string;
  description: string;
}

interface TemplateOf<S extends SchemeId> {
  name: string;
  scheme: S;
  /** The scheme config the template fills in; the user adds the secret and may override the rest. */
  defaults: Omit<SchemeInput[S], "secrets">;
  /** What the secret is called on the provider's side and where to find it. */
  secret: string;
  optional_fields: readonly TemplateField[];
  /** Tried in order; the first present value wins. */
  event_id: readonly FieldRef[];
  event_type: readonly FieldRef[];
  docs_url: string;
}

export type SourceTemplate = { [S in SchemeId]: TemplateOf<S> }[SchemeId];

export const TEMPLATE_IDS = [
  "stripe",
  "github",
  "shopify",
  "slack",
  "twilio",
  "standard_webhooks",
  "svix",
  "clerk",
  "resend",
  "linear",
  "paddle",
  "typeform",
  "pagerduty",
  "square",
  "mailgun",
  "intercom",
  "vercel",
  "zoom",
  "gitlab",
  "woocommerce",
  "paystack",
] as const;
export type TemplateId = (typeof TEMPLATE_IDS)[number];

const tolerance = (seconds: number): TemplateField => ({
  name: "tolerance_seconds",
  description: `How far the signed timestamp may be from now (default ${seconds}; 0 turns the check off).`,
});

const svixStyle = (name: string, secret: string, docs_url: string): TemplateOf<"standard_webhooks"> => ({
  name,
  scheme: "standard_webhooks",
  defaults: { tolerance_seconds: 300 },
  secret,
  optional_fields: [tolerance(300)],
  event_id: [{ header: "svix-id" }, { header: "webhook-id" }],
  event_type: [{ json: "type" }],
  docs_url,
});

export const SOURCE_TEMPLATES: Readonly<Record<TemplateId, SourceTemplate>> = {
  stripe: {
    name: "Stripe",
    scheme: "timestamped_hmac",
    defaults: {
      header: "stripe-signature",
      signature_param: "v1",
      pair_separator: ",",
      timestamp_param: "t",
      signed_payload: "{timestamp}.{body}",
      tolerance_seconds: 300,
    },
    secret: "The endpoint's signing secret (whsec_…), shown on its page under Developers → Webhooks.",
    optional_fields: [tolerance(300)],
    event_id: [{ json: "id" }],
    event_type: [{ json: "type" }],
    docs_url: "https://docs.stripe.com/webhooks#verify-manually",
  },
  github: {
    name: "GitHub",
    scheme: "hmac",
    defaults: { header: "x-hub-signature-256", prefix: "sha256=", algorithm: "sha256", encoding: "hex" },
    secret: "The webhook's secret, as entered in its settings.",
    optional_fields: [],
    event_id: [{ header: "x-github-delivery" }],
    event_type: [{ header: "x-github-event" }],
    docs_url: "https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
  },
  shopify: {
    name: "Shopify",
    scheme: "hmac",
    defaults: { header: "x-shopify-hmac-sha256", algorithm: "sha256", encoding: "base64" },
    secret: "The app's client secret (or the store's webhook signing key for webhooks created in the admin).",
    optional_fields: [],
    event_id: [{ header: "x-shopify-webhook-id" }],
    event_type: [{ header: "x-shopify-topic" }],
    docs_url: "https://shopify.dev/docs/apps/build/webhooks/subscribe/https",
  },
  slack: {
    name: "Slack",
    scheme: "timestamped_hmac",
    defaults: {
      header: "x-slack-signature",
      prefix: "v0=",
      timestamp_header: "x-slack-request-timestamp",
      signed_payload: "v0:{timestamp}:{body}",
      tolerance_seconds: 300,
    },
    secret: "The app's signing secret (Basic Information → App Credentials).",
    optional_fields: [tolerance(300)],
    event_id: [{ json: "event_id" }],
    event_type: [{ json: "event.type" }, { json: "type" }, { form: "command" }],
    docs_url: "https://docs.slack.dev/authentication/verifying-requests-from-slack",
  },
  twilio: {
    name: "Twilio",
    scheme: "twilio",
    defaults: {},
    secret: "The account's auth token (add the secondary token as a second secret while rotating).",
    optional_fields: [
      { name: "public_origin", description: "Scheme and host Twilio was given, when a proxy makes requests arrive under another one." },
    ],
    event_id: [{ header: "i-twilio-idempotency-token" }],
    event_type: [],
    docs_url: "https://www.twilio.com/docs/usage/webhooks/webhooks-security",
  },
  standard_webhooks: {
    name: "Standard Webhooks",
    scheme: "standard_webhooks",
    defaults: { tolerance_seconds: 300 },
    secret: "The endpoint's signing secret (whsec_ followed by base64).",
    optional_fields: [tolerance(300)],
    event_id: [{ header: "webhook-id" }, { header: "svix-id" }],
    event_type: [{ json: "type" }],
    docs_url: "https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md",
  },
  svix: svixStyle("Svix", "The endpoint's signing secret (whsec_…).", "https://docs.svix.com/receiving/verifying-payloads/how-manual"),
  clerk: svixStyle("Clerk", "The endpoint's signing secret (whsec_…) from Configure → Webhooks.", "https://clerk.com/docs/webhooks/overview"),
  resend: svixStyle("Resend", "The webhook's signing secret (whsec_…).", "https://resend.com/docs/dashboard/webhooks/verify-webhooks-requests"),
  linear: {
    name: "Linear",
    scheme: "hmac",
    defaults: {
      header: "linear-signature",
      algorithm: "sha256",
      encoding: "hex",
      body_timestamp: { path: "webhookTimestamp", unit: "ms", tolerance_seconds: 60 },
    },
    secret: "The webhook's signing secret, shown on its page in Settings → API.",
    optional_fields: [],
    event_id: [{ header: "linear-delivery" }],
    event_type: [{ header: "linear-event" }, { json: "type" }],
    docs_url: "https://linear.app/developers/webhooks#securing-webhooks",
  },
  paddle: {
    name: "Paddle",
    scheme: "timestamped_hmac",
    defaults: {
      header: "paddle-signature",
      signature_param: "h1",
      pair_separator: ";",
      timestamp_param: "ts",
      signed_payload: "{timestamp}:{body}",
      // Paddle's own SDK refuses events older than 5 s.
      tolerance_seconds: 5,
    },
    secret: "The notification destination's secret key (pdl_ntfset_…).",
    optional_fields: [tolerance(5)],
    event_id: [{ json: "event_id" }],
    event_type: [{ json: "event_type" }],
    docs_url: "https://developer.paddle.com/webhooks/signature-verification",
  },
  typeform: {
    name: "Typeform",
    scheme: "hmac",
    defaults: { header: "typeform-signature", prefix: "sha256=", algorithm: "sha256", encoding: "base64" },
    secret: "The secret set on the form's webhook.",
    optional_fields: [],
    event_id: [{ json: "event_id" }],
    event_type: [{ json: "event_type" }],
    docs_url: "https://www.typeform.com/developers/webhooks/secure-your-webhooks/",
  },
  pagerduty: {
    name: "PagerDuty",
    scheme: "hmac",
    defaults: { header: "x-pagerduty-signature", prefix: "v1=", separator: ",", algorithm: "sha256", encoding: "hex" },
    secret: "The webhook subscription's signing secret.",
    optional_fields: [],
    event_id: [{ json: "event.id" }],
    event_type: [{ json: "event.event_type" }],
    docs_url: "https://developer.pagerduty.com/docs/webhooks/webhook-signatures",
  },
  square: {
    name: "Square",
    scheme: "hmac",
    defaults: { header: "x-square-hmacsha256-signature", algorithm: "sha256", encoding: "base64", signed_content: "url_and_body" },
    secret: "The webhook subscription's signature key.",
    optional_fields: [
      { name: "url", description: "The notification URL exactly as entered at Square, when it differs from the URL requests arrive at." },
    ],
    event_id: [{ json: "event_id" }],
    event_type: [{ json: "type" }],
    docs_url: "https://developer.squareup.com/docs/webhooks/step3validate",
  },
  mailgun: {
    name: "Mailgun",
    scheme: "mailgun",
    defaults: { tolerance_seconds: 0 },
    secret: "The HTTP webhook signing key (Sending → Webhooks).",
    optional_fields: [tolerance(0)],
    event_id: [{ json: "event-data.id" }, { json: "signature.token" }, { form: "token" }],
    event_type: [{ json: "event-data.event" }, { form: "event" }],
    docs_url: "https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks",
  },
  intercom: {
    name: "Intercom",
    scheme: "hmac",
    defaults: { header: "x-hub-signature", prefix: "sha1=", algorithm: "sha1", encoding: "hex" },
    secret: "The app's client secret (Developer Hub → Basic information).",
    optional_fields: [],
    event_id: [{ json: "id" }],
    event_type: [{ json: "topic" }],
    docs_url: "https://developers.intercom.com/docs/webhooks/setting-up-webhooks",
  },
  vercel: {
    name: "Vercel",
    scheme: "hmac",
    defaults: { header: "x-vercel-signature", algorithm: "sha1", encoding: "hex" },
    secret: "The webhook's secret (or the integration's client secret).",
    optional_fields: [],
    event_id: [{ json: "id" }],
    event_type: [{ json: "type" }],
    docs_url: "https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks",
  },
  zoom: {
    name: "Zoom",
    scheme: "timestamped_hmac",
    defaults: {
      header: "x-zm-signature",
      prefix: "v0=",
      timestamp_header: "x-zm-request-timestamp",
      signed_payload: "v0:{timestamp}:{body}",
      tolerance_seconds: 300,
    },
    secret: "The app's webhook secret token (Features → Access).",
    optional_fields: [tolerance(300)],
    event_id: [],
    event_type: [{ json: "event" }],
    docs_url: "https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events",
  },
  gitlab: {
    name: "GitLab",
    scheme: "header_token",
    defaults: { header: "x-gitlab-token" },
    secret: "The webhook's secret token.",
    optional_fields: [],
    event_id: [{ header: "idempotency-key" }, { header: "x-gitlab-event-uuid" }],
    event_type: [{ header: "x-gitlab-event" }],
    docs_url: "https://docs.gitlab.com/user/project/integrations/webhooks/",
  },
  woocommerce: {
    name: "WooCommerce",
    scheme: "hmac",
    defaults: { header: "x-wc-webhook-signature", algorithm: "sha256", encoding: "base64" },
    secret: "The webhook's secret (WooCommerce → Settings → Advanced → Webhooks).",
    optional_fields: [],
    event_id: [{ header: "x-wc-webhook-delivery-id" }],
    event_type: [{ header: "x-wc-webhook-topic" }],
    docs_url: "https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks",
  },
  paystack: {
    name: "Paystack",
    scheme: "hmac",
    defaults: { header: "x-paystack-signature", algorithm: "sha512", encoding: "hex" },
    secret: "The account's secret key (sk_live_… or sk_test_…).",
    optional_fields: [],
    event_id: [],
    event_type: [{ json: "event" }],
    docs_url: "https://paystack.com/docs/payments/webhooks/#verify-event-origin",
  },
};
