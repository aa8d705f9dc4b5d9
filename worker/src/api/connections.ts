import { createRoute, z } from "@hono/zod-openapi";
import { newId } from "../model/ids.js";
import { AppError, notFound } from "../lib/errors.js";
import {
  deleteConnection, endpointsExist, getConnection, insertConnection, listConnections, updateConnection, type ConnectionRow,
} from "../db/repositories/connections.js";
import { invalidateSourceRouting } from "../ingest/source-cache.js";
import { body, json, router } from "./context.js";
import { errorResponses } from "./errors.js";
import { ConnectionCreateSchema, ConnectionSchema, ConnectionUpdateSchema, idParam, listOf, PageQuerySchema } from "./schemas.js";
import { connectionView } from "./views.js";
import { assertApiManaged } from "./shared.js";

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
        filters: "[]",
        transform: null,
        schema: null,
        schema_mode: "reject",
        enabled: input.enabled ?? true,
        managed_by: "api",
        created_at: now,
        updated_at: now,
      };
      await insertConnection(c.var.db, row);
      invalidateSourceRouting(row.source_id);
      return c.json(connectionView(row), 201);
    },
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
    createRoute({ method: "patch", path: "/{id}", tags, request: { params: Id, body: body(ConnectionUpdateSchema) }, responses: { 200: json(ConnectionSchema, "updated"), ...errorResponses } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      const current = await getConnection(c.var.db, c.var.principal, id);
      if (!current) throw notFound("connection");
      assertApiManaged(current, "connection");
      const row = await updateConnection(c.var.db, c.var.principal, id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        updated_at: Date.now(),
      });
      if (!row) throw notFound("connection");
      invalidateSourceRouting(row.source_id);
      return c.json(connectionView(row), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/{id}", tags, request: { params: Id }, responses: { 204: { description: "deleted; queued deliveries still go out" }, ...errorResponses } }),
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
