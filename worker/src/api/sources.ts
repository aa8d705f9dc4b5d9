import { createRoute } from "@hono/zod-openapi";
import { newId } from "../model/ids.js";
import { notFound } from "../lib/errors.js";
import { deleteSource, getSource, insertSource, listSources, updateSource } from "../db/repositories/sources.js";
import { invalidateSourceRouting } from "../ingest/source-cache.js";
import { body, json, router } from "./context.js";
import { errorResponses } from "./errors.js";
import { idParam, listOf, PageQuerySchema, SourceCreateSchema, SourceSchema, SourceUpdateSchema } from "./schemas.js";
import { sourceView } from "./views.js";
import { assertApiManaged, publicBaseUrl } from "./shared.js";

const tags = ["Sources"];
const Id = idParam("src");

export const sourcesApi = router()
  .openapi(
    createRoute({ method: "get", path: "/", tags, request: { query: PageQuerySchema }, responses: { 200: json(listOf(SourceSchema, "SourceList"), "sources"), ...errorResponses } }),
    async (c) => {
      const page = await listSources(c.var.db, c.var.principal, c.req.valid("query"));
      const base = publicBaseUrl(c);
      return c.json({ data: page.data.map((r) => sourceView(r, base)), next_cursor: page.next_cursor }, 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/", tags, request: { body: body(SourceCreateSchema) }, responses: { 201: json(SourceSchema, "created"), ...errorResponses } }),
    async (c) => {
      const input = c.req.valid("json");
      const now = Date.now();
      const t = c.var.principal;
      const row = {
        id: newId("source", now),
        org_id: t.org_id,
        env_id: t.env_id,
        name: input.name,
        description: input.description ?? null,
        config: JSON.stringify(input.max_body_bytes ? { max_body_bytes: input.max_body_bytes } : {}),
        secrets: null,
        managed_by: "api" as const,
        created_at: now,
        updated_at: now,
      };
      await insertSource(c.var.db, row);
      return c.json(sourceView(row, publicBaseUrl(c)), 201);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/{id}", tags, request: { params: Id }, responses: { 200: json(SourceSchema, "the source"), ...errorResponses } }),
    async (c) => {
      const row = await getSource(c.var.db, c.var.principal, c.req.valid("param").id);
      if (!row) throw notFound("source");
      return c.json(sourceView(row, publicBaseUrl(c)), 200);
    },
  )
  .openapi(
    createRoute({ method: "patch", path: "/{id}", tags, request: { params: Id, body: body(SourceUpdateSchema) }, responses: { 200: json(SourceSchema, "updated"), ...errorResponses } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      const t = c.var.principal;
      const current = await getSource(c.var.db, t, id);
      if (!current) throw notFound("source");
      assertApiManaged(current, "source");
      const config = { ...(JSON.parse(current.config) as Record<string, unknown>) };
      if (input.max_body_bytes !== undefined) config.max_body_bytes = input.max_body_bytes;
      const row = await updateSource(c.var.db, t, id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        config: JSON.stringify(config),
        updated_at: Date.now(),
      });
      if (!row) throw notFound("source");
      invalidateSourceRouting(id);
      return c.json(sourceView(row, publicBaseUrl(c)), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/{id}", tags, request: { params: Id }, responses: { 204: { description: "deleted with its connections; its events remain" }, ...errorResponses } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const current = await getSource(c.var.db, c.var.principal, id);
      if (!current) throw notFound("source");
      assertApiManaged(current, "source");
      if (!(await deleteSource(c.var.db, c.var.principal, id))) throw notFound("source");
      invalidateSourceRouting(id);
      return c.body(null, 204);
    },
  );
