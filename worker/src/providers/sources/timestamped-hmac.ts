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
  parseUnixSeconds,
  secretsSchema,
  SIGNATURE_ENCODINGS,
  toleranceSchema,
} from "./common.js";
import { fail, type SourceVerifier } from "./types.js";

const BODY = "{body}";
const TIMESTAMP = "{timestamp}";

/**
 * HMAC over a timestamp and the body, with a freshness check: Stripe (`t=…,v1=…` over
 * `{t}.{body}`), Paddle (`ts=…;h1=…` over `{ts}:{body}`), Slack and Zoom (`v0=…` over
 * `v0:{ts}:{body}`, the timestamp in its own header).
 */
export const timestampedHmacConfigSchema = z
  .strictObject({
    secrets: secretsSchema,
    algorithm: z.enum(HMAC_ALGORITHMS).default("sha256"),
    encoding: z.enum(SIGNATURE_ENCODINGS).default("hex"),
    header: headerNameSchema,
    /** The header is a `key=value` list and signatures sit under this key (Stripe `v1`, Paddle `h1`); repeated keys are all tried. */
    signature_param: z.string().min(1).max(32).optional(),
    pair_separator: z.enum([",", ";"]).default(","),
    /** Without `signature_param` the whole header is one signature behind this prefix (Slack `v0=`). */
    prefix: z.string().max(64).default(""),
    /** The timestamp is a key of the list (Stripe `t`, Paddle `ts`)… */
    timestamp_param: z.string().min(1).max(32).optional(),
    /** …or a header of its own (Slack `x-slack-request-timestamp`). */
    timestamp_header: headerNameSchema.optional(),
    /** What is signed: `{timestamp}` is the timestamp as sent, `{body}` the raw body and comes last. */
    signed_payload: z
      .string()
      .max(256)
      .refine(
        (t) => t.endsWith(BODY) && t.split(BODY).length === 2 && t.split(TIMESTAMP).length === 2,
        "must contain {timestamp} once and end with {body}",
      ),
    tolerance_seconds: toleranceSchema.default(300),
  })
  .superRefine((config, ctx) => {
    if ((config.timestamp_param === undefined) === (config.timestamp_header === undefined)) {
      ctx.addIssue({ code: "custom", message: "set exactly one of timestamp_param and timestamp_header", path: ["timestamp_param"] });
    }
    if (config.timestamp_param !== undefined && config.signature_param === undefined) {
      ctx.addIssue({ code: "custom", message: "timestamp_param needs signature_param", path: ["signature_param"] });
    }
  });
export type TimestampedHmacConfig = z.infer<typeof timestampedHmacConfigSchema>;

function parsePairs(value: string, separator: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const part of value.split(separator)) {
    const eq = part.indexOf("=");
    if (eq > 0) pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return pairs;
}

export const timestampedHmacVerifier: SourceVerifier<TimestampedHmacConfig> = {
  scheme: "timestamped_hmac",
  configSchema: timestampedHmacConfigSchema,
  async verify(req, config, ctx) {
    const value = headerValue(req, config.header);
    if (value === undefined) return missingHeader(config.header);

    let signatures: string[];
    let timestamp: string | undefined;
    if (config.signature_param !== undefined) {
      const pairs = parsePairs(value, config.pair_separator);
      signatures = pairs.filter(([k]) => k === config.signature_param).map(([, v]) => v);
      if (signatures.length === 0) return fail("malformed", `${config.header} has no ${config.signature_param}= signature`);
      if (config.timestamp_param !== undefined) {
        timestamp = pairs.find(([k]) => k === config.timestamp_param)?.[1];
        if (timestamp === undefined) return fail("malformed", `${config.header} has no ${config.timestamp_param}= timestamp`);
      }
    } else {
      const trimmed = value.trim();
      if (!trimmed.toLowerCase().startsWith(config.prefix.toLowerCase())) {
        return fail("malformed", `${config.header} does not start with "${config.prefix}"`);
      }
      signatures = [trimmed.slice(config.prefix.length)];
    }
    if (config.timestamp_header !== undefined) {
      timestamp = headerValue(req, config.timestamp_header);
      if (timestamp === undefined) return missingHeader(config.timestamp_header);
    }

    const seconds = parseUnixSeconds(timestamp);
    if (seconds === null || timestamp === undefined) return fail("malformed", "timestamp is not in unix seconds");
    const candidates = signatures.map((s) => decodeSignature(s, config.encoding)).filter((c) => c !== null);
    if (candidates.length === 0) return fail("malformed", `${config.header} is not ${config.encoding}`);

    const head = config.signed_payload.slice(0, -BODY.length).replace(TIMESTAMP, timestamp.trim());
    const message = concatBytes(utf8(head), req.body);
    if (!(await anySecretSigns(config.algorithm, config.secrets, message, candidates))) return noMatch(config.header);

    return checkTolerance(seconds, config.tolerance_seconds, ctx) ?? { ok: true };
  },
};
