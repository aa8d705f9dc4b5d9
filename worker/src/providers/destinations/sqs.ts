// AWS SQS: SendMessage over the JSON protocol (X-Amz-Target: AmazonSQS.SendMessage).
import { z } from "zod";
import { AWS_SECRET_FIELDS, awsCredentialFields, awsVerdict, sendSigned } from "./aws.js";
import { base64, eventMetadata, renderTemplate, template, tooLarge } from "./sink.js";

function utf8Text(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}
import type { DestinationProvider } from "./types.js";

/** SQS's message size limit (body plus attributes), kept at the classic 256 KiB that every region and moto accept. */
export const SQS_MAX_BYTES = 262_144;

export const sqsConfigSchema = z.strictObject({
  queue_url: z.url({ protocol: /^https?$/, error: "must be an http(s) queue URL" }).max(2048),
  ...awsCredentialFields,
  /** FIFO queues (`.fifo`) only; default: one group per source, so a source's events stay in order. */
  message_group_id_template: template(128).default("{source_id}"),
});
export type SqsConfig = z.output<typeof sqsConfigSchema>;

export const sqsDestination: DestinationProvider<SqsConfig> = {
  type: "sqs",
  configSchema: sqsConfigSchema,
  secretFields: AWS_SECRET_FIELDS,

  async deliver(payload, config, ctx) {
    // MessageBody must be text: a body that is not UTF-8 goes base64, flagged by an attribute.
    const utf8 = utf8Text(payload.body);
    const text = utf8 ?? base64(payload.body);
    if (text.length > SQS_MAX_BYTES - 2048) return tooLarge("sqs", payload.body.byteLength, SQS_MAX_BYTES - 2048);

    const attributes: Record<string, { DataType: string; StringValue: string }> = {};
    for (const [name, value] of Object.entries(eventMetadata(payload))) attributes[name] = { DataType: "String", StringValue: value };
    if (utf8 === null) attributes["hookstream-body-encoding"] = { DataType: "String", StringValue: "base64" };
    const message: Record<string, unknown> = { QueueUrl: config.queue_url, MessageBody: text, MessageAttributes: attributes };
    if (new URL(config.queue_url).pathname.endsWith(".fifo")) {
      message.MessageGroupId = renderTemplate(config.message_group_id_template, payload, ctx.now()).slice(0, 128);
      // Stable across attempts: SQS drops a retry of a send that did land within its 5-minute window.
      message.MessageDeduplicationId = payload.delivery_id;
    }
    const endpoint = config.endpoint ?? new URL(config.queue_url).origin;
    return sendSigned(
      ctx,
      config,
      "sqs",
      {
        url: `${endpoint.replace(/\/$/, "")}/`,
        method: "POST",
        headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage" },
        body: JSON.stringify(message),
      },
      (status, body, headers) => (status === 200 ? { kind: "delivered" } : awsVerdict("SQS", status, body, headers)),
    );
  },
};
