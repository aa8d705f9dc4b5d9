// Google service-account key → RS256 JWT (jose) → OAuth access token, cached per isolate
// until a minute before it expires. The token request goes through the caller's outbound door.
import { importPKCS8, SignJWT } from "jose";
import type { Outbound } from "../delivery/outbound.js";
import { sha256Hex } from "./crypto.js";

export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

export const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
export const PUBSUB_SCOPE = "https://www.googleapis.com/auth/pubsub";
const REFRESH_MARGIN_MS = 60_000;

const cache = new Map<string, { token: string; expires_at: number }>();

export function parseServiceAccount(json: string): ServiceAccountKey | null {
  try {
    const key = JSON.parse(json) as Record<string, unknown>;
    if (typeof key.client_email !== "string" || typeof key.private_key !== "string") return null;
    if (!key.private_key.includes("PRIVATE KEY")) return null;
    return {
      client_email: key.client_email,
      private_key: key.private_key,
      ...(typeof key.private_key_id === "string" ? { private_key_id: key.private_key_id } : {}),
      ...(typeof key.token_uri === "string" ? { token_uri: key.token_uri } : {}),
    };
  } catch {
    return null;
  }
}

export type TokenResult = { ok: true; token: string } | { ok: false; retryable: boolean; error: string };

export async function accessToken(opts: {
  key: ServiceAccountKey;
  scope: string;
  tokenUri: string;
  outbound: Outbound;
  now: () => number;
  timeout_ms: number;
}): Promise<TokenResult> {
  // Keyed by the key material too: a corrected key must not be served the old key's token (or vice versa).
  const cacheKey = `${await sha256Hex(opts.key.private_key)}|${opts.key.client_email}|${opts.tokenUri}|${opts.scope}`;
  const cached = cache.get(cacheKey);
  if (cached !== undefined && cached.expires_at - REFRESH_MARGIN_MS > opts.now()) return { ok: true, token: cached.token };

  let assertion: string;
  try {
    const signingKey = await importPKCS8(opts.key.private_key, "RS256");
    const iat = Math.floor(opts.now() / 1000);
    assertion = await new SignJWT({ scope: opts.scope })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(opts.key.private_key_id ? { kid: opts.key.private_key_id } : {}) })
      .setIssuer(opts.key.client_email)
      .setSubject(opts.key.client_email)
      .setAudience(opts.tokenUri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(signingKey);
  } catch {
    // Never the key or the library's message (which may quote key material).
    return { ok: false, retryable: false, error: "service account private_key is not a valid RSA PKCS#8 key" };
  }

  const result = await opts.outbound.send({
    url: opts.tokenUri,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString(),
    timeout_ms: opts.timeout_ms,
  });
  if (!result.ok) return { ok: false, retryable: result.kind === "timeout" || result.kind === "network", error: `token exchange: ${result.message}` };
  let answer: Record<string, unknown> = {};
  try {
    answer = JSON.parse(result.response.body) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  if (result.response.status !== 200 || typeof answer.access_token !== "string") {
    const code = typeof answer.error === "string" ? answer.error : "no access_token";
    const description = typeof answer.error_description === "string" ? `: ${answer.error_description}` : "";
    // invalid_grant & co are retried: a key fixed in the config is picked up by the next attempt.
    return { ok: false, retryable: true, error: `token exchange failed: HTTP ${result.response.status} ${code}${description}` };
  }
  const expiresIn = typeof answer.expires_in === "number" ? answer.expires_in : 3600;
  cache.set(cacheKey, { token: answer.access_token, expires_at: opts.now() + expiresIn * 1000 });
  return { ok: true, token: answer.access_token };
}

/** For tests: forget every cached token. */
export function clearTokenCache(): void {
  cache.clear();
}
