import { createRoute, z } from "@hono/zod-openapi";
import { newId } from "../model/ids.js";
import { AppError, notFound } from "../lib/errors.js";
import { generateApiKey, maskApiKey } from "../auth/api-keys.js";
import { deleteProject } from "../auth/purge.js";
import { getEnvironment, insertApiKey, insertEnvironment, listApiKeys, listEnvironments, renameEnvironment, revokeApiKey, type ApiKeyRow } from "../db/repositories/tenancy.js";
import { forgetKeys } from "./auth.js";
import { body, iso, isoOrNull, json, router, type Actor } from "./context.js";
import { errorResponses } from "./errors.js";
import { ApiKeyCreateSchema, ApiKeySchema, EnvironmentCreateSchema, EnvironmentSchema, ErrorSchema, listOf } from "./schemas.js";
import { ApiKeyListQuerySchema, EnvironmentUpdateSchema, idOf } from "./account-schemas.js";

const orgOf = (actor: Actor): string => {
  if (!actor.org_id) throw new AppError("internal", "no organization on an org-scoped route");
  return actor.org_id;
};

const envView = (r: { id: string; org_id: string; name: string; created_at: number }) => ({ ...r, created_at: iso(r.created_at) });
const conflict409 = { 409: json(ErrorSchema, "conflict") };

export const environmentsApi = router()
  .openapi(
    createRoute({
      method: "get", path: "/", tags: ["Projects"],
      description: "A session sees every project of its organization; an API key sees its own project.",
      responses: { 200: json(listOf(EnvironmentSchema, "EnvironmentList"), "projects"), ...errorResponses },
    }),
    async (c) => {
      const actor = c.var.actor;
      const rows = (await listEnvironments(c.var.db, orgOf(actor))).filter((r) => actor.kind === "session" || r.id === actor.env_id);
      return c.json({ data: rows.map(envView), next_cursor: null }, 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/", tags: ["Projects"], request: { body: body(EnvironmentCreateSchema) }, responses: { 201: json(EnvironmentSchema, "created"), ...errorResponses } }),
    async (c) => {
      const now = Date.now();
      const row = { id: newId("environment", now), org_id: orgOf(c.var.actor), name: c.req.valid("json").name, created_at: now };
      await insertEnvironment(c.var.db, row);
      return c.json(envView(row), 201);
    },
  )
  .openapi(
    createRoute({
      method: "patch", path: "/{id}", tags: ["Projects"], request: { params: idOf("env"), body: body(EnvironmentUpdateSchema) },
      responses: { 200: json(EnvironmentSchema, "renamed"), ...errorResponses },
    }),
    async (c) => {
      const row = await renameEnvironment(c.var.db, orgOf(c.var.actor), c.req.valid("param").id, c.req.valid("json").name);
      if (!row) throw notFound("project");
      return c.json(envView(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete", path: "/{id}", tags: ["Projects"], request: { params: idOf("env") },
      description: "Deletes the project and everything in it: sources, destinations (their queues stop), connections, events and their bodies, attempts, dead letters and API keys.",
      responses: { 204: { description: "deleted" }, ...conflict409, ...errorResponses },
    }),
    async (c) => {
      const orgId = orgOf(c.var.actor);
      const id = c.req.valid("param").id;
      const all = await listEnvironments(c.var.db, orgId);
      if (!all.some((e) => e.id === id)) throw notFound("project");
      if (all.length === 1) throw new AppError("conflict", "an organization keeps at least one project; create another one first (or delete the organization)");
      if (!(await deleteProject(c.env, c.var.db, orgId, id))) throw notFound("project");
      return c.body(null, 204);
    },
  );

const CreatedKeySchema = ApiKeySchema.extend({ key: z.string().openapi({ description: "shown once; only its SHA-256 is stored" }) }).openapi("ApiKeyCreated");

const keyView = (r: ApiKeyRow) => ({
  id: r.id, name: r.name, env_id: r.env_id, masked_key: maskApiKey(r.prefix, r.last4), created_at: iso(r.created_at), last_used_at: isoOrNull(r.last_used_at),
});

export const apiKeysApi = router()
  .openapi(
    createRoute({
      method: "get", path: "/", tags: ["API keys"], request: { query: ApiKeyListQuerySchema },
      description: "Active keys, masked: a session sees its organization's (filter with `env_id`), an API key its own project's.",
      responses: { 200: json(listOf(ApiKeySchema, "ApiKeyList"), "active keys, masked"), ...errorResponses },
    }),
    async (c) => {
      const actor = c.var.actor;
      const asked = c.req.valid("query").env_id;
      // A key sees its own project's keys only; asking for another project finds nothing.
      if (actor.kind === "key" && asked !== undefined && asked !== actor.env_id) return c.json({ data: [], next_cursor: null }, 200);
      const rows = await listApiKeys(c.var.db, orgOf(actor), actor.kind === "key" ? actor.env_id! : asked);
      return c.json({ data: rows.map(keyView), next_cursor: null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post", path: "/", tags: ["API keys"], request: { body: body(ApiKeyCreateSchema) },
      description: "Creates a key bound to one project of the organization. The plaintext is in this response only.",
      responses: { 201: json(CreatedKeySchema, "the key, shown once"), ...errorResponses },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const orgId = orgOf(c.var.actor);
      if (!(await getEnvironment(c.var.db, orgId, input.env_id))) throw notFound("project");
      const key = await generateApiKey(input.mode);
      const now = Date.now();
      const row: ApiKeyRow = { id: newId("apiKey", now), org_id: orgId, env_id: input.env_id, name: input.name, key_hash: key.hash, prefix: key.prefix, last4: key.last4, created_at: now, last_used_at: null, revoked_at: null };
      await insertApiKey(c.var.db, row);
      return c.json({ ...keyView(row), key: key.plaintext }, 201);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/{id}", tags: ["API keys"], request: { params: idOf("key") }, responses: { 204: { description: "revoked" }, ...errorResponses } }),
    async (c) => {
      if (!(await revokeApiKey(c.var.db, orgOf(c.var.actor), c.req.valid("param").id, Date.now()))) throw notFound("API key");
      forgetKeys();
      return c.body(null, 204);
    },
  );
