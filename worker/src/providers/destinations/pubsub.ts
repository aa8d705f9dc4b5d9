// GCP Pub/Sub: topics.publish over REST (base64 data, attributes, ordering key), OAuth from a service-account key.
import { z } from "zod";
import { accessToken, DEFAULT_TOKEN_URI, parseServiceAccount, PUBSUB_SCOPE } from "../../lib/gcp-token.js";
import { base64, endpointUrl, eventMetadata, field, localFailure, parseJson, renderTemplate, sendAndJudge, statusVerdict, template, timeoutMs, tooLarge } from "./sink.js";
import type { DestinationProvider } from "./types.js";

export const PUBSUB_MAX_BYTES = 10_000_000;

export const pubsubConfigSchema = z.strictObject({
  project_id: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a GCP project id"),
  topic: z.string().regex(/^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/, "must be a Pub/Sub topic id"),
  /** The JSON key file of a service account; optional only for the emulator (endpoint set). */
  service_account_json: z
    .string()
    .max(16_384)
    .refine((value) => parseServiceAccount(value) !== null, "must be a service account JSON key with client_email and private_key")
    .optional(),
  /** Ordering key template; the topic's subscription must enable message ordering. */
  ordering_key_template: template(1024).optional(),
  endpoint: endpointUrl.optional(),
  /** Overrides the key's token_uri. */
  token_endpoint: endpointUrl.optional(),
  timeout_ms: timeoutMs,
}).refine((c) => c.service_account_json !== undefined || c.endpoint !== undefined, {
  path: ["service_account_json"],
  message: "required unless an emulator endpoint is set",
});
export type PubsubConfig = z.output<typeof pubsubConfigSchema>;

export const pubsubDestination: DestinationProvider<PubsubConfig> = {
  type: "pubsub",
  configSchema: pubsubConfigSchema,
  secretFields: ["service_account_json"],

  async deliver(payload, config, ctx) {
    if (payload.body.byteLength > PUBSUB_MAX_BYTES) return tooLarge("pubsub", payload.body.byteLength, PUBSUB_MAX_BYTES);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (config.service_account_json !== undefined) {
      const key = parseServiceAccount(config.service_account_json);
      if (key === null) return localFailure("permanent", "invalid service account key");
      const token = await accessToken({
        key,
        scope: PUBSUB_SCOPE,
        tokenUri: config.token_endpoint ?? key.token_uri ?? DEFAULT_TOKEN_URI,
        outbound: ctx.outbound,
        now: ctx.now,
        timeout_ms: config.timeout_ms,
      });
      if (!token.ok) return localFailure(token.retryable ? "retryable" : "permanent", token.error);
      headers.authorization = `Bearer ${token.token}`;
    }
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(eventMetadata(payload))) attributes[name.replace(/-/g, "_")] = value;
    if (payload.content_type !== null) attributes.content_type = payload.content_type;
    const message: Record<string, unknown> = { data: base64(payload.body), attributes };
    if (config.ordering_key_template !== undefined) message.orderingKey = renderTemplate(config.ordering_key_template, payload, ctx.now());

    const endpoint = (config.endpoint ?? "https://pubsub.googleapis.com").replace(/\/$/, "");
    return sendAndJudge(
      ctx,
      {
        url: `${endpoint}/v1/projects/${encodeURIComponent(config.project_id)}/topics/${encodeURIComponent(config.topic)}:publish`,
        method: "POST",
        headers,
        body: JSON.stringify({ messages: [message] }),
        timeout_ms: config.timeout_ms,
      },
      (status, body) => {
        if (status === 200) return { kind: "delivered" };
        const err = field(parseJson(body), "error");
        const message = field(err, "message");
        const state = field(err, "status");
        const error = `Pub/Sub ${status}${typeof state === "string" ? ` ${state}` : ""}${typeof message === "string" ? `: ${message}` : ""}`;
        const kind = statusVerdict(status);
        return { kind: kind === "delivered" ? "permanent" : kind, error };
      },
    );
  },
};
