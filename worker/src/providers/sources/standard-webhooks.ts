import { z } from "zod";
import { fromBase64, utf8 } from "../../lib/encoding.js";
import {
  anySecretSigns,
  checkTolerance,
  concatBytes,
  decodeSignature,
  headerValue,
  missingHeader,
  noMatch,
  parseUnixSeconds,
  secretsSchema,
  toleranceSchema,
} from "./common.js";
import { fail, type SourceVerifier } from "./types.js";

const SECRET_PREFIX = "whsec_";

/** The HMAC key of a `whsec_…` secret (the prefix is optional, as in the reference libraries), or null. */
export function standardWebhookKey(secret: string): Uint8Array | null {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return null;
  try {
    const key = fromBase64(b64);
    return key.length > 0 ? key : null;
  } catch {
    return null;
  }
}

/**
 * Standard Webhooks (https://www.standardwebhooks.com): HMAC-SHA256 over `{id}.{timestamp}.{body}`,
 * space-separated `v1,<base64>` signatures. Svix signs the same way under `svix-*` header names
 * (Clerk, Resend, …); both families are accepted.
 */
export const standardWebhooksConfigSchema = z.strictObject({
  secrets: secretsSchema.refine(
    (secrets) => secrets.every((s) => standardWebhookKey(s) !== null),
    "each secret must be whsec_ followed by base64",
  ),
  tolerance_seconds: toleranceSchema.default(300),
});
export type StandardWebhooksConfig = z.infer<typeof standardWebhooksConfigSchema>;

const HEADER_FAMILIES = ["webhook", "svix"] as const;

export const standardWebhooksVerifier: SourceVerifier<StandardWebhooksConfig> = {
  scheme: "standard_webhooks",
  configSchema: standardWebhooksConfigSchema,
  async verify(req, config, ctx) {
    const family = HEADER_FAMILIES.find((f) => headerValue(req, `${f}-signature`) !== undefined) ?? "webhook";
    const signatureHeader = `${family}-signature`;
    const id = headerValue(req, `${family}-id`);
    const timestamp = headerValue(req, `${family}-timestamp`);
    const signature = headerValue(req, signatureHeader);
    if (signature === undefined) return missingHeader(signatureHeader);
    if (id === undefined) return missingHeader(`${family}-id`);
    if (timestamp === undefined) return missingHeader(`${family}-timestamp`);

    const seconds = parseUnixSeconds(timestamp);
    if (seconds === null) return fail("malformed", `${family}-timestamp is not in unix seconds`);

    // Other versions (v1a is asymmetric) are skipped, as the reference libraries do.
    const candidates: Uint8Array[] = [];
    for (const entry of signature.split(" ")) {
      const comma = entry.indexOf(",");
      if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
      const decoded = decodeSignature(entry.slice(comma + 1), "base64");
      if (decoded) candidates.push(decoded);
    }
    if (candidates.length === 0) return fail("malformed", `${signatureHeader} has no v1,<base64> entry`);

    const keys = config.secrets.map(standardWebhookKey).filter((k) => k !== null);
    const message = concatBytes(utf8(`${id}.${timestamp}.`), req.body);
    if (!(await anySecretSigns("sha256", keys, message, candidates))) return noMatch(signatureHeader);

    const stale = checkTolerance(seconds, config.tolerance_seconds, ctx);
    if (stale) return stale;
    return id.length <= 512 ? { ok: true, event_id: id } : { ok: true };
  },
};
