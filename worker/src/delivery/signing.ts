// Standard Webhooks signing (https://www.standardwebhooks.com), web crypto only.
import { fromBase64, toBase64 } from "../lib/encoding.js";

export const SIGNING_SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;
const encoder = new TextEncoder();

export interface StandardWebhookSignInput {
  /** `whsec_` followed by the base64 key. */
  secret: string;
  /** The idempotency id (`webhook-id`); the same for every attempt of one delivery. */
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: Uint8Array | string;
}

export interface StandardWebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

function base64ToBytes(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    return fromBase64(text);
  } catch {
    return null;
  }
}

/** The raw HMAC key of a `whsec_…` secret, or null when the secret is malformed. */
export function decodeSigningSecret(secret: string): Uint8Array | null {
  if (!secret.startsWith(SIGNING_SECRET_PREFIX)) return null;
  return base64ToBytes(secret.slice(SIGNING_SECRET_PREFIX.length));
}

export function generateSigningSecret(): string {
  return SIGNING_SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

export async function signStandardWebhook({ secret, id, timestamp, body }: StandardWebhookSignInput): Promise<string> {
  const keyBytes = decodeSigningSecret(secret);
  // Secrets are validated when the destination is saved, so a bad one here is a bug.
  if (keyBytes === null || keyBytes.length === 0) throw new Error("malformed signing secret");
  if (!Number.isSafeInteger(timestamp)) throw new Error("timestamp must be integer seconds");

  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const bodyBytes = typeof body === "string" ? encoder.encode(body) : body;
  const message = new Uint8Array(prefix.length + bodyBytes.length);
  message.set(prefix, 0);
  message.set(bodyBytes, prefix.length);

  const mac = await crypto.subtle.sign("HMAC", key, message);
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

export async function standardWebhookHeaders(input: StandardWebhookSignInput): Promise<StandardWebhookHeaders> {
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(input.timestamp),
    "webhook-signature": await signStandardWebhook(input),
  };
}
