import { createRoute, z } from "@hono/zod-openapi";
import { newId } from "../model/ids.js";
import { AppError, notFound } from "../lib/errors.js";
import {
  deleteConnection, endpointsExist, getConnection, insertConnection, listConnections, updateConnection, type ConnectionRow,
} from "../db/repositories/connections.js";
import { invalidateSourceRouting } from "../ingest/source-cache.js";
import { body, json, router } from "./context.js";
import { errorResponses, managedResponses } from "./errors.js";
import {
  ConnectionCreateSchema, ConnectionSchema, ConnectionTestResultSchema, ConnectionTestSchema, ConnectionUpdateSchema, idParam, listOf, PageQuerySchema,
} from "./schemas.js";
import { connectionView } from "./views.js";
import { assertApiManaged } from "./shared.js";
import { checkSchemaOrThrow, checkTransformOrThrow, parseFilters } from "./connection-rules.js";
import { testConnection } from "./connection-test.js";

const tags = ["Connections"];
const Id = idParam("con");
const ListQuery = PageQuerySchema.extend({
  source_id: z.string().regex(/^src_[0-9a-f]{32}$/, "must be a src_ id").optional(),
  destination_id: z.string().regex(/^dst_[0-9a-f]{32}$/, "must be a dst_ id").optional(),
});

export const connectionsApi = router()
  .openapi(
    createRoute({ method: "get", path: "/", tags, request: { query: ListQuery }, responses: { 200: json(listOf(ConnectionSchema, "ConnectionList"), "connections"), ...errorResponses } }),
    async (c) => {
      const page = await listConnections(c.var.db, c.var.principal, c.req.valid("query"));
      return c.json({ data: page.data.map(connectionView), next_cursor: page.next_cursor }, 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/", tags, request: { body: body(ConnectionCreateSchema) }, responses: { 201: json(ConnectionSchema, "created"), ...errorResponses } }),
    async (c) => {
      const input = c.req.valid("json");
      checkTransformOrThrow(input.transform);
      checkSchemaOrThrow(input.schema);
      const t = c.var.principal;
      const exists = await endpointsExist(c.var.db, t, input.source_id, input.destination_id);
      if (!exists.source) throw new AppError("validation_failed", "source_id: no such source in this project");
      if (!exists.destination) throw new AppError("validation_failed", "destination_id: no such destination in this project");
      const now = Date.now();
      const row: ConnectionRow = {
        id: newId("connection", now),
        org_id: t.org_id,
        env_id: t.env_id,
        name: input.name ?? null,
        source_id: input.source_id,
        destination_id: input.destination_id,
        filters: JSON.stringify(input.filters === undefined ? [] : parseFilters(input.filters)),
        transform: input.transform ?? null,
        schema: input.schema ? JSON.stringify(input.schema) : null,
        schema_mode: input.schema_mode ?? "reject",
        enabled: input.enabled ?? true,
        managed_by: "api",
        declared_in: null,
        created_at: now,
        updated_at: now,
      };
      await insertConnection(c.var.db, row);
      invalidateSourceRouting(row.source_id);
      return c.json(connectionView(row), 201);
    },
  )
  .openapi(
    createRoute({
      method: "post", path: "/test", tags, summary: "Dry run: filters → transform → schema on a stored event or a sample payload, without delivering",
      request: { body: body(ConnectionTestSchema) }, responses: { 200: json(ConnectionTestResultSchema, "what would happen"), ...errorResponses },
    }),
    async (c) => c.json(await testConnection(c.var.db, c.env, c.var.principal, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({ method: "get", path: "/{id}", tags, request: { params: Id }, responses: { 200: json(ConnectionSchema, "the connection"), ...errorResponses } }),
    async (c) => {
      const row = await getConnection(c.var.db, c.var.principal, c.req.valid("param").id);
      if (!row) throw notFound("connection");
      return c.json(connectionView(row), 200);
    },
  )
  .openapi(
    createRoute({ method: "patch", path: "/{id}", tags, request: { params: Id, body: body(ConnectionUpdateSchema) }, responses: { 200: json(ConnectionSchema, "updated"), ...errorResponses, ...managedResponses } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      const current = await getConnection(c.var.db, c.var.principal, id);
      if (!current) throw notFound("connection");
      assertApiManaged(current, "connection");
      checkTransformOrThrow(input.transform);
      checkSchemaOrThrow(input.schema);
      const row = await updateConnection(c.var.db, c.var.principal, id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        ...(input.filters !== undefined ? { filters: JSON.stringify(parseFilters(input.filters)) } : {}),
        ...(input.transform !== undefined ? { transform: input.transform } : {}),
        ...(input.schema !== undefined ? { schema: input.schema === null ? null : JSON.stringify(input.schema) } : {}),
        ...(input.schema_mode !== undefined ? { schema_mode: input.schema_mode } : {}),
        updated_at: Date.now(),
      });
      if (!row) throw notFound("connection");
      invalidateSourceRouting(row.source_id);
      return c.json(connectionView(row), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/{id}", tags, request: { params: Id }, responses: { 204: { description: "deleted; queued deliveries still go out" }, ...errorResponses, ...managedResponses } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const current = await getConnection(c.var.db, c.var.principal, id);
      if (!current) throw notFound("connection");
      assertApiManaged(current, "connection");
      await deleteConnection(c.var.db, c.var.principal, id);
      invalidateSourceRouting(current.source_id);
      return c.body(null, 204);
    },
  );
