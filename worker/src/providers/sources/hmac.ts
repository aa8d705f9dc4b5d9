import { z } from "zod";
import { utf8 } from "../../lib/encoding.js";
import {
  anySecretSigns,
  checkTolerance,
  concatBytes,
  decodeSignature,
  headerNameSchema,
  headerValue,
  HMAC_ALGORITHMS,
  missingHeader,
  noMatch,
  secretsSchema,
  SIGNATURE_ENCODINGS,
  toleranceSchema,
} from "./common.js";
import { jsonPath, viewOf } from "./request-fields.js";
import { fail, type SourceVerifier } from "./types.js";

/**
 * Generic HMAC over the raw body (GitHub, Shopify, Linear, Typeform, PagerDuty, Intercom,
 * Vercel, WooCommerce, Paystack), or over a URL followed by the body (Square).
 */
export const hmacConfigSchema = z.strictObject({
  secrets: secretsSchema,
  algorithm: z.enum(HMAC_ALGORITHMS).default("sha256"),
  encoding: z.enum(SIGNATURE_ENCODINGS).default("hex"),
  header: headerNameSchema,
  /** Stripped before decoding, e.g. `sha256=` (GitHub) or `v1=` (PagerDuty); matched case-insensitively. */
  prefix: z.string().max(64).default(""),
  /** Splits a header that carries several signatures (PagerDuty sends `v1=…,v1=…` while it rotates). */
  separator: z.string().min(1).max(4).optional(),
  signed_content: z.enum(["body", "url_and_body"]).default("body"),
  /** The URL signed by `url_and_body` (Square's notification URL); defaults to the URL the request arrived at. */
  url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** A timestamp inside the signed JSON body (Linear's `webhookTimestamp`, in ms): refused when it is off by more than the tolerance. */
  body_timestamp: z
    .strictObject({ path: z.string().min(1).max(256), unit: z.enum(["s", "ms"]), tolerance_seconds: toleranceSchema })
    .optional(),
});
export type HmacConfig = z.infer<typeof hmacConfigSchema>;

function signatureEntries(value: string, config: HmacConfig): string[] {
  const parts = config.separator === undefined ? [value] : value.split(config.separator);
  const prefix = config.prefix.toLowerCase();
  const entries: string[] = [];
  for (const part of parts) {
    const entry = part.trim();
    if (entry.toLowerCase().startsWith(prefix)) entries.push(entry.slice(prefix.length));
  }
  return entries;
}

export const hmacVerifier: SourceVerifier<HmacConfig> = {
  scheme: "hmac",
  configSchema: hmacConfigSchema,
  async verify(req, config, ctx) {
    const value = headerValue(req, config.header);
    if (value === undefined) return missingHeader(config.header);

    const entries = signatureEntries(value, config);
    if (entries.length === 0) return fail("malformed", `${config.header} does not start with "${config.prefix}"`);
    const candidates = entries.map((e) => decodeSignature(e, config.encoding)).filter((c) => c !== null);
    if (candidates.length === 0) return fail("malformed", `${config.header} is not ${config.encoding}`);

    const message =
      config.signed_content === "url_and_body" ? concatBytes(utf8(config.url ?? req.url), req.body) : req.body;
    if (!(await anySecretSigns(config.algorithm, config.secrets, message, candidates))) return noMatch(config.header);

    if (config.body_timestamp) {
      const { path, unit, tolerance_seconds } = config.body_timestamp;
      const raw = jsonPath(viewOf(req).json(), path);
      if (typeof raw !== "number" || !Number.isFinite(raw)) return fail("malformed", `body has no numeric ${path}`);
      const stale = checkTolerance(Math.floor(unit === "ms" ? raw / 1000 : raw), tolerance_seconds, ctx);
      if (stale) return stale;
    }
    return { ok: true };
  },
};
