// AWS S3: PutObject, path-style (`{endpoint}/{bucket}/{key}`), key from a template.
import { z } from "zod";
import { AWS_SECRET_FIELDS, awsCredentialFields, awsVerdict, sendSigned } from "./aws.js";
import { eventMetadata, renderTemplate, template } from "./sink.js";
import type { DestinationProvider } from "./types.js";

export const s3ConfigSchema = z.strictObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name"),
  ...awsCredentialFields,
  key_template: template(1024).default("{source}/{yyyy}/{mm}/{dd}/{event_id}.json"),
  /** Default: the event's own content type, else application/json. */
  content_type: z.string().max(256).optional(),
  storage_class: z.enum(["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]).optional(),
});
export type S3Config = z.output<typeof s3ConfigSchema>;

function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

export const s3Destination: DestinationProvider<S3Config> = {
  type: "s3",
  configSchema: s3ConfigSchema,
  secretFields: AWS_SECRET_FIELDS,

  async deliver(payload, config, ctx) {
    const endpoint = (config.endpoint ?? `https://s3.${config.region}.amazonaws.com`).replace(/\/$/, "");
    const key = renderTemplate(config.key_template, payload, ctx.now()).replace(/^\/+/, "");
    const headers: Record<string, string> = { "content-type": config.content_type ?? payload.content_type ?? "application/json" };
    for (const [name, value] of Object.entries(eventMetadata(payload))) headers[`x-amz-meta-${name}`] = value;
    if (config.storage_class !== undefined) headers["x-amz-storage-class"] = config.storage_class;
    return sendSigned(
      ctx,
      config,
      "s3",
      { url: `${endpoint}/${config.bucket}/${encodeKey(key)}`, method: "PUT", headers, body: payload.body },
      (status, body, h) => (status === 200 ? { kind: "delivered" } : awsVerdict("S3", status, body, h)),
    );
  },
};
