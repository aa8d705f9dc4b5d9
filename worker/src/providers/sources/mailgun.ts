import { z } from "zod";
import { utf8 } from "../../lib/encoding.js";
import {
  anySecretSigns,
  checkTolerance,
  decodeSignature,
  noMatch,
  parseUnixSeconds,
  secretsSchema,
  toleranceSchema,
} from "./common.js";
import { contentType, jsonPath, viewOf } from "./request-fields.js";
import { fail, type SourceVerifier, type VerifyRequest } from "./types.js";

/**
 * Mailgun (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks):
 * the signature travels inside the body, as `signature.{timestamp,token,signature}` in JSON
 * webhooks or as `timestamp`, `token`, `signature` form fields (legacy webhooks, routes), and is
 * the hex HMAC-SHA256 of timestamp + token. The rest of the body is not covered: dedup on the
 * event id and a tolerance are what stop a captured signature from being reused.
 */
export const mailgunConfigSchema = z.strictObject({
  /** HTTP webhook signing keys. */
  secrets: secretsSchema,
  /** Mailgun calls the timestamp check optional; 0 (the default) leaves it off so its retries are never refused. */
  tolerance_seconds: toleranceSchema.default(0),
});
export type MailgunConfig = z.infer<typeof mailgunConfigSchema>;

interface SignatureFields {
  timestamp: string | undefined;
  token: string | undefined;
  signature: string | undefined;
}

function asText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

async function signatureFields(req: VerifyRequest): Promise<SignatureFields | null> {
  const type = contentType(req);
  if (type === "multipart/form-data") {
    try {
      const form = await new Response(req.body, { headers: { "content-type": req.headers["content-type"] ?? "" } }).formData();
      return { timestamp: asText(form.get("timestamp")), token: asText(form.get("token")), signature: asText(form.get("signature")) };
    } catch {
      return null;
    }
  }
  const view = viewOf(req);
  const form = view.form();
  if (form) {
    return { timestamp: form.get("timestamp") ?? undefined, token: form.get("token") ?? undefined, signature: form.get("signature") ?? undefined };
  }
  const json = view.json();
  if (json === undefined) return null;
  return {
    timestamp: asText(jsonPath(json, "signature.timestamp")),
    token: asText(jsonPath(json, "signature.token")),
    signature: asText(jsonPath(json, "signature.signature")),
  };
}

export const mailgunVerifier: SourceVerifier<MailgunConfig> = {
  scheme: "mailgun",
  configSchema: mailgunConfigSchema,
  async verify(req, config, ctx) {
    const fields = await signatureFields(req);
    if (fields === null) return fail("malformed", "body is neither JSON nor a form");
    const { timestamp, token, signature } = fields;
    if (!timestamp || !token || !signature) return fail("missing_signature", "body has no signature timestamp, token and signature");

    const seconds = parseUnixSeconds(timestamp);
    if (seconds === null) return fail("malformed", "signature timestamp is not in unix seconds");
    const candidate = decodeSignature(signature, "hex");
    if (candidate === null) return fail("malformed", "signature is not hex");

    if (!(await anySecretSigns("sha256", config.secrets, utf8(timestamp + token), [candidate]))) return noMatch("signature");
    return checkTolerance(seconds, config.tolerance_seconds, ctx) ?? { ok: true };
  },
};
