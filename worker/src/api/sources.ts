import { createRoute, z } from "@hono/zod-openapi";
import { newId } from "../model/ids.js";
import { notFound } from "../lib/errors.js";
import { deleteSource, getSource, insertSource, listSources, updateSource } from "../db/repositories/sources.js";
import { invalidateSourceRouting } from "../ingest/source-cache.js";
import { body, iso, json, router } from "./context.js";
import { rotateSecret, settingsForCreate, settingsForUpdate } from "./source-settings.js";
import { sourceEventStats } from "../db/repositories/ingest.js";
import { listSourceTemplates } from "../providers/sources/registry.js";
import { errorResponses, managedResponses } from "./errors.js";
import {
  idParam, listOf, PageQuerySchema, SourceCreateSchema, SourceRotateSecretSchema, SourceSchema, SourceStatsQuerySchema, SourceStatsSchema,
  SourceTemplateSchema, SourceUpdateSchema,
} from "./schemas.js";
import { sourceView } from "./views.js";
import { assertApiManaged, publicBaseUrl } from "./shared.js";

const tags = ["Sources"];
const WINDOW_MS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 } as const;
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
        ...(await settingsForCreate(input, c.env.ENCRYPTION_KEY)),
        managed_by: "api" as const,
        declared_in: null,
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
    createRoute({ method: "patch", path: "/{id}", tags, request: { params: Id, body: body(SourceUpdateSchema) }, responses: { 200: json(SourceSchema, "updated"), ...errorResponses, ...managedResponses } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      const t = c.var.principal;
      const current = await getSource(c.var.db, t, id);
      if (!current) throw notFound("source");
      assertApiManaged(current, "source");
      const now = Date.now();
      const row = await updateSource(c.var.db, t, id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(await settingsForUpdate(current, input, c.env.ENCRYPTION_KEY, now)),
        updated_at: now,
      });
      if (!row) throw notFound("source");
      invalidateSourceRouting(id);
      return c.json(sourceView(row, publicBaseUrl(c)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/rotate-secret",
      tags,
      summary: "Make a new signing secret current; the previous ones keep verifying for grace_seconds",
      request: { params: Id, body: body(SourceRotateSecretSchema) },
      responses: { 200: json(SourceSchema, "rotated"), ...errorResponses, ...managedResponses },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { secret, grace_seconds } = c.req.valid("json");
      const t = c.var.principal;
      const current = await getSource(c.var.db, t, id);
      if (!current) throw notFound("source");
      assertApiManaged(current, "source");
      const now = Date.now();
      const row = await updateSource(c.var.db, t, id, { ...(await rotateSecret(current, secret, grace_seconds, c.env.ENCRYPTION_KEY, now)), updated_at: now });
      if (!row) throw notFound("source");
      invalidateSourceRouting(id);
      return c.json(sourceView(row, publicBaseUrl(c)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/stats",
      tags,
      summary: "What reached this source: events accepted, and requests refused by reason (signature, IP, rate limit, size, duplicate)",
      request: { params: Id, query: SourceStatsQuerySchema },
      responses: { 200: json(SourceStatsSchema, "counters over the window"), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { window } = c.req.valid("query");
      const t = c.var.principal;
      const current = await getSource(c.var.db, t, id);
      if (!current) throw notFound("source");
      const now = Date.now();
      const since = now - WINDOW_MS[window];
      const guard = c.env.SOURCE_GUARD.get(c.env.SOURCE_GUARD.idFromName(id));
      const [rejections, accepted] = await Promise.all([guard.stats(since), sourceEventStats(c.env.DB, t, id, since)]);
      return c.json(
        {
          source_id: id,
          since: iso(since),
          accepted: accepted.count,
          rejected: rejections.counts,
          hourly: rejections.hourly.map((h) => ({ hour: iso(h.hour), counts: h.counts as Record<string, number> })),
          last_event_at: accepted.last_at === null ? null : iso(accepted.last_at),
          last_rejection: rejections.last && { ...rejections.last, at: iso(rejections.last.at) },
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/{id}", tags, request: { params: Id }, responses: { 204: { description: "deleted with its connections; its events remain" }, ...errorResponses, ...managedResponses } }),
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

export const sourceTemplatesApi = router().openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "Provider templates for `template` on a source, with the fields each needs",
    responses: { 200: json(z.object({ data: z.array(SourceTemplateSchema) }).openapi("SourceTemplateList"), "every template"), ...errorResponses },
  }),
  (c) => c.json({ data: listSourceTemplates() }, 200),
);
