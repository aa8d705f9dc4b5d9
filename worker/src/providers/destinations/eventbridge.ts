// AWS EventBridge: PutEvents (one entry) on a bus; a 200 with FailedEntryCount > 0 is a failed delivery.
import { z } from "zod";
import { AWS_SECRET_FIELDS, awsCredentialFields, awsVerdict, sendSigned } from "./aws.js";
import { base64, bodyJson, field, parseJson, renderTemplate, template, tooLarge } from "./sink.js";
import type { DestinationProvider } from "./types.js";

export const EVENTBRIDGE_MAX_BYTES = 262_144;
const RETRYABLE_ENTRY_ERRORS = new Set(["ThrottlingException", "InternalFailure", "InternalException"]);

export const eventBridgeConfigSchema = z.strictObject({
  event_bus_name: z.string().min(1).max(1600).default("default"),
  ...awsCredentialFields,
  source_template: template(256)
    .refine((value) => !value.startsWith("aws."), "must not start with aws.")
    .default("hookstream.{source_id}"),
  detail_type_template: template(128).default("{event_type}"),
});
export type EventBridgeConfig = z.output<typeof eventBridgeConfigSchema>;

export const eventBridgeDestination: DestinationProvider<EventBridgeConfig> = {
  type: "eventbridge",
  configSchema: eventBridgeConfigSchema,
  secretFields: AWS_SECRET_FIELDS,

  async deliver(payload, config, ctx) {
    const json = bodyJson(payload);
    // Detail must be a JSON object: a JSON object body goes as is, anything else is wrapped.
    const detail =
      typeof json === "object" && json !== null && !Array.isArray(json)
        ? new TextDecoder().decode(payload.body)
        : JSON.stringify(json === undefined ? { body_base64: base64(payload.body) } : { body: json });
    if (detail.length > EVENTBRIDGE_MAX_BYTES - 1024) return tooLarge("eventbridge", payload.body.byteLength, EVENTBRIDGE_MAX_BYTES - 1024);
    const now = ctx.now();
    const entry = {
      EventBusName: config.event_bus_name,
      Source: renderTemplate(config.source_template, payload, now),
      DetailType: renderTemplate(config.detail_type_template, payload, now),
      Detail: detail,
      Resources: [],
    };
    const endpoint = (config.endpoint ?? `https://events.${config.region}.amazonaws.com`).replace(/\/$/, "");
    return sendSigned(
      ctx,
      config,
      "events",
      {
        url: `${endpoint}/`,
        method: "POST",
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSEvents.PutEvents" },
        body: JSON.stringify({ Entries: [entry] }),
      },
      (status, body, headers) => {
        if (status !== 200) return awsVerdict("EventBridge", status, body, headers);
        const answer = parseJson(body);
        const failed = field(answer, "FailedEntryCount");
        if (failed === 0) return { kind: "delivered" };
        const first = (field(answer, "Entries") as unknown[] | undefined)?.[0];
        const code = String(field(first, "ErrorCode") ?? "unknown");
        const message = String(field(first, "ErrorMessage") ?? "");
        const error = `EventBridge rejected the entry: ${code}${message ? `: ${message}` : ""}`;
        return { kind: RETRYABLE_ENTRY_ERRORS.has(code) ? "retryable" : "permanent", error };
      },
    );
  },
};
