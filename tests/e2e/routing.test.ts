// Routing on the real runtime (issue 4): connections created through the API at run time with
// filters, a JSONata transform and a JSON Schema, driven by real webhooks against `wrangler dev`.
// workerd refuses code generation from strings (ajv's compile()), which vitest-pool-workers
// allows, so only this tier proves that schemas and transforms work where they will run; it
// also proves that hostile transforms end as recorded failures while the gateway keeps serving.
import { afterAll, describe, expect, inject, it } from "vitest";
import type {} from "./setup/gateway.js";
import { Api, ingest, ingestOk, verifyWithStandardWebhooks, type ApiError, type AttemptView, type DestinationView, type EventView } from "./setup/api.js";
import { pollUntil } from "./setup/poll.js";
import { closeAll, startReceiver, type ReceivedRequest, type Receiver } from "./setup/receiver.js";

const { baseUrl, tenantA, tenantB } = inject("gateway");
const api = new Api(baseUrl, tenantA.api_key);

const receivers: Receiver[] = [];
async function receiver(): Promise<Receiver> {
  const r = await startReceiver({ reply: { status: 200, body: "ok" } });
  receivers.push(r);
  return r;
}

afterAll(async () => {
  await closeAll(receivers);
});

interface Routing {
  filters?: unknown[];
  transform?: string;
  schema?: Record<string, unknown>;
  schema_mode?: "reject" | "warn";
}
interface ConnectionView {
  id: string;
  filters: unknown[];
  transform: string | null;
  schema: Record<string, unknown> | null;
  schema_mode: "reject" | "warn";
}
type Attempt = AttemptView & { validation_errors: { path: string; message: string }[] | null };
type RoutedEvent = EventView & { routing: { connection_id: string; outcome: "filtered"; rule: Record<string, unknown>; reason: string }[] };
interface DeadLetter {
  event_id: string;
  delivery_id: string;
  connection_id: string;
  reason: string;
  attempts: number;
  last_status_code: number | null;
}
interface TestResult {
  matched: boolean;
  filter: { rule: Record<string, unknown>; reason: string } | null;
  output: unknown;
  transformed: boolean;
  validation: { valid: boolean; errors: { path: string; message: string }[] } | null;
  error: { stage: "transform" | "schema"; message: string } | null;
  would_deliver: boolean;
}

const destination = (url: string) => api.createHttpDestination({ url });
const connect = (sourceId: string, destinationId: string, routing: Routing = {}) =>
  api.expect<ConnectionView>(201, "POST", "/v1/connections", { source_id: sourceId, destination_id: destinationId, ...routing });
const attempts = async (eventId: string) => (await api.expect<{ data: Attempt[] }>(200, "GET", `/v1/events/${eventId}/attempts?limit=100`)).data;
const dlq = async (destinationId: string) => (await api.expect<{ data: DeadLetter[] }>(200, "GET", `/v1/destinations/${destinationId}/dlq?limit=100`)).data;
const event = (id: string) => api.expect<RoutedEvent>(200, "GET", `/v1/events/${id}`);
const at = (path: string) => (r: ReceivedRequest) => new URL(r.url, "http://x").pathname === path;
const json = (r: ReceivedRequest): unknown => JSON.parse(r.body.toString("utf8"));

/** Polls until every delivery of the event is delivered or failed. */
function finished(eventId: string, count: number, timeoutMs = 20_000) {
  return pollUntil(
    () => event(eventId),
    (e) => e.deliveries.length === count && e.deliveries.every((d) => d.status === "delivered" || d.status === "failed"),
    { what: `${count} finished deliveries of ${eventId}`, timeoutMs, intervalMs: 100 },
  );
}

const deliveryOf = (e: EventView, connectionId: string) => {
  const d = e.deliveries.find((x) => x.connection_id === connectionId);
  if (!d) throw new Error(`no delivery for ${connectionId} on ${e.id}: ${JSON.stringify(e.deliveries)}`);
  return d;
};

