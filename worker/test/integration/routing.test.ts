// Routing through the API, end to end in the workers pool: connections with filters, a JSONata
// transform and a JSON Schema are created over HTTP, real webhooks are ingested, and what the
// receivers got, what the event says and what the attempts/DLQ record are checked.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { INLINE_BODY_LIMIT } from "../../src/model/types.js";
import { checkTransform, createTransformer } from "../../src/routing/transform.js";
import { client, expectError, expectStatus, request, type Client } from "../helpers/api.js";
import {
  createConnection, createDestination, createSource, receivedBy, receiverUrl, uniqueName, waitFor, type ReceivedRequest,
} from "../helpers/fixtures.js";
import { fromBase64, standardWebhookSignature } from "../helpers/secrets.js";
import { seedTenant, type SeededTenant } from "../helpers/seed.js";
import type { Attempt, Circuit, Connection, DeadLetter, Destination, Event, Page, Source } from "../helpers/types.js";

let tenant: SeededTenant;
let api: Client;

beforeAll(async () => {
  tenant = await seedTenant("routing");
  api = client(tenant.key);
});

interface TestResult {
  matched: boolean;
  filter: { rule: Record<string, unknown>; reason: string } | null;
  output: unknown;
  transformed: boolean;
  validation: { valid: boolean; errors: { path: string; message: string }[] } | null;
  error: { stage: "transform" | "schema"; message: string } | null;
  would_deliver: boolean;
}

interface Route {
  receiver: string;
  destination: Destination;
  connection: Connection;
}

const decoder = new TextDecoder();
const bodyText = (r: ReceivedRequest) => decoder.decode(fromBase64(r.body_base64));
const bodyJson = (r: ReceivedRequest): unknown => JSON.parse(bodyText(r));

/** A new destination on its own receiver, connected to `source` with the given routing. */
async function route(source: Source, routing: Record<string, unknown> = {}, destination?: { destination: Destination; receiver: string }): Promise<Route> {
  const receiver = destination?.receiver ?? uniqueName();
  const dst = destination?.destination ?? (await createDestination(api, {}, { url: receiverUrl(receiver) }));
  const connection = await createConnection(api, source.id, dst.id, routing);
  return { receiver, destination: dst, connection };
}

async function ingest(sourceId: string, body: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }, query = ""): Promise<string> {
  const res = await request<{ event_id: string }>("POST", `/v1/ingest/${sourceId}${query}`, { raw: body, headers });
  expectStatus(res, 202);
  return res.body.event_id;
}

function waitForRequests(name: string, n: number): Promise<ReceivedRequest[]> {
  return waitFor(async () => {
    const list = await receivedBy(name);
    return list.length >= n && list;
  }, `${n} request(s) at receiver ${name}`);
}

const event = async (id: string) => {
  const res = await api.get<Event>(`/v1/events/${id}`);
  expectStatus(res, 200);
  return res.body;
};
const attempts = async (eventId: string) => (await api.get<Page<Attempt>>(`/v1/events/${eventId}/attempts?limit=100`)).body.data;
const deadLetters = async (destinationId: string) => (await api.get<Page<DeadLetter>>(`/v1/destinations/${destinationId}/dlq?limit=100`)).body.data;
const deliveryRows = async (eventId: string) =>
  (await env.DB.prepare("SELECT connection_id, status, attempts FROM deliveries WHERE event_id = ?1").bind(eventId).all<{ connection_id: string; status: string; attempts: number }>()).results;

/** Waits until every delivery of the event has finished (delivered or failed). */
function waitForFinished(eventId: string, count: number) {
  return waitFor(async () => {
    const rows = await deliveryRows(eventId);
    return rows.length === count && rows.every((r) => r.status === "delivered" || r.status === "failed") && rows;
  }, `${count} finished deliveries of ${eventId}`);
}

function attemptOf(list: Attempt[], connectionId: string): Attempt {
  const found = list.filter((a) => a.connection_id === connectionId);
  expect(found, `attempts of ${connectionId}`).toHaveLength(1);
  return found[0]!;
}

const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------

