import { OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Env } from "../env.js";
import type { Database, Tenant } from "../db/client.js";
import { validationError } from "./errors.js";

export interface Principal extends Tenant {
  key_id: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: { principal: Principal; db: Database };
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
