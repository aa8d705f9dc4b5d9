import { createRoute, z } from "@hono/zod-openapi";
import { newId } from "../model/ids.js";
import { notFound, AppError } from "../lib/errors.js";
import { DEFAULT_CIRCUIT_BREAKER, DEFAULT_RETRY_POLICY, type DestinationType } from "../model/types.js";
import {
  countConnectionsTo, deleteDestination, getDestination, insertDestination, listDestinations, updateDestination, type DestinationRow,
} from "../db/repositories/destinations.js";
import { listDeadLetters, openDeadLetters } from "../db/repositories/dead-letters.js";
import { reopenDeliveries } from "../db/repositories/events.js";
import { deliveriesWithEvents } from "../db/repositories/messages.js";
import { enqueueToSchedulers, schedulerFor } from "../delivery/enqueue.js";
import { toEnqueueItem } from "../delivery/sweep.js";
import { invalidateSourceRouting } from "../ingest/source-cache.js";
import { body, isoOrNull, json, router } from "./context.js";
import { errorResponses, managedResponses } from "./errors.js";
import {
  CircuitSchema, DeadLetterSchema, DestinationCreateSchema, ErrorSchema, DestinationSchema, DestinationUpdateSchema, idParam, listOf, PageQuerySchema, RedriveSchema,
} from "./schemas.js";
import { deadLetterView, destinationView } from "./views.js";
import { assertApiManaged } from "./shared.js";
import { openConfig, parseConfig, providerFor, sealConfig } from "./destination-config.js";
import { DEFAULT_MAX_IN_FLIGHT } from "../delivery/flow-control.js";
import { hubFor, LISTENER_HEADERS, WEBSOCKET_PROTOCOL } from "../delivery/websocket-hub.js";
import { KEY_PROTOCOL_PREFIX, offeredProtocols } from "./websocket-auth.js";

const tags = ["Destinations"];
const Id = idParam("dst");
const REDRIVE_BATCH = 500;

async function mustGet(c: { var: { db: Parameters<typeof getDestination>[0]; principal: Parameters<typeof getDestination>[1] } }, id: string): Promise<DestinationRow> {
  const row = await getDestination(c.var.db, c.var.principal, id);
  if (!row) throw notFound("destination");
  return row;
}

