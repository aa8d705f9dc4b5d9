import { describe, expect, it } from "vitest";
import { parseBodyForRouting, runConnection, type RoutingConnection, type RoutingInput } from "./pipeline.js";
import { createTransformer } from "./transform.js";

const rawBody = `{"type":"checkout.session.completed","data":{"object":{"id":"cs_1","amount_total":4200,"currency":"eur"}}}`;

const input: RoutingInput = {
  body: parseBodyForRouting(rawBody, "application/json; charset=utf-8"),
  headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=abc" },
  query: {},
  metadata: { event_id: "evt_1" },
};

const base: RoutingConnection = { filters: [], transform: null, schema: null, schema_mode: "reject" };
const transformer = createTransformer();

describe("parseBodyForRouting", () => {
  it("parses JSON content types, parameters and +json suffixes included", () => {
    expect(parseBodyForRouting(`{"a":1}`, "application/json")).toEqual({ a: 1 });
    expect(parseBodyForRouting(`{"a":1}`, "Application/JSON; charset=utf-8")).toEqual({ a: 1 });
    expect(parseBodyForRouting(`{"specversion":"1.0"}`, "application/cloudevents+json")).toEqual({ specversion: "1.0" });
    expect(parseBodyForRouting(`42`, "application/json")).toBe(42);
  });

  it("keeps invalid JSON as the raw string", () => {
    expect(parseBodyForRouting(`{"a":`, "application/json")).toBe(`{"a":`);
    expect(parseBodyForRouting(``, "application/json")).toBe(``);
  });

  it("parses text that looks like a JSON object or array whatever the content type", () => {
    expect(parseBodyForRouting(` [1, 2] `, null)).toEqual([1, 2]);
    expect(parseBodyForRouting(`{"a":"b"}`, "text/plain")).toEqual({ a: "b" });
    expect(parseBodyForRouting(`42`, null)).toBe(`42`);
    expect(parseBodyForRouting(`"quoted"`, "text/plain")).toBe(`"quoted"`);
  });

  it("parses form bodies, a repeated key into an array", () => {
    expect(parseBodyForRouting(`event=order.created&amount=42&tag=a&tag=b%20c&empty=`, "application/x-www-form-urlencoded")).toEqual({
      event: "order.created",
      amount: "42",
      tag: ["a", "b c"],
      empty: "",
    });
    const proto = parseBodyForRouting(`__proto__=x&a=1`, "application/x-www-form-urlencoded") as Record<string, unknown>;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(["__proto__", "a"]);
  });

  it("leaves everything else as the raw string", () => {
    expect(parseBodyForRouting(`<xml/>`, "application/xml")).toBe(`<xml/>`);
    expect(parseBodyForRouting(`ping`, null)).toBe(`ping`);
  });
});

describe("runConnection", () => {
  it("delivers the original body when there is nothing to do", async () => {
    expect(await runConnection(base, input, transformer)).toEqual({ outcome: "deliver", payload: input.body, transformed: false });
  });

  it("records a filtered event with the failing rule and reason", async () => {
    const conn = { ...base, filters: [{ field: "body.type", op: "eq" as const, value: "invoice.paid" }] };
    expect(await runConnection(conn, input, transformer)).toEqual({
      outcome: "filtered",
      rule: { path: "filters[0]", field: "body.type", op: "eq", value: "invoice.paid" },
      reason: 'body.type is "checkout.session.completed", expected "invoice.paid"',
    });
  });

  it("filters before transforming: a filtered event never runs its transform", async () => {
    const conn = { ...base, filters: [{ field: "headers.x-missing", op: "exists" as const }], transform: `$pad("x", 1e9)` };
    expect((await runConnection(conn, input, transformer)).outcome).toBe("filtered");
  });

  it("delivers the transform's output", async () => {
    const conn = { ...base, filters: [{ field: "body.data.object.amount_total", op: "gte" as const, value: 1000 }], transform: `{ "order": body.data.object.id, "amount": body.data.object.amount_total / 100, "event": metadata.event_id }` };
    expect(await runConnection(conn, input, transformer)).toEqual({ outcome: "deliver", payload: { order: "cs_1", amount: 42, event: "evt_1" }, transformed: true });
  });

  it("rejects on a transform failure, at the transform stage", async () => {
    expect(await runConnection({ ...base, transform: `$match(body.type, /(a+)+$/)` }, input, transformer)).toEqual({
      outcome: "rejected",
      stage: "transform",
      message: "regex rejected: nested quantifier in /(a+)+$/",
    });
  });

  const amountSchema = { type: "object", required: ["amount"], properties: { amount: { type: "integer", maximum: 10 } } };

  it("validates the transformed payload, not the original body", async () => {
    const conn = { ...base, transform: `{ "amount": 5 }`, schema: amountSchema };
    expect(await runConnection(conn, input, transformer)).toEqual({ outcome: "deliver", payload: { amount: 5 }, transformed: true });
  });

  it("schema_mode reject fails the delivery with the errors", async () => {
    const conn = { ...base, transform: `{ "amount": body.data.object.amount_total / 100 }`, schema: amountSchema };
    expect(await runConnection(conn, input, transformer)).toEqual({
      outcome: "rejected",
      stage: "schema",
      message: "payload does not match the connection's schema: /amount 42 is greater than 10.",
      errors: [{ path: "/amount", message: "42 is greater than 10." }],
    });
  });

  it("schema_mode warn delivers and records the errors", async () => {
    const conn = { ...base, schema: amountSchema, schema_mode: "warn" as const };
    expect(await runConnection(conn, input, transformer)).toEqual({
      outcome: "deliver",
      payload: input.body,
      transformed: false,
      validation_errors: [{ path: "", message: 'Instance does not have required property "amount".' }],
    });
  });

  it("summarises several schema errors in the message", async () => {
    const conn = { ...base, schema: { required: ["a", "b", "c"] } };
    const r = await runConnection(conn, input, transformer);
    expect(r.outcome === "rejected" && r.message).toBe(`payload does not match the connection's schema: / Instance does not have required property "a". (and 2 more)`);
  });

  it("fans out: each connection gets its own outcome and one failure does not touch the others", async () => {
    const conns: RoutingConnection[] = [
      { ...base, transform: `($f := function($x){ $f($x) }; $f(1))` },
      { ...base, transform: `{ "id": body.data.object.id }` },
      { ...base, filters: [{ field: "body.type", op: "contains", value: "invoice" }] },
      { ...base, transform: `$pad("x", 1e9)` },
      base,
    ];
    const outcomes = await Promise.all(conns.map((c) => runConnection(c, input, transformer)));
    expect(outcomes.map((o) => o.outcome)).toEqual(["rejected", "deliver", "filtered", "rejected", "deliver"]);
    expect(outcomes[1]).toEqual({ outcome: "deliver", payload: { id: "cs_1" }, transformed: true });
  });
});
