import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import type { Database } from "../db/client.js";
import { database } from "../db/client.js";
import { accounts, sessions, users, verifications } from "../db/schema/index.js";
import type { Env } from "../env.js";
import { newId, type IdKind } from "../model/ids.js";
import { provisionOrganization } from "./provision.js";

export const AUTH_BASE_PATH = "/api/auth";
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 128;
/** Password guessing: sign-in, sign-up and password changes per client IP (cf-connecting-ip) per minute, per isolate. */
export const AUTH_ATTEMPTS_PER_MINUTE = 20;
const attempts = { window: 60, max: AUTH_ATTEMPTS_PER_MINUTE };

const MODEL_IDS: Record<string, IdKind> = { user: "user", session: "session", account: "account", verification: "verification" };

function createAuth(db: Database, secret: string, baseURL: string) {
  return betterAuth({
    appName: "hookstream",
    baseURL,
    basePath: AUTH_BASE_PATH,
    secret,
    trustedOrigins: [baseURL],
    database: drizzleAdapter(db, { provider: "sqlite", schema: { user: users, session: sessions, account: accounts, verification: verifications } }),
    emailAndPassword: {
      enabled: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      maxPasswordLength: MAX_PASSWORD_LENGTH,
      // Sign-up answers the same for a new and an existing email (no session either way), so
      // it never tells whether an address has an account; the user signs in next.
      autoSignIn: false,
    },
    session: { expiresIn: 60 * 60 * 24 * 7, updateAge: 60 * 60 * 24 },
    // On everywhere (Better Auth turns it on only when NODE_ENV=production, which Workers do not set).
    rateLimit: {
      enabled: true,
      storage: "memory",
      window: 60,
      max: 300,
      customRules: { "/sign-in/email": attempts, "/sign-up/email": attempts, "/change-password": attempts },
    },
    advanced: {
      database: { generateId: ({ model }) => newId(MODEL_IDS[model] ?? "verification") },
      ipAddress: { ipAddressHeaders: ["cf-connecting-ip"] },
    },
    databaseHooks: {
      user: {
        create: {
          after: async (user) => {
            await provisionOrganization(db, user);
          },
        },
      },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;

const instances = new Map<string, Auth>();

/**
 * One Better Auth instance per (database, secret, base URL) in this isolate. The base URL is
 * PUBLIC_URL when set, else the request's origin: Better Auth checks a POST's Origin against it.
 */
export function authFor(env: Env, requestUrl: string): Auth {
  if (!env.BETTER_AUTH_SECRET || env.BETTER_AUTH_SECRET.length < 32) throw new Error("BETTER_AUTH_SECRET must be set (at least 32 characters)");
  const baseURL = (env.PUBLIC_URL ?? new URL(requestUrl).origin).replace(/\/+$/, "");
  const db = database(env.DB);
  const cacheKey = `${baseURL} ${env.BETTER_AUTH_SECRET}`;
  let auth = instances.get(cacheKey);
  if (!auth || dbOf.get(auth) !== db) {
    auth = createAuth(db, env.BETTER_AUTH_SECRET, baseURL);
    if (instances.size > 16) instances.clear();
    instances.set(cacheKey, auth);
    dbOf.set(auth, db);
  }
  return auth;
}

const dbOf = new WeakMap<Auth, Database>();

export function trustedOrigin(env: Env, requestUrl: string): string {
  return (env.PUBLIC_URL ?? new URL(requestUrl).origin).replace(/\/+$/, "");
}
