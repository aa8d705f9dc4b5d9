import { fromBase64, toBase64, toHex, utf8 } from "./encoding.js";

export async function sha256Hex(input: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", utf8(input)));
}

/** Constant-time comparison of two strings of equal length (length itself is not secret here). */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = utf8(a);
  const y = utf8(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

export function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return toHex(buf);
}

const keyCache = new Map<string, Promise<CryptoKey>>();

function importKey(keyB64: string): Promise<CryptoKey> {
  let key = keyCache.get(keyB64);
  if (!key) {
    const raw = fromBase64(keyB64);
    if (raw.length !== 32) throw new Error("ENCRYPTION_KEY must be base64 of 32 bytes");
    key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    keyCache.set(keyB64, key);
  }
  return key;
}

/** AES-256-GCM; output `v1.<base64 iv>.<base64 ciphertext+tag>`. */
export async function encryptSecret(keyB64: string, plaintext: string): Promise<string> {
  const iv = new Uint8Array(12);
  crypto.getRandomValues(iv);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await importKey(keyB64), utf8(plaintext));
  return `v1.${toBase64(iv)}.${toBase64(new Uint8Array(ct))}`;
}

export async function decryptSecret(keyB64: string, sealed: string): Promise<string> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== "v1" || !iv || !ct) throw new Error("unknown secret format");
  const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(iv) }, await importKey(keyB64), fromBase64(ct));
  return new TextDecoder().decode(pt);
}

/** `whsec_…f3a9`: enough to recognise a secret, never enough to use it. */
export function maskSecret(value: string): string {
  const underscore = value.indexOf("_");
  const prefix = underscore > 0 && underscore < 8 ? value.slice(0, underscore + 1) : "";
  return `${prefix}…${value.slice(-4)}`;
}