describe("filters: every operator through the API", () => {
  interface OpCase {
    name: string;
    filters: unknown[];
    /** Absent: the event passes. Else the rule and reason recorded on the event. */
    filtered?: { rule: Record<string, unknown>; reason: string | RegExp };
  }

  const cases: OpCase[] = [
    { name: "eq on a string", filters: [{ field: "body.type", op: "eq", value: "order.created" }] },
    {
      name: "eq that differs",
      filters: [{ field: "body.type", op: "eq", value: "order.paid" }],
      filtered: { rule: { path: "filters[0]", field: "body.type", op: "eq", value: "order.paid" }, reason: 'body.type is "order.created", expected "order.paid"' },
    },
    { name: "eq: a number equals a numeric string", filters: [{ field: "body.amount", op: "eq", value: "120" }] },
    {
      name: "eq does not coerce booleans",
      filters: [{ field: "body.paid", op: "eq", value: "true" }],
      filtered: { rule: { field: "body.paid", op: "eq" }, reason: 'body.paid is true, expected "true"' },
    },
    { name: "neq", filters: [{ field: "body.currency", op: "neq", value: "USD" }] },
    { name: "neq on a missing field", filters: [{ field: "body.coupon", op: "neq", value: "SUMMER" }] },
    {
      name: "neq that is equal",
      filters: [{ field: "body.currency", op: "neq", value: "EUR" }],
      filtered: { rule: { field: "body.currency", op: "neq", value: "EUR" }, reason: 'body.currency is "EUR", expected anything but "EUR"' },
    },
    { name: "contains on a string", filters: [{ field: "body.customer.email", op: "contains", value: "@example.com" }] },
    { name: "contains on an array", filters: [{ field: "body.tags", op: "contains", value: "vip" }] },
    {
      name: "contains without the element",
      filters: [{ field: "body.tags", op: "contains", value: "us" }],
      filtered: { rule: { field: "body.tags", op: "contains", value: "us" }, reason: 'body.tags is ["vip","eu"], which has no element equal to "us"' },
    },
    {
      name: "contains on a number",
      filters: [{ field: "body.amount", op: "contains", value: "12" }],
      filtered: { rule: { field: "body.amount", op: "contains" }, reason: "body.amount is a number; contains applies to strings and arrays" },
    },
    { name: "gt", filters: [{ field: "body.amount", op: "gt", value: 100 }] },
    { name: "gt, not equal", filters: [{ field: "body.amount", op: "gt", value: 120 }], filtered: { rule: { field: "body.amount", op: "gt", value: 120 }, reason: "body.amount is 120, expected > 120" } },
    { name: "gte", filters: [{ field: "body.amount", op: "gte", value: 120 }] },
    { name: "gte, below", filters: [{ field: "body.amount", op: "gte", value: 121 }], filtered: { rule: { op: "gte" }, reason: "body.amount is 120, expected >= 121" } },
    { name: "lt", filters: [{ field: "body.amount", op: "lt", value: 121 }] },
    { name: "lt, not below", filters: [{ field: "body.amount", op: "lt", value: 120 }], filtered: { rule: { op: "lt" }, reason: "body.amount is 120, expected < 120" } },
    { name: "lte", filters: [{ field: "body.amount", op: "lte", value: 120 }] },
    { name: "lte with a numeric string value", filters: [{ field: "body.amount", op: "lte", value: "119" }], filtered: { rule: { op: "lte", value: "119" }, reason: 'body.amount is 120, expected <= "119"' } },
    { name: "gt on a non-numeric string", filters: [{ field: "body.type", op: "gt", value: 1 }], filtered: { rule: { op: "gt" }, reason: 'body.type is "order.created", not a number' } },
    { name: "exists on null (null is a value)", filters: [{ field: "body.customer.note", op: "exists" }] },
    {
      name: "exists on a missing field",
      filters: [{ field: "body.coupon", op: "exists", value: true }],
      filtered: { rule: { field: "body.coupon", op: "exists" }, reason: "body.coupon is missing, expected it to exist" },
    },
    { name: "exists false on a missing field", filters: [{ field: "body.coupon", op: "exists", value: false }] },
    {
      name: "exists false on a present field",
      filters: [{ field: "body.customer.note", op: "exists", value: false }],
      filtered: { rule: { op: "exists", value: false }, reason: "body.customer.note is null, expected it to be absent" },
    },
    { name: "in", filters: [{ field: "body.currency", op: "in", value: ["GBP", "EUR"] }] },
    {
      name: "in without the value",
      filters: [{ field: "body.currency", op: "in", value: ["USD", "GBP"] }],
      filtered: { rule: { op: "in", value: ["USD", "GBP"] }, reason: 'body.currency is "EUR", expected one of ["USD","GBP"]' },
    },
    { name: "an array index", filters: [{ field: "body.items.1.sku", op: "eq", value: "B-2" }] },
    { name: "an index past the end", filters: [{ field: "body.items.2.sku", op: "exists" }], filtered: { rule: { field: "body.items.2.sku" }, reason: "body.items.2.sku is missing, expected it to exist" } },
    { name: "an any group with one match", filters: [{ any: [{ field: "body.type", op: "eq", value: "refund" }, { field: "body.amount", op: "gt", value: 100 }] }] },
    {
      name: "an any group with no match",
      filters: [{ any: [{ field: "body.type", op: "eq", value: "refund" }, { field: "body.amount", op: "lt", value: 10 }] }],
      filtered: {
        rule: { path: "filters[0].any[0]", field: "body.type", op: "eq", value: "refund" },
        reason: 'none of the 2 conditions in filters[0].any matched: body.type is "order.created", expected "refund"; body.amount is 120, expected < 10',
      },
    },
    {
      name: "all rules must match (the second one fails)",
      filters: [{ field: "body.type", op: "eq", value: "order.created" }, { all: [{ field: "body.currency", op: "eq", value: "EUR" }, { field: "body.paid", op: "eq", value: false }] }],
      filtered: { rule: { path: "filters[1].all[1]", field: "body.paid", op: "eq", value: false }, reason: "body.paid is true, expected false" },
    },
    { name: "a header, with its name in another case", filters: [{ field: "headers.X-Shop", op: "eq", value: "acme" }] },
    { name: "a header compared as a number", filters: [{ field: "headers.x-count", op: "gt", value: 41 }] },
    {
      name: "a header that differs",
      filters: [{ field: "headers.x-shop", op: "eq", value: "globex" }],
      filtered: { rule: { field: "headers.x-shop", op: "eq" }, reason: 'headers.x-shop is "acme", expected "globex"' },
    },
    { name: "a query parameter", filters: [{ field: "query.region", op: "eq", value: "eu" }] },
    {
      name: "query names are case-sensitive",
      filters: [{ field: "query.Region", op: "eq", value: "eu" }],
      filtered: { rule: { field: "query.Region", op: "eq" }, reason: "query.Region is missing" },
    },
  ];

  const body = JSON.stringify({
    type: "order.created",
    amount: 120,
    currency: "EUR",
    paid: true,
    tags: ["vip", "eu"],
    items: [{ sku: "A-1" }, { sku: "B-2" }],
    customer: { email: "jane@example.com", note: null },
  });
  const routes = new Map<string, Route>();
  let eventId: string;
  let ev: Event;

  beforeAll(async () => {
    const source = await createSource(api);
    for (const c of cases) routes.set(c.name, await route(source, { filters: c.filters }));
    eventId = await ingest(source.id, body, { "content-type": "application/json", "X-Shop": "acme", "x-count": "42" }, "?region=eu");
    const passing = cases.filter((c) => !c.filtered);
    await Promise.all(passing.map((c) => waitForRequests(routes.get(c.name)!.receiver, 1)));
    ev = await event(eventId);
  });

  it("stores each connection's filters as given and returns them on GET", async () => {
    for (const c of cases) {
      const got = await api.get<Connection>(`/v1/connections/${routes.get(c.name)!.connection.id}`);
      expectStatus(got, 200);
      expect(got.body.filters, c.name).toEqual(c.filters);
    }
  });

  it("creates deliveries for exactly the connections whose filters match", () => {
    const expected = cases.filter((c) => !c.filtered).map((c) => routes.get(c.name)!.connection.id);
    expect(ev.deliveries.map((d) => d.connection_id).sort()).toEqual(expected.sort());
    expect(ev.routing.map((r) => r.connection_id).sort()).toEqual(cases.filter((c) => c.filtered).map((c) => routes.get(c.name)!.connection.id).sort());
  });

  it.each(cases)("$name", async (c) => {
    const r = routes.get(c.name)!;
    const got = await receivedBy(r.receiver);
    if (!c.filtered) {
      expect(got, "one delivery of the original body").toHaveLength(1);
      expect(bodyText(got[0]!)).toBe(body);
      expect(got[0]!.headers["content-type"]).toBe("application/json");
      expect(ev.routing.find((x) => x.connection_id === r.connection.id)).toBeUndefined();
      return;
    }
    expect(got, "a filtered connection's receiver gets nothing").toEqual([]);
    expect(ev.deliveries.find((d) => d.connection_id === r.connection.id)).toBeUndefined();
    const entry = ev.routing.filter((x) => x.connection_id === r.connection.id);
    expect(entry).toHaveLength(1);
    expect(entry[0]!.outcome).toBe("filtered");
    expect(entry[0]!.rule).toMatchObject(c.filtered.rule);
    if (typeof c.filtered.reason === "string") expect(entry[0]!.reason).toBe(c.filtered.reason);
    else expect(entry[0]!.reason).toMatch(c.filtered.reason);
  });

  it("an event every connection filtered out stays received, with each reason on it", async () => {
    const source = await createSource(api);
    const a = await route(source, { filters: [{ field: "body.type", op: "eq", value: "order.paid" }] });
    const b = await route(source, { filters: [{ field: "headers.x-shop", op: "exists" }] });
    const id = await ingest(source.id, '{"type":"order.created"}');
    const e = await event(id);
    expect(e.status).toBe("received");
    expect(e.deliveries).toEqual([]);
    expect(e.routing).toEqual(
      expect.arrayContaining([
        { connection_id: a.connection.id, outcome: "filtered", rule: { path: "filters[0]", field: "body.type", op: "eq", value: "order.paid" }, reason: 'body.type is "order.created", expected "order.paid"' },
        { connection_id: b.connection.id, outcome: "filtered", rule: { path: "filters[0]", field: "headers.x-shop", op: "exists" }, reason: "headers.x-shop is missing, expected it to exist" },
      ]),
    );
    expect(e.routing).toHaveLength(2);
    await settle();
    expect(await receivedBy(a.receiver)).toEqual([]);
    expect(await receivedBy(b.receiver)).toEqual([]);
  });

  it("retrying an event that every connection filtered out does not deliver it past the filters", async () => {
    const source = await createSource(api);
    const r = await route(source, { filters: [{ field: "body.type", op: "eq", value: "order.paid" }] });
    const id = await ingest(source.id, '{"type":"order.created"}');
    expect((await event(id)).routing).toHaveLength(1);

    const retried = await api.post<{ event_id: string; deliveries: number }>(`/v1/events/${id}/retry`);
    expectStatus(retried, 202);
    await settle(500);
    // The connection's filter said no; a retry must not deliver the event anyway.
    expect(await receivedBy(r.receiver), "the filtered-out event reached the destination on retry").toEqual([]);
    expect(retried.body.deliveries).toBe(0);
  });

  it("a filter changed with PATCH applies to the next event", async () => {
    const source = await createSource(api);
    const r = await route(source, { filters: [{ field: "body.type", op: "eq", value: "a" }] });
    await ingest(source.id, '{"type":"a","n":1}');
    await waitForRequests(r.receiver, 1);
    expectStatus(await api.patch(`/v1/connections/${r.connection.id}`, { filters: [{ field: "body.type", op: "eq", value: "b" }] }), 200);
    const skipped = await ingest(source.id, '{"type":"a","n":2}');
    await ingest(source.id, '{"type":"b","n":3}');
    const got = await waitForRequests(r.receiver, 2);
    expect(got.map(bodyJson)).toEqual([{ type: "a", n: 1 }, { type: "b", n: 3 }]);
    expect((await event(skipped)).routing).toEqual([expect.objectContaining({ connection_id: r.connection.id, reason: 'body.type is "a", expected "b"' })]);
  });

  it("filters a form-encoded body and one stored in R2", async () => {
    const source = await createSource(api);
    const form = await route(source, { filters: [{ field: "body.status", op: "eq", value: "paid" }, { field: "body.tag", op: "contains", value: "b" }] });
    await ingest(source.id, "status=paid&tag=a&tag=b", { "content-type": "application/x-www-form-urlencoded" });
    expect(bodyText((await waitForRequests(form.receiver, 1))[0]!)).toBe("status=paid&tag=a&tag=b");

    const big = await createSource(api);
    const last = await route(big, { filters: [{ field: "body.items.499.name", op: "eq", value: "item-499" }] });
    const payload = JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ i, name: `item-${i}` })) });
    expect(payload.length).toBeGreaterThan(INLINE_BODY_LIMIT);
    await ingest(big.id, payload);
    expect(bodyText((await waitForRequests(last.receiver, 1))[0]!)).toBe(payload);
  });
});

