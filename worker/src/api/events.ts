import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "../lib/errors.js";
import { newId } from "../model/ids.js";
import { deliveriesOfEvent, getEvent, listAttempts, listEvents, reopenDeliveries } from "../db/repositories/events.js";
import { deliveryInserts } from "../db/repositories/ingest.js";
import { deliveriesWithEvents } from "../db/repositories/messages.js";
import { loadSourceRouting } from "../db/repositories/ingest.js";
import { enqueueToSchedulers } from "../delivery/enqueue.js";
import { toEnqueueItem } from "../delivery/sweep.js";
import { toRoutable } from "../ingest/source-cache.js";
import { planDeliveries } from "../routing/plan.js";
import { eventBody, receivedRequestOf } from "./event-body.js";
import { json, router } from "./context.js";
import { errorResponses } from "./errors.js";
import { AttemptListQuerySchema, AttemptSchema, EventListQuerySchema, EventSchema, EventSummarySchema, idParam, listOf, PageQuerySchema } from "./schemas.js";
import { attemptView, eventSummaryView, eventView } from "./views.js";

const tags = ["Events"];
const Id = idParam("evt");

export const eventsApi = router()
  .openapi(
    createRoute({ method: "get", path: "/", tags, request: { query: EventListQuerySchema }, responses: { 200: json(listOf(EventSummarySchema, "EventList"), "events, newest first"), ...errorResponses } }),
    async (c) => {
      const page = await listEvents(c.var.db, c.var.principal, c.req.valid("query"));
      return c.json({ data: page.data.map(eventSummaryView), next_cursor: page.next_cursor }, 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/{id}", tags, request: { params: Id }, responses: { 200: json(EventSchema, "the event with its body and deliveries"), ...errorResponses } }),
    async (c) => {
      const t = c.var.principal;
      const row = await getEvent(c.var.db, t, c.req.valid("param").id);
      if (!row) throw notFound("event");
      return c.json(eventView(row, await eventBody(c.env, row), await deliveriesOfEvent(c.var.db, t, row.id)), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/{id}/attempts", tags, request: { params: Id, query: PageQuerySchema }, responses: { 200: json(listOf(AttemptSchema, "AttemptList"), "attempts, newest first"), ...errorResponses } }),
    async (c) => {
      const t = c.var.principal;
      const { id } = c.req.valid("param");
      if (!(await getEvent(c.var.db, t, id))) throw notFound("event");
      const page = await listAttempts(c.var.db, t, { ...c.req.valid("query"), event_id: id });
      return c.json({ data: page.data.map(attemptView), next_cursor: page.next_cursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post", path: "/{id}/retry", tags, request: { params: Id },
      responses: { 202: json(z.object({ event_id: z.string(), deliveries: z.number().int() }).openapi("RetryResult"), "deliveries queued again"), ...errorResponses },
    }),
    async (c) => {
      const t = c.var.principal;
      const event = await getEvent(c.var.db, t, c.req.valid("param").id);
      if (!event) throw notFound("event");
      const now = Date.now();
      let ids = (await deliveriesOfEvent(c.var.db, t, event.id)).map((d) => d.id);
      if (ids.length === 0) {
        // Nothing was routed (no connection took it then): route it through the source's
        // connections as they are now, filters included.
        const routing = await loadSourceRouting(c.env.DB, event.source_id);
        const plan = planDeliveries(await receivedRequestOf(c.env, event), (routing?.connections ?? []).map(toRoutable), () => newId("delivery", now));
        const created = plan.deliveries.map((d) => ({ id: d.delivery_id, event_id: event.id, connection_id: d.connection_id, destination_id: d.destination_id }));
        if (created.length > 0) await c.env.DB.batch(deliveryInserts(c.env.DB, t, created, now));
        ids = created.map((d) => d.id);
      }
      await reopenDeliveries(c.var.db, t, ids, [event.id], now);
      const rows = await deliveriesWithEvents(c.env.DB, ids, t);
      await enqueueToSchedulers(c.env, rows.map(toEnqueueItem), { mode: "now" });
      return c.json({ event_id: event.id, deliveries: ids.length }, 202);
    },
  );

export const attemptsApi = router().openapi(
  createRoute({ method: "get", path: "/", tags: ["Delivery attempts"], request: { query: AttemptListQuerySchema }, responses: { 200: json(listOf(AttemptSchema, "DeliveryAttemptList"), "attempts, newest first"), ...errorResponses } }),
  async (c) => {
    const page = await listAttempts(c.var.db, c.var.principal, c.req.valid("query"));
    return c.json({ data: page.data.map(attemptView), next_cursor: page.next_cursor }, 200);
  },
);