async function healthy(): Promise<void> {
  const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ ok: true });
}

const orderSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["order_id", "amount", "email"],
  properties: { order_id: { type: "string", minLength: 1 }, amount: { type: "number", minimum: 0 }, email: { type: "string", format: "email" } },
  additionalProperties: false,
};
const orderSchemaDraft07 = {
  $schema: "http://json-schema.org/draft-07/schema#",
  definitions: { money: { type: "number", minimum: 0 } },
  type: "object",
  required: ["order_id", "amount"],
  properties: { order_id: { type: "string" }, amount: { $ref: "#/definitions/money" }, lines: { type: "array", items: [{ type: "string" }], additionalItems: false } },
};
const toOrder = '{ "order_id": body.id, "amount": body.total / 100, "email": body.customer.email }';

describe("routing on wrangler dev", () => {
  it("filters, transforms and validates (reject and warn) on connections created at run time", async () => {
    const rcv = await receiver();
    const source = await api.createSource();
    const rejectDst = await destination(`${rcv.url}/reject`);
    const warnDst = await destination(`${rcv.url}/warn`);
    const onlyCreated = [{ field: "body.type", op: "eq", value: "order.created" }, { field: "headers.X-Shop", op: "exists" }];
    const reject = await connect(source.id, rejectDst.id, { filters: onlyCreated, transform: toOrder, schema: orderSchema, schema_mode: "reject" });
    const warn = await connect(source.id, warnDst.id, { filters: onlyCreated, transform: toOrder, schema: orderSchemaDraft07, schema_mode: "warn" });
    expect(reject).toMatchObject({ filters: onlyCreated, transform: toOrder, schema: orderSchema, schema_mode: "reject" });
    expect((await api.expect<ConnectionView>(200, "GET", `/v1/connections/${warn.id}`)).schema).toEqual(orderSchemaDraft07);

    const headers = { "content-type": "application/json", "x-shop": "acme" };
    const good = await ingestOk(baseUrl, source.id, { headers, body: JSON.stringify({ type: "order.created", id: "o-1", total: 1250, customer: { email: "jane@example.com" } }) });
    const bad = await ingestOk(baseUrl, source.id, { headers, body: JSON.stringify({ type: "order.created", id: 7, total: -500, customer: { email: "not-an-email" } }) });
    const skipped = await ingestOk(baseUrl, source.id, { headers, body: JSON.stringify({ type: "order.deleted", id: "o-2" }) });

    // The valid order reaches both destinations in the transformed shape, signed over those bytes.
    const [sent] = await rcv.waitForRequests(1, { filter: at("/reject") });
    expect(sent!.body.toString("utf8")).toBe(JSON.stringify({ order_id: "o-1", amount: 12.5, email: "jane@example.com" }));
    expect(sent!.headers["content-type"]).toBe("application/json");
    expect(sent!.headers["x-shop"]).toBe("acme");
    expect(sent!.headers["x-hookstream-event-id"]).toBe(good);
    expect(() => verifyWithStandardWebhooks(rejectDst.config.signing_secret!, sent!.headers, sent!.body)).not.toThrow();
    expect(() => verifyWithStandardWebhooks(rejectDst.config.signing_secret!, sent!.headers, Buffer.from(JSON.stringify({ id: "o-1" })))).toThrow();

    // The invalid one: dead-lettered by the reject connection with the schema's errors, never sent there …
    const badEvent = await finished(bad, 2);
    const rejected = deliveryOf(badEvent, reject.id);
    expect(rejected).toMatchObject({ status: "failed", attempts: 1 });
    const schemaError = /^schema: payload does not match the connection's schema: \/order_id Instance type "number" is invalid\. Expected "string"\. \(and \d+ more\)$/;
    expect(rejected.last_error).toMatch(schemaError);
    const badAttempts = await attempts(bad);
    const rejectedAttempt = badAttempts.filter((a) => a.connection_id === reject.id);
    expect(rejectedAttempt).toHaveLength(1);
    expect(rejectedAttempt[0]).toMatchObject({ status: "failed", status_code: null, response_body: null, validation_errors: null });
    expect(rejectedAttempt[0]!.error).toMatch(schemaError);
    const dead = await dlq(rejectDst.id);
    expect(dead.map((d) => ({ event_id: d.event_id, connection_id: d.connection_id, attempts: d.attempts, last_status_code: d.last_status_code }))).toEqual([
      { event_id: bad, connection_id: reject.id, attempts: 1, last_status_code: null },
    ]);
    expect(dead[0]!.reason).toMatch(schemaError);
    expect(rejectedAttempt[0]!.error).toBe(dead[0]!.reason);
    expect(rcv.requests.filter(at("/reject"))).toHaveLength(1);

    // … and delivered by the warn connection (draft-07 schema) with the errors on the attempt.
    const warned = await rcv.waitForRequests(2, { filter: at("/warn") });
    expect(warned.map(json)).toEqual(
      expect.arrayContaining([
        { order_id: "o-1", amount: 12.5, email: "jane@example.com" },
        { order_id: 7, amount: -5, email: "not-an-email" },
      ]),
    );
    expect(deliveryOf(badEvent, warn.id)).toMatchObject({ status: "delivered", attempts: 1, last_error: null });
    const warnAttempt = badAttempts.find((a) => a.connection_id === warn.id)!;
    expect(warnAttempt).toMatchObject({ status: "success", status_code: 200, error: null });
    expect(warnAttempt.validation_errors).toEqual([
      { path: "/order_id", message: 'Instance type "number" is invalid. Expected "string".' },
      { path: "/amount", message: "-5 is less than 0." },
    ]);
    expect((await attempts(good)).map((a) => [a.status, a.validation_errors])).toEqual([
      ["success", null],
      ["success", null],
    ]);
    expect(await dlq(warnDst.id)).toEqual([]);

    // The filtered event is explained, not failed, and reached nobody.
    const skippedEvent = await event(skipped);
    expect(skippedEvent).toMatchObject({ status: "received", deliveries: [] });
    expect(skippedEvent.routing).toEqual(
      expect.arrayContaining([reject.id, warn.id].map((connection_id) => ({
        connection_id, outcome: "filtered", rule: { path: "filters[0]", field: "body.type", op: "eq", value: "order.created" }, reason: 'body.type is "order.deleted", expected "order.created"',
      }))),
    );
    expect(skippedEvent.routing).toHaveLength(2);
    expect(rcv.requests.filter((r) => r.headers["x-hookstream-event-id"] === skipped)).toEqual([]);
  });

  it("refuses bad filters, JSONata and schemas at create time with a 400 naming the field", async () => {
    const source = await api.createSource();
    const dst = await destination("http://127.0.0.1:9/never");
    const refuse = async (routing: Record<string, unknown>) => {
      const res = await api.request<ApiError>("POST", "/v1/connections", { source_id: source.id, destination_id: dst.id, ...routing });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      return res.body.error.message;
    };
    expect(await refuse({ filters: [{ field: "body.a", op: "eq", value: 1 }, { any: [{ field: "body.b", op: "regex", value: "x" }] }] })).toMatch(/^filters\.1\.any\.0\.op: op "regex" is unknown/);
    expect(await refuse({ transform: '{ "a": body.a ' })).toMatch(/^transform: JSONata S0\d{3} at position \d+: .* \(at position \d+\)$/);
    expect(await refuse({ schema: { type: "object", properties: { a: { type: "text" } } } })).toMatch(/^schema: schema is not a valid draft 2020-12 schema: \/properties\/a\/type/);
  });

  it("hostile transforms end as recorded permanent failures while the gateway keeps serving", async () => {
    const rcv = await receiver();
    const hostile = await api.createSource();
    const plain = await api.createSource();

    // The ReDoS expression is refused up front …
    const redos = "$match(body.s, /(a+)+$/)";
    const redosDst = await destination(`${rcv.url}/redos`);
    const refused = await api.request<ApiError>("POST", "/v1/connections", { source_id: hostile.id, destination_id: redosDst.id, transform: redos });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/^transform: regex rejected: nested quantifier in \/\(a\+\)\+\$\/ \(at position \d+\)$/);

    // … so it is smuggled in at run time through $eval of a string that arrives in the webhook.
    const loopDst = await destination(`${rcv.url}/loop`);
    const padDst = await destination(`${rcv.url}/pad`);
    const normalDst = await destination(`${rcv.url}/normal`);
    const loop = await connect(hostile.id, loopDst.id, { transform: "($f := function($x){ $f($x) }; $f(1))" });
    const pad = await connect(hostile.id, padDst.id, { transform: '$pad("x", 1000000000)' });
    const smuggled = await connect(hostile.id, redosDst.id, { transform: "$eval(body.expr)" });
    // A healthy connection on the same destination (same scheduler) as the infinite loop, and one of its own.
    const besideLoop = await connect(hostile.id, loopDst.id, { transform: '{ "n": body.n, "via": "beside-loop" }' });
    const normal = await connect(hostile.id, normalDst.id);
    const plainDst = await destination(`${rcv.url}/plain`);
    await connect(plain.id, plainDst.id, { transform: '{ "n": body.n }' });

    const hostileBody = (n: number) => JSON.stringify({ n, expr: redos, s: `${"a".repeat(48)}!` });
    const headers = { "content-type": "application/json" };
    const hostileIds = await Promise.all([0, 1, 2, 3].map((n) => ingestOk(baseUrl, hostile.id, { headers, body: hostileBody(n) })));
    // Meanwhile, while the schedulers chew on those: other webhooks are accepted and /healthz answers.
    const plainIds = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map(async (n) => {
        await healthy();
        const res = await ingest(baseUrl, plain.id, { headers, body: JSON.stringify({ n }) });
        expect(res.status).toBe(202);
        return (res.body as { event_id: string }).event_id;
      }),
    );
    expect(plainIds).toHaveLength(8);
    await healthy();

    const plainSeen = await rcv.waitForRequests(8, { filter: at("/plain"), timeoutMs: 20_000 });
    expect(plainSeen.map((r) => (json(r) as { n: number }).n).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const normalSeen = await rcv.waitForRequests(4, { filter: at("/normal") });
    expect(normalSeen.map((r) => r.body.toString("utf8")).sort()).toEqual([0, 1, 2, 3].map(hostileBody));
    const besideSeen = await rcv.waitForRequests(4, { filter: at("/loop") });
    expect(besideSeen.map(json)).toEqual(expect.arrayContaining([0, 1, 2, 3].map((n) => ({ n, via: "beside-loop" }))));

    const failures: Record<string, RegExp> = {
      // Local workerd's clock moves, so the 50 ms timer usually wins here; deployed Workers freeze it
      // between I/O and the step budget stops the loop (proven on its own in the dry-run test).
      [loop.id]: /^transform: transform (exceeded 50000 evaluation steps|timed out after 50 ms)$/,
      [pad.id]: /^transform: \$pad width 1000000000 exceeds the limit of 10000$/,
      [smuggled.id]: /^transform: regex rejected: nested quantifier in \/\(a\+\)\+\$\/$/,
    };
    for (const id of hostileIds) {
      const e = await finished(id, 5);
      for (const [connectionId, message] of Object.entries(failures)) {
        expect(deliveryOf(e, connectionId), connectionId).toMatchObject({ status: "failed", attempts: 1 });
        expect(deliveryOf(e, connectionId).last_error).toMatch(message);
      }
      expect(deliveryOf(e, besideLoop.id).status).toBe("delivered");
      expect(deliveryOf(e, normal.id).status).toBe("delivered");
      const list = await attempts(id);
      for (const [connectionId, message] of Object.entries(failures)) {
        const mine = list.filter((a) => a.connection_id === connectionId);
        expect(mine).toHaveLength(1);
        expect(mine[0]).toMatchObject({ status: "failed", status_code: null });
        expect(mine[0]!.error).toMatch(message);
      }
    }
    const deadBy = async (d: DestinationView) => (await dlq(d.id)).map((x) => x.connection_id);
    expect(await deadBy(loopDst)).toEqual(Array(4).fill(loop.id));
    expect(await deadBy(padDst)).toEqual(Array(4).fill(pad.id));
    expect(await deadBy(redosDst)).toEqual(Array(4).fill(smuggled.id));
    // Nothing from a hostile connection reached the network.
    expect(rcv.requests.filter(at("/pad"))).toEqual([]);
    expect(rcv.requests.filter(at("/redos"))).toEqual([]);
    expect(rcv.requests.filter(at("/loop"))).toHaveLength(4);

    // Afterwards the gateway still ingests and delivers.
    await healthy();
    const after = await ingestOk(baseUrl, plain.id, { headers, body: JSON.stringify({ n: 99 }) });
    const [late] = await rcv.waitForRequests(1, { filter: (r) => at("/plain")(r) && r.headers["x-hookstream-event-id"] === after });
    expect(json(late!)).toEqual({ n: 99 });
  });

  it("a schema pattern that passes the ReDoS check cannot stall the gateway with many long strings", async () => {
    // /a*b/ has no nested quantifier, so it is accepted; unanchored it backtracks O(n²), ~0.1 s
    // on 10 000 characters. The per-string cap bounds one string, not a payload full of them:
    // anyone who knows the ingest URL chooses how many strings there are.
    const rcv = await receiver();
    const source = await api.createSource();
    const dst = await destination(`${rcv.url}/patterned`);
    await connect(source.id, dst.id, { schema: { type: "object", properties: { notes: { type: "array", items: { type: "string", pattern: "a*b" } } } } });
    const other = await api.createSource();
    const otherDst = await destination(`${rcv.url}/other`);
    await connect(other.id, otherDst.id);

    const note = `${"a".repeat(6_998)}cb`; // matches, but only after trying every start position
    const id = await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body: JSON.stringify({ notes: Array(30).fill(note) }) });
    // Meanwhile the gateway keeps answering and delivering for others.
    for (let i = 0; i < 5; i++) await healthy();
    const otherId = await ingestOk(baseUrl, other.id, { headers: { "content-type": "application/json" }, body: '{"n":1}' });
    await rcv.waitForRequests(1, { filter: (r) => r.headers["x-hookstream-event-id"] === otherId });
    // The payload's total regex work is over the validator's budget: refused with a clear reason, never run.
    const done = await finished(id, 1, 30_000);
    expect(done.deliveries[0]!.status).toBe("failed");
    expect(done.deliveries[0]!.last_error).toMatch(/^schema: .*too much text to check against the schema's patterns/);
    expect(rcv.requests.filter(at("/patterned"))).toEqual([]);
  });

  it("dry-runs filters, transforms and schemas on a sample and on a stored event", async () => {
    const dryRun = (key: string, input: Record<string, unknown>) => new Api(baseUrl, key).request<TestResult>("POST", "/v1/connections/test", input);
    const run = async (input: Record<string, unknown>) => {
      const res = await dryRun(tenantA.api_key, input);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    };
    const payload = { body: { type: "order.created", id: 7, total: 1250, customer: { email: "jane@example.com" } }, headers: { "X-Shop": "acme" } };

    const invalid = await run({ filters: [{ field: "headers.x-shop", op: "eq", value: "acme" }], transform: toOrder, schema: orderSchema, payload });
    expect(invalid).toEqual({
      matched: true, filter: null, output: null, transformed: false,
      validation: { valid: false, errors: [{ path: "/order_id", message: 'Instance type "number" is invalid. Expected "string".' }] },
      error: { stage: "schema", message: `payload does not match the connection's schema: /order_id Instance type "number" is invalid. Expected "string".` },
      would_deliver: false,
    });
    const warned = await run({ transform: toOrder, schema: orderSchemaDraft07, schema_mode: "warn", payload: { ...payload, body: { ...payload.body, id: "o-7" } } });
    expect(warned).toEqual({
      matched: true, filter: null, output: { order_id: "o-7", amount: 12.5, email: "jane@example.com" }, transformed: true,
      validation: { valid: true, errors: [] }, error: null, would_deliver: true,
    });
    const filtered = await run({ filters: [{ field: "body.total", op: "lte", value: 1000 }], transform: '$pad("x", 1000000000)', payload });
    expect(filtered).toMatchObject({ matched: false, filter: { rule: { path: "filters[0]", field: "body.total", op: "lte", value: 1000 }, reason: "body.total is 1250, expected <= 1000" }, error: null, would_deliver: false });

    const hostile = [
      { transform: "($f := function($x){ $f($x) }; $f(1))", message: /^transform (exceeded 50000 evaluation steps|timed out after 50 ms)$/ },
      { transform: '($s := function($x, $n){ $n = 0 ? $x : $s($x & $x, $n - 1) }; $s("x", 40))', message: /^transform intermediate value exceeds 4 MiB$/ },
      { transform: '$pad("x", 1000000000)', message: /^\$pad width 1000000000 exceeds the limit of 10000$/ },
      { transform: "$eval(body.expr)", message: /^regex rejected: nested quantifier in \/\(a\+\)\+\$\/$/ },
    ];
    for (const h of hostile) {
      const result = await run({ transform: h.transform, payload: { body: { expr: "$match(body.s, /(a+)+$/)", s: `${"a".repeat(48)}!` } } });
      expect(result).toMatchObject({ matched: true, output: null, would_deliver: false, error: { stage: "transform" } });
      expect(result.error!.message).toMatch(h.message);
    }
    // A short loop over a big value: each pass hands 1 MB to a built-in, charged one step per KiB,
    // so the step budget (what stops runaway loops where the clock is frozen) ends it within ~50 passes.
    const walk = await run({ transform: '($s := body.s; $count([1..100].($contains($s, "y"))))', payload: { body: { s: "x".repeat(1_000_000) } } });
    expect(walk.error).toEqual({ stage: "transform", message: "transform exceeded 50000 evaluation steps" });
    await healthy();

    const source = await api.createSource();
    const id = await ingestOk(baseUrl, source.id, { query: "region=eu", headers: { "content-type": "application/json", "x-shop": "acme" }, body: JSON.stringify({ id: "o-9", total: 990, customer: { email: "max@example.com" } }) });
    const stored = await run({
      event_id: id,
      filters: [{ field: "query.region", op: "eq", value: "eu" }, { field: "headers.X-SHOP", op: "eq", value: "acme" }],
      transform: `$merge([${toOrder}, { "event": metadata.event_id }])`,
      schema: orderSchema,
      schema_mode: "warn",
    });
    expect(stored).toEqual({
      matched: true, filter: null, output: { order_id: "o-9", amount: 9.9, email: "max@example.com", event: id }, transformed: true,
      validation: { valid: false, errors: [{ path: "", message: expect.stringContaining("event") }] }, error: null, would_deliver: true,
    });
    const otherTenant = await dryRun(tenantB.api_key, { event_id: id, transform: "body" });
    expect(otherTenant.status).toBe(404);
    expect((otherTenant.body as unknown as ApiError).error.code).toBe("not_found");
  });
});
