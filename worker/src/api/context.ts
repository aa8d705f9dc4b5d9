import { OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Env } from "../env.js";
import type { Database, Tenant } from "../db/client.js";
import type { Role } from "../auth/roles.js";
import { validationError } from "./errors.js";

/** Who is calling, as the auth middleware established it. */
export interface Actor {
  kind: "key" | "session";
  /** null only on `user`-scoped routes (e.g. GET /v1/me). */
  org_id: string | null;
  /** The project: the key's own, or the session's `X-Hookstream-Project`; null when none was chosen. */
  env_id: string | null;
  role: Role;
  key_id: string | null;
  user_id: string | null;
  email: string | null;
}

/** The tenant of a project-scoped request (set only when a project is known). */
export interface Principal extends Tenant {
  key_id: string | null;
  user_id: string | null;
  role: Role;
}

export interface AppEnv {
  Bindings: Env;
  Variables: { principal: Principal; actor: Actor; db: Database };
}

/** Every resource router: validation failures become the one error shape. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error as z.ZodError);
    },
  });
}

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

export const body = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