// ---------------------------------------------------------------------------------------------

describe("rejecting bad rules with a 400 that points at the problem", () => {
  let source: Source;
  let destination: Destination;

  beforeAll(async () => {
    source = await createSource(api);
    destination = await createDestination(api);
  });

  const badFilters: { name: string; filters: unknown; message: RegExp; path: string }[] = [
    { name: "an unknown op", filters: [{ field: "body.a", op: "like", value: "x" }], path: "filters.0.op", message: /^filters\.0\.op: op "like" is unknown: use one of eq, neq, contains, gt, gte, lt, lte, exists, in$/ },
    {
      name: "an unknown op inside a group",
      filters: [{ field: "body.a", op: "eq", value: 1 }, { any: [{ field: "body.b", op: "matches", value: "x" }] }],
      path: "filters.1.any.0.op",
      message: /^filters\.1\.any\.0\.op: op "matches" is unknown/,
    },
    { name: "eq without a value", filters: [{ field: "body.a", op: "eq" }], path: "filters.0.value", message: /^filters\.0\.value: value is required for op "eq"$/ },
    { name: "gt with a non-number", filters: [{ field: "body.a", op: "gt", value: "ten" }], path: "filters.0.value", message: /^filters\.0\.value: value for op "gt" must be a number/ },
    { name: "in without an array", filters: [{ field: "body.a", op: "in", value: "x" }], path: "filters.0.value", message: /^filters\.0\.value: op "in" needs an array/ },
    { name: "a field outside body/headers/query", filters: [{ field: "payload.a", op: "exists" }], path: "filters.0.field", message: /^filters\.0\.field: field must be body, body\.<path>, headers\.<name> or query\.<name>$/ },
    { name: "an unknown key", filters: [{ field: "body.a", op: "eq", value: 1, negate: true }], path: "filters.0", message: /^filters\.0: .*negate/ },
    { name: "an empty any group", filters: [{ any: [] }], path: "filters.0.any", message: /^filters\.0\.any: an any group needs at least one condition$/ },
    {
      name: "groups nested 4 deep",
      filters: [{ any: [{ all: [{ any: [{ all: [{ field: "body.a", op: "exists" }] }] }] }] }],
      path: "filters.0.any.0.all.0.any.0",
      message: /^filters\.0\.any\.0\.all\.0\.any\.0: groups nest at most 3 deep$/,
    },
    { name: "51 rules", filters: Array.from({ length: 51 }, () => ({ field: "body.a", op: "exists" })), path: "filters", message: /^filters: filters hold at most 50 rules$/ },
  ];

  it.each(badFilters)("filters: $name (create and PATCH)", async ({ filters, path, message }) => {
    const before = (await api.get<Page<Connection>>(`/v1/connections?source_id=${source.id}`)).body.data.length;
    const created = expectError(await api.post("/v1/connections", { source_id: source.id, destination_id: destination.id, filters }), 400, "validation_failed");
    expect(created.message).toMatch(message);
    const issues = (created.details as { issues: { path: string }[] }).issues;
    expect(issues.map((i) => i.path)).toContain(path);
    expect((await api.get<Page<Connection>>(`/v1/connections?source_id=${source.id}`)).body.data).toHaveLength(before);

    const conn = await createConnection(api, source.id, destination.id, { filters: [{ field: "body.ok", op: "exists" }] });
    const patched = expectError(await api.patch(`/v1/connections/${conn.id}`, { filters }), 400, "validation_failed");
    expect(patched.message).toMatch(message);
    expect((await api.get<Connection>(`/v1/connections/${conn.id}`)).body.filters).toEqual([{ field: "body.ok", op: "exists" }]);
  });

  const badTransforms: { name: string; transform: string; message: RegExp; position: number | undefined }[] = [
    { name: "unclosed object", transform: '{ "id": body.id ', message: /^transform: JSONata S0\d{3} at position \d+: .+ \(at position \d+\)$/, position: 16 },
    { name: "unknown operator", transform: "body.a ^^ 2", message: /^transform: JSONata S0\d{3} at position \d+: .* \(at position \d+\)$/, position: undefined },
    { name: "a ReDoS regex literal", transform: "$match(body.s, /(a+)+$/)", message: /^transform: regex rejected: nested quantifier in \/\(a\+\)\+\$\/ \(at position \d+\)$/, position: undefined },
    { name: "an empty expression", transform: "  ", message: /^transform: transform is empty$/, position: undefined },
  ];

  it.each(badTransforms)("transform: $name (create and PATCH)", async ({ transform, message, position }) => {
    const created = expectError(await api.post("/v1/connections", { source_id: source.id, destination_id: destination.id, transform }), 400, "validation_failed");
    expect(created.message).toMatch(message);
    const at = /\(at position (\d+)\)$/.exec(created.message);
    if (at) expect(created.details).toEqual({ position: Number(at[1]) });
    if (position !== undefined) expect(created.details).toEqual({ position });

    const conn = await createConnection(api, source.id, destination.id, { transform: "{ 'ok': true }" });
    const patched = expectError(await api.patch(`/v1/connections/${conn.id}`, { transform }), 400, "validation_failed");
    expect(patched.message).toBe(created.message);
    expect((await api.get<Connection>(`/v1/connections/${conn.id}`)).body.transform).toBe("{ 'ok': true }");
  });

  it("transform: an expression over 10 KB is refused", async () => {
    const transform = `"${"x".repeat(10 * 1024)}"`;
    const res = await api.post("/v1/connections", { source_id: source.id, destination_id: destination.id, transform });
    expectError(res, 400, "validation_failed");
    expect(JSON.stringify(res.body)).toMatch(/transform/);
  });

  const badSchemas: { name: string; schema: Record<string, unknown>; message: RegExp }[] = [
    { name: "an unknown type", schema: { type: "strin" }, message: /^schema: schema is not a valid draft 2020-12 schema: \/type: / },
    { name: "a draft-07 tuple without $schema (2020-12 by default)", schema: { items: [{ type: "string" }] }, message: /^schema: schema is not a valid draft 2020-12 schema: \/items: / },
    { name: "an unsupported draft", schema: { $schema: "http://json-schema.org/draft-04/schema#", type: "object" }, message: /^schema: unsupported \$schema "http:\/\/json-schema\.org\/draft-04\/schema#"/ },
    { name: "a dangling $ref", schema: { $ref: "#/$defs/order" }, message: /^schema: unresolved \$ref "#\/\$defs\/order"/ },
    { name: "a ReDoS pattern", schema: { properties: { s: { type: "string", pattern: "^(a+)+$" } } }, message: /^schema: pattern at \/properties\/s: regex rejected: nested quantifier/ },
  ];

  it.each(badSchemas)("schema: $name (create and PATCH)", async ({ schema, message }) => {
    const created = expectError(await api.post("/v1/connections", { source_id: source.id, destination_id: destination.id, schema }), 400, "validation_failed");
    expect(created.message).toMatch(message);
    const ok = { type: "object" };
    const conn = await createConnection(api, source.id, destination.id, { schema: ok });
    const patched = expectError(await api.patch(`/v1/connections/${conn.id}`, { schema }), 400, "validation_failed");
    expect(patched.message).toBe(created.message);
    expect((await api.get<Connection>(`/v1/connections/${conn.id}`)).body.schema).toEqual(ok);
  });

  it("schema_mode outside reject|warn is refused, and a valid PATCH is stored and returned", async () => {
    expectError(await api.post("/v1/connections", { source_id: source.id, destination_id: destination.id, schema_mode: "log" }), 400, "validation_failed");
    const conn = await createConnection(api, source.id, destination.id);
    expect(conn).toMatchObject({ filters: [], transform: null, schema: null, schema_mode: "reject" });
    const patch = {
      filters: [{ any: [{ field: "headers.x-a", op: "exists" }, { field: "query.b", op: "in", value: ["1", "2"] }] }],
      transform: '{ "id": body.id }',
      schema: { $schema: "http://json-schema.org/draft-07/schema#", type: "object", required: ["id"] },
      schema_mode: "warn",
    };
    const res = await api.patch<Connection>(`/v1/connections/${conn.id}`, patch);
    expectStatus(res, 200);
    expect(res.body).toMatchObject(patch);
    expect((await api.get<Connection>(`/v1/connections/${conn.id}`)).body).toMatchObject(patch);
    const cleared = await api.patch<Connection>(`/v1/connections/${conn.id}`, { transform: null, schema: null });
    expect(cleared.body).toMatchObject({ transform: null, schema: null, filters: patch.filters });
  });
});