export const destinationsApi = router()
  .openapi(
    createRoute({ method: "get", path: "/", tags, request: { query: PageQuerySchema }, responses: { 200: json(listOf(DestinationSchema, "DestinationList"), "destinations"), ...errorResponses } }),
    async (c) => {
      const page = await listDestinations(c.var.db, c.var.principal, c.req.valid("query"));
      return c.json({ data: page.data.map((r) => destinationView(r)), next_cursor: page.next_cursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post", path: "/", tags, request: { body: body(DestinationCreateSchema) },
      responses: { 201: json(DestinationSchema, "created; secret fields hookstream generated (e.g. signing_secret) are shown in full this once, supplied credentials are masked"), ...errorResponses },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const provider = providerFor(input.type);
      let config = parseConfig(provider, input.config);
      if (provider.prepare) config = (await provider.prepare(config)) as Record<string, unknown>;
      const sealed = await sealConfig(provider, config, c.env.ENCRYPTION_KEY);
      const now = Date.now();
      const t = c.var.principal;
      const row: DestinationRow = {
        id: newId("destination", now),
        org_id: t.org_id,
        env_id: t.env_id,
        name: input.name,
        type: input.type,
        config: JSON.stringify(sealed.visible),
        secrets: sealed.secrets,
        retry_policy: JSON.stringify(input.retry_policy ?? DEFAULT_RETRY_POLICY),
        circuit_breaker: JSON.stringify(input.circuit_breaker ?? DEFAULT_CIRCUIT_BREAKER),
        rate_limit_per_second: input.rate_limit?.per_second ?? null,
        max_in_flight: input.max_in_flight ?? DEFAULT_MAX_IN_FLIGHT,
        ordered: input.ordered ?? false,
        enabled: input.enabled ?? true,
        managed_by: "api",
        declared_in: null,
        created_at: now,
        updated_at: now,
      };
      await insertDestination(c.var.db, row);
      // Only what hookstream generated (e.g. a signing_secret) is shown, once; credentials the caller sent are never echoed.
      const supplied = input.config as Record<string, unknown>;
      const generated = Object.fromEntries(Object.entries(sealed.revealed).filter(([k]) => supplied[k] === undefined));
      return c.json(destinationView(row, generated), 201);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/{id}", tags, request: { params: Id }, responses: { 200: json(DestinationSchema, "the destination"), ...errorResponses } }),
    async (c) => c.json(destinationView(await mustGet(c, c.req.valid("param").id)), 200),
  )
  .openapi(
    createRoute({ method: "patch", path: "/{id}", tags, request: { params: Id, body: body(DestinationUpdateSchema) }, responses: { 200: json(DestinationSchema, "updated"), ...errorResponses, ...managedResponses } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      const current = await mustGet(c, id);
      assertApiManaged(current, "destination");
      const patch: Parameters<typeof updateDestination>[3] = { updated_at: Date.now() };
      if (input.name !== undefined) patch.name = input.name;
      if (input.enabled !== undefined) patch.enabled = input.enabled;
      if (input.retry_policy) patch.retry_policy = JSON.stringify(input.retry_policy);
      if (input.circuit_breaker) patch.circuit_breaker = JSON.stringify(input.circuit_breaker);
      if (input.rate_limit !== undefined) patch.rate_limit_per_second = input.rate_limit?.per_second ?? null;
      if (input.max_in_flight !== undefined) patch.max_in_flight = input.max_in_flight;
      if (input.ordered !== undefined) patch.ordered = input.ordered;
      if (input.config) {
        const provider = providerFor(current.type as DestinationType);
        const merged = { ...(await openConfig(current, c.env.ENCRYPTION_KEY)), ...input.config };
        const sealed = await sealConfig(provider, parseConfig(provider, merged), c.env.ENCRYPTION_KEY);
        patch.config = JSON.stringify(sealed.visible);
        patch.secrets = sealed.secrets;
      }
      const row = await updateDestination(c.var.db, c.var.principal, id, patch);
      if (!row) throw notFound("destination");
      await schedulerFor(c.env, id).refresh();
      return c.json(destinationView(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete", path: "/{id}", tags, request: { params: Id },
      responses: {
        204: { description: "deleted" },
        ...errorResponses,
        409: json(ErrorSchema, "`conflict`: still used by a connection; `managed_by_config`: declared in infra/ (`details.declared_in`)"),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const current = await mustGet(c, id);
      assertApiManaged(current, "destination");
      if ((await countConnectionsTo(c.var.db, c.var.principal, id)) > 0) {
        throw new AppError("conflict", "destination is used by connections; delete or repoint them first");
      }
      await deleteDestination(c.var.db, c.var.principal, id);
      invalidateSourceRouting();
      await schedulerFor(c.env, id).refresh();
      if (current.type === "websocket") await hubFor(c.env, id).disconnectAll("destination deleted");
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/{id}/circuit", tags, request: { params: Id }, responses: { 200: json(CircuitSchema, "circuit breaker state"), ...errorResponses } }),
    async (c) => {
      const { id } = c.req.valid("param");
      await mustGet(c, id);
      const view = await schedulerFor(c.env, id).circuit();
      return c.json({ ...view, opened_at: isoOrNull(view.opened_at) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get", path: "/{id}/ws", tags,
      summary: "Listen: a WebSocket that receives every event delivered to this websocket destination (see docs/websocket.md)",
      description:
        "Send `Upgrade: websocket` with the project API key as `Authorization: Bearer hs_…`, or (browsers) the subprotocols " +
        "`hookstream` and `hookstream.bearer.<key>`; query parameters are not accepted. Refusals (401, 404, 426) come before the upgrade, as JSON errors.",
      request: { params: Id },
      responses: {
        101: { description: "Switching Protocols: one JSON text message per delivery" },
        426: json(ErrorSchema, "not a WebSocket upgrade request"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await mustGet(c, id);
      if (row.type !== "websocket") throw new AppError("not_found", `destination ${id} has type ${row.type}; only websocket destinations accept connections`);
      if ((c.req.header("upgrade") ?? "").toLowerCase() !== "websocket") {
        throw new AppError("upgrade_required", "expected a WebSocket upgrade request (Upgrade: websocket)");
      }
      const offered = offeredProtocols(c.req.raw);
      if (offered.length > 0 && !offered.includes(WEBSOCKET_PROTOCOL)) {
        throw new AppError("validation_failed", `offer the "${WEBSOCKET_PROTOCOL}" subprotocol (and the key as "${KEY_PROTOCOL_PREFIX}<key>")`);
      }
      // The hub never sees the key itself.
      const headers = new Headers(c.req.raw.headers);
      headers.delete("authorization");
      if (offered.length > 0) headers.set("sec-websocket-protocol", WEBSOCKET_PROTOCOL);
      const who = c.var.principal;
      // The hub re-checks its listeners' keys so that revoking one closes its sockets; a
      // session has no key to re-check, so listening takes a project API key.
      if (who.key_id === null) throw new AppError("forbidden", "listening needs a project API key (Authorization: Bearer hs_… or the hookstream.bearer.<key> subprotocol)");
      headers.set(LISTENER_HEADERS.key_id, who.key_id);
      headers.set(LISTENER_HEADERS.org_id, who.org_id);
      headers.set(LISTENER_HEADERS.env_id, who.env_id);
      const res = await hubFor(c.env, id).fetch(new Request(c.req.url, { method: "GET", headers }));
      // A listener is back: deliveries waiting out a backoff for lack of one go now.
      if (res.status === 101) c.executionCtx.waitUntil(schedulerFor(c.env, id).expedite().catch(() => undefined));
      return res;
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/{id}/dlq", tags, request: { params: Id, query: PageQuerySchema }, responses: { 200: json(listOf(DeadLetterSchema, "DeadLetterList"), "dead letters not yet redriven"), ...errorResponses } }),
    async (c) => {
      const { id } = c.req.valid("param");
      await mustGet(c, id);
      const page = await listDeadLetters(c.var.db, c.var.principal, id, c.req.valid("query"));
      return c.json({ data: page.data.map(deadLetterView), next_cursor: page.next_cursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post", path: "/{id}/dlq/redrive", tags,
      request: { params: Id, body: { required: false, content: { "application/json": { schema: RedriveSchema } } } },
      responses: { 202: json(z.object({ redriven: z.number().int(), remaining: z.boolean() }).openapi("RedriveResult"), "deliveries put back on the queue"), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      await mustGet(c, id);
      const input = (c.req.valid("json") as { ids?: string[] } | undefined) ?? {};
      const t = c.var.principal;
      const entries = await openDeadLetters(c.var.db, t, id, input.ids, REDRIVE_BATCH);
      if (entries.length > 0) {
        await reopenDeliveries(c.var.db, t, entries.map((e) => e.delivery_id), [...new Set(entries.map((e) => e.event_id))], Date.now());
        const rows = await deliveriesWithEvents(c.env.DB, entries.map((e) => e.delivery_id), t);
        await enqueueToSchedulers(c.env, rows.map(toEnqueueItem), { mode: "now" });
      }
      return c.json({ redriven: entries.length, remaining: !input.ids && entries.length === REDRIVE_BATCH }, 202);
    },
  );
