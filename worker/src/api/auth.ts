import { createMiddleware } from "hono/factory";
import { looksLikeApiKey } from "../auth/api-keys.js";
import { sha256Hex, timingSafeEqual } from "../lib/crypto.js";
import { AppError } from "../lib/errors.js";
import { database } from "../db/client.js";
import { findActiveKeyByHash, touchKey, type KeyPrincipal } from "../db/repositories/api-keys.js";
import type { AppEnv } from "./context.js";
import { apiKeyFromWebSocketProtocol } from "./websocket-auth.js";

/** A revoked key stops working in this isolate at once and in every other within this. */
export const KEY_CACHE_TTL_MS = 5_000;
const LAST_USED_RESOLUTION_MS = 60_000;

const cache = new Map<string, { principal: KeyPrincipal | null; expires: number }>();

export function forgetKeys(): void {
  cache.clear();
}

export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const token = match?.[1] ?? apiKeyFromWebSocketProtocol(c.req.raw);
  if (!token || !looksLikeApiKey(token)) throw new AppError("unauthorized", "missing or malformed API key (Authorization: Bearer hs_…)");
  const db = database(c.env.DB);
  const hash = await sha256Hex(token);
  const now = Date.now();
  let hit = cache.get(hash);
  if (!hit || hit.expires <= now) {
    hit = { principal: await findActiveKeyByHash(db, hash), expires: now + KEY_CACHE_TTL_MS };
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, hit);
  }
  const p = hit.principal;
  // The lookup is by hash; the comparison below keeps the final check constant-time anyway.
  if (!p || !timingSafeEqual(p.key_hash, hash)) throw new AppError("unauthorized", "invalid or revoked API key");
  if (p.last_used_at === null || now - p.last_used_at > LAST_USED_RESOLUTION_MS) {
    p.last_used_at = now;
    c.executionCtx.waitUntil(touchKey(db, p.key_id, now).catch(() => undefined));
  }
  c.set("principal", { key_id: p.key_id, org_id: p.org_id, env_id: p.env_id });
  c.set("db", db);
  await next();
});