// ---------------------------------------------------------------------------------------------

describe("transforms and schemas at delivery", () => {
  it("one connection's failing transform never affects another's, even on the same destination", async () => {
    const source = await createSource(api);
    const shared = await route(source, { transform: '$pad(body.s, 1000000000)' });
    const sibling = await route(source, { transform: '{ "id": body.id, "via": "sibling" }' }, shared);
    const plain = await route(source);
    const looping = await route(source, { transform: "($f := function($x){ $f($x) }; $f(1))" });
    const body = '{"id":"evt-1","s":"x"}';
    const id = await ingest(source.id, body);

    const rows = await waitForFinished(id, 4);
    const byConn = Object.fromEntries(rows.map((r) => [r.connection_id, r]));
    expect(byConn[shared.connection.id]).toMatchObject({ status: "failed", attempts: 1 });
    expect(byConn[looping.connection.id]).toMatchObject({ status: "failed", attempts: 1 });
    expect(byConn[sibling.connection.id]).toMatchObject({ status: "delivered", attempts: 1 });
    expect(byConn[plain.connection.id]).toMatchObject({ status: "delivered", attempts: 1 });

    const atShared = await receivedBy(shared.receiver);
    expect(atShared.map(bodyJson), "only the sibling's transformed body reaches the shared destination").toEqual([{ id: "evt-1", via: "sibling" }]);
    expect((await receivedBy(plain.receiver)).map(bodyText)).toEqual([body]);
    expect(await receivedBy(looping.receiver)).toEqual([]);

    const list = await attempts(id);
    expect(attemptOf(list, shared.connection.id)).toMatchObject({
      attempt_number: 1, status: "failed", status_code: null, response_body: null, error: "transform: $pad width 1000000000 exceeds the limit of 10000",
    });
    expect(attemptOf(list, looping.connection.id).error).toMatch(/^transform: transform (exceeded 50000 evaluation steps|timed out after 50 ms)$/);
    expect(attemptOf(list, looping.connection.id).status_code).toBeNull();

    const dead = await deadLetters(shared.destination.id);
    expect(dead.map((d) => ({ connection_id: d.connection_id, reason: d.reason, attempts: d.attempts, last_status_code: d.last_status_code }))).toEqual([
      { connection_id: shared.connection.id, reason: "transform: $pad width 1000000000 exceeds the limit of 10000", attempts: 1, last_status_code: null },
    ]);
    expect((await deadLetters(looping.destination.id)).map((d) => d.connection_id)).toEqual([looping.connection.id]);
    const ev = await event(id);
    expect(ev.deliveries.find((d) => d.connection_id === shared.connection.id)).toMatchObject({ status: "failed", last_error: "transform: $pad width 1000000000 exceeds the limit of 10000" });
    expect(ev.deliveries.find((d) => d.connection_id === sibling.connection.id)).toMatchObject({ status: "delivered", last_error: null });
    // A user's configuration error is not the destination's health: the shared circuit stays closed.
    const circuit = (await api.get<Circuit>(`/v1/destinations/${shared.destination.id}/circuit`)).body;
    expect(circuit).toMatchObject({ state: "closed", consecutive_failures: 0 });

    await settle();
    expect((await attempts(id)).length, "permanent failures are not retried").toBe(4);
  });

  it("delivers the transformed body as JSON, signed over the transformed bytes", async () => {
    const source = await createSource(api);
    const r = await route(source, { transform: '{ "status": body.status, "tags": body.tag, "shop": headers."x-shop", "region": query.region, "event": metadata.event_id, "connection": metadata.connection_id, "attempt": metadata.attempt }' });
    const original = "status=paid&tag=a&tag=b";
    const id = await ingest(source.id, original, { "content-type": "application/x-www-form-urlencoded", "x-shop": "acme" }, "?region=eu");

    const [req, ...more] = await waitForRequests(r.receiver, 1);
    expect(more).toEqual([]);
    const sent = fromBase64(req!.body_base64);
    const expected = { status: "paid", tags: ["a", "b"], shop: "acme", region: "eu", event: id, connection: r.connection.id, attempt: 1 };
    expect(decoder.decode(sent)).toBe(JSON.stringify(expected));
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.headers["x-shop"]).toBe("acme");

    const delivery = (await event(id)).deliveries[0]!;
    expect(req!.headers["webhook-id"]).toBe(delivery.id);
    const secret = r.destination.config.signing_secret as string;
    const signature = await standardWebhookSignature(secret, delivery.id, req!.headers["webhook-timestamp"]!, sent);
    expect(req!.headers["webhook-signature"]!.split(" ")).toContain(signature);
    const overOriginal = await standardWebhookSignature(secret, delivery.id, req!.headers["webhook-timestamp"]!, new TextEncoder().encode(original));
    expect(req!.headers["webhook-signature"]!.split(" ")).not.toContain(overOriginal);
  });

  it("transforms a body stored in R2", async () => {
    const source = await createSource(api);
    const r = await route(source, { transform: '{ "count": $count(body.items), "last": body.items[-1].name }' });
    const payload = JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ i, name: `item-${i}` })) });
    expect(payload.length).toBeGreaterThan(INLINE_BODY_LIMIT);
    await ingest(source.id, payload);
    expect((await waitForRequests(r.receiver, 1)).map(bodyJson)).toEqual([{ count: 500, last: "item-499" }]);
  });

  const orderSchema = {
    type: "object",
    required: ["order_id", "amount"],
    properties: { order_id: { type: "string" }, amount: { type: "number", minimum: 0 } },
  };
  const toOrder = '{ "order_id": body.id, "amount": body.total / 100 }';

  it("schema_mode reject: validates the transformed payload, dead-letters an invalid one with its errors", async () => {
    const source = await createSource(api);
    const r = await route(source, { transform: toOrder, schema: orderSchema, schema_mode: "reject" });
    const good = await ingest(source.id, '{"id":"o-1","total":1250}');
    const bad = await ingest(source.id, '{"id":7,"total":-500}');

    const delivered = await waitForRequests(r.receiver, 1);
    expect(delivered.map(bodyJson)).toEqual([{ order_id: "o-1", amount: 12.5 }]);
    await waitForFinished(bad, 1);
    expect((await deliveryRows(bad))[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect(await receivedBy(r.receiver)).toHaveLength(1);

    const [attempt, ...rest] = await attempts(bad);
    expect(rest).toEqual([]);
    const reason = "schema: payload does not match the connection's schema: /order_id Instance type \"number\" is invalid. Expected \"string\". (and 1 more)";
    expect(attempt).toMatchObject({ status: "failed", status_code: null, error: reason });
    const dead = await deadLetters(r.destination.id);
    expect(dead.map((d) => [d.event_id, d.reason])).toEqual([[bad, reason]]);
    expect((await attempts(good))[0]).toMatchObject({ status: "success", status_code: 200, validation_errors: null });
    expect((await event(bad)).status).toBe("failed");
  });

  it("schema_mode warn: delivers an invalid payload and records the errors on the attempt", async () => {
    const source = await createSource(api);
    const r = await route(source, { transform: toOrder, schema: orderSchema, schema_mode: "warn" });
    const bad = await ingest(source.id, '{"id":7,"total":-500}');
    const [req] = await waitForRequests(r.receiver, 1);
    expect(bodyJson(req!)).toEqual({ order_id: 7, amount: -5 });
    await waitForFinished(bad, 1);
    const [attempt] = await attempts(bad);
    expect(attempt).toMatchObject({ status: "success", status_code: 200, error: null });
    expect(attempt!.validation_errors).toEqual(
      expect.arrayContaining([
        { path: "/order_id", message: 'Instance type "number" is invalid. Expected "string".' },
        { path: "/amount", message: "-5 is less than 0." },
      ]),
    );
    expect(attempt!.validation_errors).toHaveLength(2);
    expect(await deadLetters(r.destination.id)).toEqual([]);
  });

  it("a schema without a transform validates the original body, which is delivered byte for byte", async () => {
    const source = await createSource(api);
    const r = await route(source, { schema: { type: "object", required: ["id"] } });
    const ok = '{ "id" : 1 ,"extra":true}';
    await ingest(source.id, ok);
    const bad = await ingest(source.id, '{"no_id":1}');
    expect((await waitForRequests(r.receiver, 1)).map(bodyText)).toEqual([ok]);
    await waitForFinished(bad, 1);
    expect((await attempts(bad))[0]!.error).toBe('schema: payload does not match the connection\'s schema: / Instance does not have required property "id".');
  });

  it("a draft-07 schema is enforced with draft-07 semantics", async () => {
    const source = await createSource(api);
    const schema = {
      $schema: "http://json-schema.org/draft-07/schema#",
      definitions: { sku: { type: "string", pattern: "^[A-Z]-\\d+$" } },
      type: "object",
      required: ["pair", "sku"],
      properties: { pair: { type: "array", items: [{ type: "string" }, { type: "number" }], additionalItems: false }, sku: { $ref: "#/definitions/sku" } },
    };
    const r = await route(source, { schema });
    expect(r.connection.schema).toEqual(schema);
    await ingest(source.id, '{"pair":["a",1],"sku":"A-1"}');
    const wrongType = await ingest(source.id, '{"pair":["a","b"],"sku":"A-1"}');
    const tooLong = await ingest(source.id, '{"pair":["a",1,2],"sku":"A-1"}');
    const badSku = await ingest(source.id, '{"pair":["a",1],"sku":"a1"}');
    expect((await waitForRequests(r.receiver, 1)).map(bodyJson)).toEqual([{ pair: ["a", 1], sku: "A-1" }]);
    for (const id of [wrongType, tooLong, badSku]) await waitForFinished(id, 1);
    expect((await attempts(wrongType))[0]!.error).toMatch(/^schema: .*: \/pair\/1 Instance type "string" is invalid\. Expected "number"\./);
    expect((await attempts(tooLong))[0]!.error).toMatch(/^schema: .*: \/pair /);
    expect((await attempts(badSku))[0]!.error).toMatch(/^schema: .*: \/sku /);
    expect(await receivedBy(r.receiver)).toHaveLength(1);
  });

  it("after fixing a failing transform, retrying the event delivers it with the fixed transform", async () => {
    const source = await createSource(api);
    const r = await route(source, { transform: '{ "total": $number(body.total) * 2 }' });
    const id = await ingest(source.id, '{"total":"twelve"}');
    await waitForFinished(id, 1);
    expect((await attempts(id))[0]!.error).toMatch(/^transform: JSONata D3030/);
    expectStatus(await api.patch(`/v1/connections/${r.connection.id}`, { transform: '{ "total": body.total }' }), 200);
    expectStatus(await api.post(`/v1/events/${id}/retry`), 202);
    expect((await waitForRequests(r.receiver, 1)).map(bodyJson)).toEqual([{ total: "twelve" }]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("dry run: POST /v1/connections/test", () => {
  const test = (input: Record<string, unknown>) => api.post<TestResult>("/v1/connections/test", input);
  async function ok(input: Record<string, unknown>): Promise<TestResult> {
    const res = await test(input);
    expectStatus(res, 200);
    return res.body;
  }

  const payload = { body: { type: "order.created", id: "o-1", total: 1250 }, headers: { "X-Shop": "acme" }, query: { region: "eu" } };

  it("matches, transforms and validates a sample payload without delivering", async () => {
    const result = await ok({
      filters: [{ field: "headers.x-shop", op: "eq", value: "acme" }, { field: "query.region", op: "in", value: ["eu"] }],
      transform: '{ "order_id": body.id, "amount": body.total / 100, "shop": headers."x-shop" }',
      schema: { type: "object", required: ["order_id"] },
      payload,
    });
    expect(result).toEqual({
      matched: true, filter: null, output: { order_id: "o-1", amount: 12.5, shop: "acme" }, transformed: true,
      validation: { valid: true, errors: [] }, error: null, would_deliver: true,
    });
  });

  it("without transform or schema the output is the parsed body", async () => {
    expect(await ok({ payload })).toEqual({ matched: true, filter: null, output: payload.body, transformed: false, validation: null, error: null, would_deliver: true });
    const form = await ok({ payload: { body: "a=1&b=2&b=3", headers: { "Content-Type": "application/x-www-form-urlencoded" } }, filters: [{ field: "body.b", op: "contains", value: "3" }] });
    expect(form).toMatchObject({ matched: true, output: { a: "1", b: ["2", "3"] } });
  });

  it("names the rule that failed, and runs nothing after a failed filter", async () => {
    const result = await ok({
      filters: [{ field: "body.type", op: "eq", value: "order.created" }, { any: [{ field: "body.total", op: "lt", value: 100 }, { field: "body.coupon", op: "exists" }] }],
      transform: '$pad("x", 1000000000)',
      payload,
    });
    expect(result).toEqual({
      matched: false,
      filter: {
        rule: { path: "filters[1].any[0]", field: "body.total", op: "lt", value: 100 },
        reason: "none of the 2 conditions in filters[1].any matched: body.total is 1250, expected < 100; body.coupon is missing, expected it to exist",
      },
      output: null, transformed: false, validation: null, error: null, would_deliver: false,
    });
  });

  it("reports a transform failure with its stage and message", async () => {
    const pad = await ok({ transform: '$pad("x", 1000000000)', payload });
    expect(pad).toMatchObject({ matched: true, output: null, error: { stage: "transform", message: "$pad width 1000000000 exceeds the limit of 10000" }, would_deliver: false });
    const loop = await ok({ transform: "($f := function($x){ $f($x) }; $f(1))", payload });
    expect(loop.error?.stage).toBe("transform");
    expect(loop.error?.message).toMatch(/exceeded 50000 evaluation steps|timed out after 50 ms/);
    const smuggled = await ok({ transform: '$eval("$match(body.s, /(a+)+$/)")', payload: { body: { s: `${"a".repeat(40)}!` } } });
    expect(smuggled.error).toEqual({ stage: "transform", message: "regex rejected: nested quantifier in /(a+)+$/" });
  });

  it("reports schema errors: reject would not deliver, warn would", async () => {
    const schema = { type: "object", required: ["order_id"], properties: { amount: { type: "integer" } } };
    const transform = '{ "amount": body.total / 100 }';
    const errors = [{ path: "", message: 'Instance does not have required property "order_id".' }, { path: "/amount", message: expect.stringContaining("integer") }];
    const reject = await ok({ transform, schema, payload });
    expect(reject).toMatchObject({ matched: true, output: null, validation: { valid: false, errors }, would_deliver: false });
    expect(reject.error?.stage).toBe("schema");
    expect(reject.error?.message).toMatch(/^payload does not match the connection's schema: \/ Instance does not have required property "order_id"\. \(and 1 more\)$/);
    const warn = await ok({ transform, schema, schema_mode: "warn", payload });
    expect(warn).toMatchObject({ matched: true, output: { amount: 12.5 }, transformed: true, validation: { valid: false, errors }, error: null, would_deliver: true });
  });

  it("runs on a stored event by event_id, with its metadata", async () => {
    const source = await createSource(api);
    const id = await ingest(source.id, '{"type":"order.created","total":300}', { "content-type": "application/json", "x-shop": "acme" }, "?region=eu");
    const result = await ok({
      event_id: id,
      filters: [{ field: "headers.X-Shop", op: "eq", value: "acme" }, { field: "query.region", op: "eq", value: "eu" }],
      transform: '{ "event": metadata.event_id, "source": metadata.source_id, "total": body.total }',
    });
    expect(result).toMatchObject({ matched: true, output: { event: id, source: source.id, total: 300 }, would_deliver: true });
    const filtered = await ok({ event_id: id, filters: [{ field: "body.total", op: "gt", value: 300 }] });
    expect(filtered).toMatchObject({ matched: false, filter: { reason: "body.total is 300, expected > 300" } });
  });

  it("agrees with ingest on filters over headers that are not forwarded", async () => {
    const source = await createSource(api);
    const filters = [{ field: "headers.cf-ipcountry", op: "eq", value: "DE" }];
    const r = await route(source, { filters });
    const id = await ingest(source.id, '{"n":1}', { "content-type": "application/json", "cf-ipcountry": "DE" });
    await waitForRequests(r.receiver, 1);
    expect((await event(id)).routing).toEqual([]);
    // Ingest let the event through this connection; a dry run of the same filters on the same event must say so too.
    const result = await ok({ event_id: id, filters });
    expect(result.filter).toBeNull();
    expect(result.matched).toBe(true);
  });

  it("another tenant's or an unknown event is a 404", async () => {
    const other = await seedTenant("other-routing");
    const otherApi = client(other.key);
    const src = await createSource(otherApi);
    const theirs = await ingest(src.id, '{"secret":"theirs"}');
    expect((await otherApi.post<TestResult>("/v1/connections/test", { event_id: theirs })).status).toBe(200);
    const res = await test({ event_id: theirs, transform: "body" });
    expectError(res, 404, "not_found");
    expect(res.text).not.toContain("theirs");
    expectError(await test({ event_id: `evt_${"0".repeat(32)}` }), 404, "not_found");
  });

  it("400s: neither or both of event_id and payload, and bad rules with their paths", async () => {
    expectError(await test({ transform: "body" }), 400, "validation_failed");
    expectError(await test({ event_id: `evt_${"0".repeat(32)}`, payload }), 400, "validation_failed");
    expect(expectError(await test({ payload, filters: [{ field: "body.a", op: "like", value: 1 }] }), 400, "validation_failed").message).toMatch(/^filters\.0\.op: /);
    expect(expectError(await test({ payload, transform: "{ 'a': " }), 400, "validation_failed").message).toMatch(/^transform: .*\(at position \d+\)$/);
    expect(expectError(await test({ payload, schema: { type: 5 } }), 400, "validation_failed").message).toMatch(/^schema: /);
  });
});

// ---------------------------------------------------------------------------------------------

describe("transform bounds with the clock frozen, as on deployed Workers", () => {
  // Deployed Workers freeze Date.now() between I/O, so there the 50 ms timer never fires and the
  // step budget is all that stops a runaway expression (transform.ts says so). Local workerd's
  // clock moves, hence the injected clock. Pure code, but it belongs with the runtime it models.
  it("a loop of accepted, quadratic regex calls is stopped by the per-run regex work budget", async () => {
    const expr = '($s := body.s; $count([1..30].($match($s, /a*b/))))';
    expect(checkTransform(expr)).toEqual({ ok: true });
    const frozen = createTransformer({ now: () => 0 });
    // Each $match backtracks O(n²) yet costs few steps; the budget is on regex work, not steps or time.
    const result = await frozen.run(expr, { body: { s: "a".repeat(6_999) }, headers: {}, query: {}, metadata: {} });
    expect(result).toEqual({ ok: false, message: "transform regex work exceeds its budget (5000 units of length²/10 000)" });
  });
});
