import { z } from "zod";
import { timingSafeEqual } from "../../lib/crypto.js";
import { fromBase64, toHex, utf8 } from "../../lib/encoding.js";
import { fail, type VerifyContext, type VerifyFailure, type VerifyRequest } from "./types.js";

export const HMAC_ALGORITHMS = ["sha1", "sha256", "sha512"] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];

export const SIGNATURE_ENCODINGS = ["hex", "base64"] as const;
export type SignatureEncoding = (typeof SIGNATURE_ENCODINGS)[number];

const HASH_NAME: Record<HmacAlgorithm, string> = { sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" };

export const MAX_SECRETS = 10;
export const MAX_TOLERANCE_SECONDS = 7 * 86_400;

/** Several secrets at once so a rotation never drops a request: any of them may match. */
export const secretsSchema = z
  .array(z.string().min(1, "must not be empty").max(4096))
  .min(1, "at least one secret is required")
  .max(MAX_SECRETS, `at most ${MAX_SECRETS} secrets`);

/** Request headers reach the verifiers lower-cased, so configured names are lower-cased once here. */
export const headerNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "invalid header name")
  .max(256)
  .transform((name) => name.toLowerCase());

/** 0 turns the timestamp check off. */
export const toleranceSchema = z.int().min(0).max(MAX_TOLERANCE_SECONDS);

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const KEY_CACHE_MAX = 1024;
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(algorithm: HmacAlgorithm, secret: string | Uint8Array): Promise<CryptoKey> {
  const id = `${algorithm}:${typeof secret === "string" ? `s:${secret}` : `b:${toHex(secret)}`}`;
  let key = keyCache.get(id);
  if (!key) {
    const raw = typeof secret === "string" ? utf8(secret) : secret;
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: HASH_NAME[algorithm] }, false, ["sign"]);
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(id, key);
    key.catch(() => keyCache.delete(id));
  }
  return key;
}

export async function hmac(algorithm: HmacAlgorithm, secret: string | Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(algorithm, secret), message));
}

export async function sha256Bytes(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Hex (either case) or base64 (standard or URL-safe, padding optional); null when it is neither. */
export function decodeSignature(text: string, encoding: SignatureEncoding): Uint8Array | null {
  const value = text.trim();
  if (encoding === "hex") {
    if (!HEX.test(value)) return null;
    const out = new Uint8Array(value.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(value.slice(i * 2, i * 2 + 2), 16);
    return out;
  }
  if (!BASE64.test(value) || value.replace(/=+$/, "").length % 4 === 1) return null;
  try {
    return fromBase64(value.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
}

/**
 * Constant time per comparison, and every candidate is compared: how long it takes says
 * nothing about how close a forged signature came.
 */
export function matchesAny(expected: Uint8Array, candidates: readonly Uint8Array[]): boolean {
  const want = toHex(expected);
  let found = false;
  for (const candidate of candidates) {
    if (timingSafeEqual(want, toHex(candidate))) found = true;
  }
  return found;
}

/** HMACs `message` with each secret in turn; true when any secret produces any candidate. */
export async function anySecretSigns(
  algorithm: HmacAlgorithm,
  secrets: readonly (string | Uint8Array)[],
  message: Uint8Array,
  candidates: readonly Uint8Array[],
): Promise<boolean> {
  if (candidates.length === 0) return false;
  for (const secret of secrets) {
    if (matchesAny(await hmac(algorithm, secret, message), candidates)) return true;
  }
  return false;
}

/**
 * Compares a presented token or password with the configured ones through their SHA-256,
 * so neither the content nor the length of a secret shows in the timing.
 */
export async function anySecretEquals(presented: string, secrets: readonly string[]): Promise<boolean> {
  const digest = await sha256Bytes(utf8(presented));
  let found = false;
  for (const secret of secrets) {
    if (matchesAny(await sha256Bytes(utf8(secret)), [digest])) found = true;
  }
  return found;
}

/** Unix seconds as decimal digits, nothing else. */
export function parseUnixSeconds(text: string | undefined): number | null {
  if (text === undefined) return null;
  const value = text.trim();
  if (!/^\d{1,12}$/.test(value)) return null;
  return Number(value);
}

/** Both directions: a timestamp far in the future is as suspicious as an old one. */
export function checkTolerance(timestampSeconds: number, toleranceSeconds: number, ctx: VerifyContext): VerifyFailure | null {
  if (toleranceSeconds === 0) return null;
  const age = Math.floor(ctx.now() / 1000) - timestampSeconds;
  if (Math.abs(age) <= toleranceSeconds) return null;
  const when = age > 0 ? `${age} s old` : `${-age} s in the future`;
  return fail("stale_timestamp", `timestamp is ${when}; tolerance is ${toleranceSeconds} s`);
}

/** A header's value, or undefined when absent or blank; configured names never reach the prototype. */
export function headerValue(req: VerifyRequest, name: string): string | undefined {
  if (!Object.hasOwn(req.headers, name)) return undefined;
  const value = req.headers[name];
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

export function missingHeader(name: string): VerifyFailure {
  return fail("missing_signature", `missing ${name} header`);
}

export function noMatch(where: string): VerifyFailure {
  return fail("invalid_signature", `${where} does not match the request for any configured secret`);
}
