import { describe, expect, it } from "vitest";
import type { MessageRoute, ReceivedRequest } from "../model/event.js";
import type { Filters } from "./filters.js";
import { forwardableHeaders, planDeliveries, toMessage, type RoutableConnection } from "./plan.js";

const request: ReceivedRequest = {
  method: "POST",
  headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=abc", host: "gw", "cf-connecting-ip": "1.2.3.4", authorization: "Bearer x", "webhook-id": "msg_1" },
  query: { a: "1" },
  body: "{}",
  body_encoding: "utf8",
};

function con(id: string, destination_id: string, filters: Filters = [], route: MessageRoute | null = null): RoutableConnection {
  return { id, destination_id, filters, route };
}

describe("routing plan", () => {
  it("fans out: one delivery per connection, each with its own id", () => {
    let n = 0;
    const plan = planDeliveries(request, [con("con_a", "dst_1"), con("con_b", "dst_1"), con("con_c", "dst_2")], () => `dlv_${++n}`);
    expect(plan).toEqual({
      deliveries: [
        { delivery_id: "dlv_1", connection_id: "con_a", destination_id: "dst_1", route: null },
        { delivery_id: "dlv_2", connection_id: "con_b", destination_id: "dst_1", route: null },
        { delivery_id: "dlv_3", connection_id: "con_c", destination_id: "dst_2", route: null },
      ],
      filtered: [],
    });
  });

  it("no connections, no deliveries", () => {
    expect(planDeliveries(request, [], () => "x")).toEqual({ deliveries: [], filtered: [] });
  });

  it("filters per connection and records why a connection did not take the event", () => {
    const json: ReceivedRequest = { ...request, body: '{"type":"invoice.paid","amount":4200}' };
    const route = { transform: "{ \"id\": body.id }", schema: null, schema_mode: "reject" as const };
    const plan = planDeliveries(
      json,
      [
        con("con_paid", "dst_1", [{ field: "body.type", op: "eq", value: "invoice.paid" }], route),
        con("con_big", "dst_2", [{ field: "body.amount", op: "gt", value: 10_000 }]),
        con("con_all", "dst_3"),
      ],
      () => "dlv_x",
    );
    expect(plan.deliveries.map((d) => [d.connection_id, d.route])).toEqual([["con_paid", route], ["con_all", null]]);
    expect(plan.filtered).toEqual([
      { connection_id: "con_big", rule: { path: "filters[0]", field: "body.amount", op: "gt", value: 10_000 }, reason: expect.stringContaining("body.amount") },
    ]);
  });

  it("filters see headers case-insensitively and a binary body as its base64 text", () => {
    const binary: ReceivedRequest = { ...request, body: "AAEC", body_encoding: "base64" };
    const plan = planDeliveries(binary, [con("con_h", "dst_1", [{ field: "headers.Stripe-Signature", op: "exists" }]), con("con_b", "dst_1", [{ field: "body", op: "eq", value: "AAEC" }])], () => "d");
    expect(plan.deliveries.map((d) => d.connection_id)).toEqual(["con_h", "con_b"]);
  });

  it("forwards provider headers but not hop-by-hop, platform, credential or inbound webhook-* headers", () => {
    expect(forwardableHeaders(request.headers)).toEqual({ "content-type": "application/json", "stripe-signature": "t=1,v1=abc" });
  });

  it("keeps the body inline unless it lives in R2", () => {
    const stored = { event_id: "evt_1", source_id: "src_1", org_id: "org_1", env_id: "env_1", received_at: 1, request, body_r2_key: null };
    const d = { delivery_id: "dlv_1", connection_id: "con_a", destination_id: "dst_1", route: null };
    expect(toMessage(stored, d)).toMatchObject({ body: "{}", body_r2_key: null, delivery_id: "dlv_1", query: { a: "1" } });
    expect(toMessage({ ...stored, body_r2_key: "events/x" }, d)).toMatchObject({ body: null, body_r2_key: "events/x" });
  });
});
