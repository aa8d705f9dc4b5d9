import { createRoute, z } from "@hono/zod-openapi";
import { newId } from "../model/ids.js";
import { notFound } from "../lib/errors.js";
import { generateApiKey, maskApiKey } from "../auth/api-keys.js";
import { insertApiKey, insertEnvironment, listApiKeys, listEnvironments, revokeApiKey } from "../db/repositories/tenancy.js";
import { forgetKeys } from "./auth.js";
import { body, iso, isoOrNull, json, router } from "./context.js";
import { errorResponses } from "./errors.js";
import { ApiKeyCreateSchema, ApiKeySchema, EnvironmentCreateSchema, EnvironmentSchema, idParam, listOf } from "./schemas.js";

export const environmentsApi = router()
  .openapi(
    createRoute({ method: "get", path: "/", tags: ["Projects"], responses: { 200: json(listOf(EnvironmentSchema, "EnvironmentList"), "projects of the organization"), ...errorResponses } }),
    async (c) => {
      const rows = await listEnvironments(c.var.db, c.var.principal.org_id);
      return c.json({ data: rows.map((r) => ({ ...r, created_at: iso(r.created_at) })), next_cursor: null }, 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/", tags: ["Projects"], request: { body: body(EnvironmentCreateSchema) }, responses: { 201: json(EnvironmentSchema, "created"), ...errorResponses } }),
    async (c) => {
      const now = Date.now();
      const row = { id: newId("environment", now), org_id: c.var.principal.org_id, name: c.req.valid("json").name, created_at: now };
      await insertEnvironment(c.var.db, row);
      return c.json({ ...row, created_at: iso(now) }, 201);
    },
  );

const CreatedKeySchema = ApiKeySchema.extend({ key: z.string().openapi({ description: "shown once; only its SHA-256 is stored" }) }).openapi("ApiKeyCreated");

export const apiKeysApi = router()
  .openapi(
    createRoute({ method: "get", path: "/", tags: ["API keys"], responses: { 200: json(listOf(ApiKeySchema, "ApiKeyList"), "active keys of this project, masked"), ...errorResponses } }),
    async (c) => {
      const rows = await listApiKeys(c.var.db, c.var.principal);
      return c.json(
        {
          data: rows.map((r) => ({ id: r.id, name: r.name, env_id: r.env_id, masked_key: maskApiKey(r.prefix, r.last4), created_at: iso(r.created_at), last_used_at: isoOrNull(r.last_used_at) })),
          next_cursor: null,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/", tags: ["API keys"], request: { body: body(ApiKeyCreateSchema) }, responses: { 201: json(CreatedKeySchema, "the key, shown once"), ...errorResponses } }),
    async (c) => {
      const input = c.req.valid("json");
      const t = c.var.principal;
      const key = await generateApiKey(input.mode);
      const now = Date.now();
      const row = { id: newId("apiKey", now), org_id: t.org_id, env_id: t.env_id, name: input.name, key_hash: key.hash, prefix: key.prefix, last4: key.last4, created_at: now, last_used_at: null, revoked_at: null };
      await insertApiKey(c.var.db, row);
      return c.json({ id: row.id, name: row.name, env_id: row.env_id, masked_key: maskApiKey(row.prefix, row.last4), created_at: iso(now), last_used_at: null, key: key.plaintext }, 201);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/{id}", tags: ["API keys"], request: { params: idParam("key") }, responses: { 204: { description: "revoked" }, ...errorResponses } }),
    async (c) => {
      if (!(await revokeApiKey(c.var.db, c.var.principal, c.req.valid("param").id, Date.now()))) throw notFound("API key");
      forgetKeys();
      return c.body(null, 204);
    },
  );
