import { describe, expect, it } from "vitest";
import type { ReceivedRequest } from "../model/event.js";
import { forwardableHeaders, planDeliveries, toMessage } from "./plan.js";

const request: ReceivedRequest = {
  method: "POST",
  headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=abc", host: "gw", "cf-connecting-ip": "1.2.3.4", authorization: "Bearer x", "webhook-id": "msg_1" },
  query: { a: "1" },
  body: "{}",
  body_encoding: "utf8",
};

describe("routing plan", () => {
  it("fans out: one delivery per connection, each with its own id", () => {
    let n = 0;
    const plan = planDeliveries(request, [{ id: "con_a", destination_id: "dst_1" }, { id: "con_b", destination_id: "dst_1" }, { id: "con_c", destination_id: "dst_2" }], () => `dlv_${++n}`);
    expect(plan).toEqual([
      { delivery_id: "dlv_1", connection_id: "con_a", destination_id: "dst_1" },
      { delivery_id: "dlv_2", connection_id: "con_b", destination_id: "dst_1" },
      { delivery_id: "dlv_3", connection_id: "con_c", destination_id: "dst_2" },
    ]);
  });

  it("no connections, no deliveries", () => {
    expect(planDeliveries(request, [], () => "x")).toEqual([]);
  });

  it("forwards provider headers but not hop-by-hop, platform, credential or inbound webhook-* headers", () => {
    expect(forwardableHeaders(request.headers)).toEqual({ "content-type": "application/json", "stripe-signature": "t=1,v1=abc" });
  });

  it("keeps the body inline unless it lives in R2", () => {
    const stored = { event_id: "evt_1", source_id: "src_1", org_id: "org_1", env_id: "env_1", received_at: 1, request, body_r2_key: null };
    const d = { delivery_id: "dlv_1", connection_id: "con_a", destination_id: "dst_1" };
    expect(toMessage(stored, d)).toMatchObject({ body: "{}", body_r2_key: null, delivery_id: "dlv_1", query: { a: "1" } });
    expect(toMessage({ ...stored, body_r2_key: "events/x" }, d)).toMatchObject({ body: null, body_r2_key: "events/x" });
  });
});
