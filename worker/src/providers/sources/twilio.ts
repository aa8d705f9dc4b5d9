import { z } from "zod";
import { utf8 } from "../../lib/encoding.js";
import {
  anySecretSigns,
  decodeSignature,
  headerValue,
  matchesAny,
  missingHeader,
  noMatch,
  secretsSchema,
  sha256Bytes,
} from "./common.js";
import { isForm, viewOf } from "./request-fields.js";
import { fail, type SourceVerifier, type VerifyRequest } from "./types.js";

const HEADER = "x-twilio-signature";

/**
 * Twilio (https://www.twilio.com/docs/usage/webhooks/webhooks-security): base64 HMAC-SHA1 with
 * the auth token over the full URL followed by the POSTed form parameters sorted by name, each
 * as name + value. JSON bodies are signed through the URL alone, which then carries the
 * body's SHA-256 in `bodySHA256`.
 */
export const twilioConfigSchema = z.strictObject({
  /** Auth tokens: the primary and, while rotating, the secondary. */
  secrets: secretsSchema,
  /**
   * The scheme and host Twilio was configured with, when a proxy in front makes requests arrive
   * under another one (e.g. `https://hooks.example.com`); path and query are kept as received.
   */
  public_origin: z
    .url({ protocol: /^https?$/ })
    .max(512)
    .refine((u) => /^https?:\/\/[^/?#]+\/?$/.test(u), "must be scheme and host only")
    .optional(),
});
export type TwilioConfig = z.infer<typeof twilioConfigSchema>;

const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i;

function withOrigin(url: string, origin: string | undefined): string {
  if (origin === undefined) return url;
  const parts = URL_PARTS.exec(url);
  return parts ? origin.replace(/\/$/, "") + (parts[3] ?? "") : url;
}

/** Twilio signs the URL as configured, with or without the default port; the SDKs try both spellings. */
function urlSpellings(url: string): string[] {
  const parts = URL_PARTS.exec(url);
  if (!parts) return [url];
  const [, scheme = "", authority = "", rest = ""] = parts;
  const portStart = authority.indexOf(":", authority.lastIndexOf("]") + 1);
  const host = portStart === -1 ? authority : authority.slice(0, portStart);
  const defaultPort = scheme.toLowerCase() === "https://" ? ":443" : ":80";
  return [...new Set([url, scheme + host + rest, portStart === -1 ? scheme + host + defaultPort + rest : url])];
}

function signedParams(req: VerifyRequest): string {
  const form = isForm(req) && req.method.toUpperCase() !== "GET" ? viewOf(req).form() : undefined;
  if (!form) return "";
  const byName = new Map<string, Set<string>>();
  for (const [name, value] of form) {
    let values = byName.get(name);
    if (!values) byName.set(name, (values = new Set()));
    values.add(value);
  }
  let out = "";
  for (const name of [...byName.keys()].sort()) {
    for (const value of [...(byName.get(name) ?? [])].sort()) out += name + value;
  }
  return out;
}

function bodyHashParam(url: string): string | null {
  try {
    return new URL(url).searchParams.get("bodySHA256");
  } catch {
    return null;
  }
}

export const twilioVerifier: SourceVerifier<TwilioConfig> = {
  scheme: "twilio",
  configSchema: twilioConfigSchema,
  async verify(req, config) {
    const header = headerValue(req, HEADER);
    if (header === undefined) return missingHeader(HEADER);
    const signature = decodeSignature(header, "base64");
    if (signature === null) return fail("malformed", `${HEADER} is not base64`);

    const url = withOrigin(req.url, config.public_origin);
    const bodyHash = bodyHashParam(url);
    const params = bodyHash === null ? signedParams(req) : "";
    let signed = false;
    for (const candidate of urlSpellings(url)) {
      if (await anySecretSigns("sha1", config.secrets, utf8(candidate + params), [signature])) signed = true;
    }
    if (!signed) return noMatch(HEADER);

    if (bodyHash !== null) {
      const actual = await sha256Bytes(req.body);
      const claimed = decodeSignature(bodyHash, "hex");
      if (claimed === null || !matchesAny(actual, [claimed])) {
        return fail("invalid_signature", "body does not match the bodySHA256 query parameter");
      }
    }
    return { ok: true };
  },
};

