import type { z } from "@hono/zod-openapi";
import type { Env } from "../env.js";
import type { Database, Tenant } from "../db/client.js";
import { getEvent } from "../db/repositories/events.js";
import { AppError, notFound } from "../lib/errors.js";
import { transformer } from "../delivery/apply-route.js";
import { forwardableHeaders, routingBody } from "../routing/plan.js";
import { parseBodyForRouting, runConnection, type RoutingInput } from "../routing/pipeline.js";
import { checkSchemaOrThrow, checkTransformOrThrow, parseFilters } from "./connection-rules.js";
import { receivedRequestOf } from "./event-body.js";
import type { ConnectionTestResultSchema, ConnectionTestSchema } from "./schemas.js";

type TestInput = z.infer<typeof ConnectionTestSchema>;
type TestResult = z.infer<typeof ConnectionTestResultSchema>;

/** `POST /v1/connections/test`: the same pipeline the gateway runs, on a stored event or a sample, delivering nothing. */
export async function testConnection(db: Database, env: Env, t: Tenant, input: TestInput): Promise<TestResult> {
  if ((input.event_id === undefined) === (input.payload === undefined)) {
    throw new AppError("validation_failed", "give exactly one of event_id or payload");
  }
  const filters = input.filters === undefined ? [] : parseFilters(input.filters);
  checkTransformOrThrow(input.transform);
  checkSchemaOrThrow(input.schema);

  const dry = input.event_id ? await fromEvent(db, env, t, input.event_id) : fromPayload(input.payload!);
  // Filters at ingest see every header; transform and schema at delivery see the forwarded ones.
  const filtered = await runConnection({ filters, transform: null, schema: null, schema_mode: "reject" }, dry.filter, transformer);
  const outcome =
    filtered.outcome === "filtered"
      ? filtered
      : await runConnection({ filters: [], transform: input.transform ?? null, schema: input.schema ?? null, schema_mode: input.schema_mode ?? "reject" }, dry.deliver, transformer);
  const hasSchema = input.schema !== undefined && input.schema !== null;
  switch (outcome.outcome) {
    case "filtered":
      return { matched: false, filter: { rule: { ...outcome.rule }, reason: outcome.reason }, output: null, transformed: false, validation: null, error: null, would_deliver: false };
    case "rejected":
      return {
        matched: true,
        filter: null,
        output: null,
        transformed: false,
        validation: outcome.stage === "schema" ? { valid: false, errors: outcome.errors ?? [] } : null,
        error: { stage: outcome.stage, message: outcome.message },
        would_deliver: false,
      };
    case "deliver":
      return {
        matched: true,
        filter: null,
        output: outcome.payload ?? null,
        transformed: outcome.transformed,
        validation: hasSchema ? { valid: !outcome.validation_errors, errors: outcome.validation_errors ?? [] } : null,
        error: null,
        would_deliver: true,
      };
  }
}

interface DryRunInput {
  /** What filters see at ingest: every header as received. */
  filter: RoutingInput;
  /** What the transform and schema see at delivery: the forwarded headers. */
  deliver: RoutingInput;
}

async function fromEvent(db: Database, env: Env, t: Tenant, eventId: string): Promise<DryRunInput> {
  const event = await getEvent(db, t, eventId);
  if (!event) throw notFound("event");
  const request = await receivedRequestOf(env, event);
  const body = routingBody(request);
  const metadata = { event_id: event.id, source_id: event.source_id, received_at: new Date(event.received_at).toISOString(), method: event.method, attempt: 1 };
  return {
    filter: { body, headers: request.headers, query: request.query, metadata },
    deliver: { body, headers: forwardableHeaders(request.headers), query: request.query, metadata },
  };
}

function fromPayload(p: NonNullable<TestInput["payload"]>): DryRunInput {
  const headers = Object.fromEntries(Object.entries(p.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const body = typeof p.body === "string" ? parseBodyForRouting(p.body, headers["content-type"] ?? null) : p.body;
  const query = p.query ?? {};
  const metadata = { event_id: "evt_test", source_id: "src_test", received_at: new Date().toISOString(), method: "POST", attempt: 1 };
  return { filter: { body, headers, query, metadata }, deliver: { body, headers: forwardableHeaders(headers), query, metadata } };
}
