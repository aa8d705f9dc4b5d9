import { describe, expect, it } from "vitest";
import type { Outbound, OutboundRequest } from "../../delivery/outbound.js";
import { generateSigningSecret } from "../../delivery/signing.js";
import { DESTINATION_PROVIDERS, getProvider } from "./registry.js";
import type { DeliverContext, DeliveryPayload } from "./types.js";

function recordingOutbound(sent: OutboundRequest[]): Outbound {
  return {
    async send(request) {
      sent.push(request);
      return {
        ok: true,
        response: { status: 204, headers: new Headers(), body: "", truncated: false, latency_ms: 12 },
      };
    },
  };
}

const payload: DeliveryPayload = {
  delivery_id: "dlv_1",
  event_id: "evt_1",
  source_id: "src_1",
  connection_id: "con_1",
  destination_id: "dst_1",
  attempt_number: 1,
  method: "POST",
  headers: {},
  query: {},
  body: new TextEncoder().encode("{}"),
  content_type: null,
};

describe("destination registry", () => {
  it("lists every provider type", () => {
    expect(Object.keys(DESTINATION_PROVIDERS)).toEqual(["http", "websocket", "sqs", "s3", "eventbridge", "pubsub", "kafka", "rabbitmq"]);
    expect(getProvider("http")?.type).toBe("http");
    expect(getProvider("http")?.secretFields).toEqual(["signing_secret"]);
    expect(getProvider("sqs")?.secretFields).toEqual(["secret_access_key", "session_token"]);
    expect(getProvider("websocket")?.secretFields).toEqual([]);
  });

  it("parses stored config (defaults included) before delivering", async () => {
    const sent: OutboundRequest[] = [];
    const ctx: DeliverContext = { outbound: recordingOutbound(sent), now: () => 1_700_000_000_000 };
    const stored: unknown = { url: "https://example.com/in", signing_secret: generateSigningSecret() };

    const result = await getProvider("http")?.deliver(payload, stored, ctx);

    expect(result).toEqual({ kind: "delivered", status_code: 204, response_body: "", latency_ms: 12 });
    expect(sent.length).toBe(1);
    expect(sent[0]).toMatchObject({ url: "https://example.com/in", method: "POST", timeout_ms: 30_000 });
    expect(sent[0]?.headers["webhook-timestamp"]).toBe("1700000000");
  });

  it("turns an invalid stored config into a permanent failure without sending", async () => {
    const sent: OutboundRequest[] = [];
    const ctx: DeliverContext = { outbound: recordingOutbound(sent), now: Date.now };

    const result = await getProvider("http")?.deliver(payload, { url: "ftp://example.com" }, ctx);

    expect(result).toEqual({
      kind: "permanent",
      error: "invalid http destination config",
      status_code: null,
      response_body: null,
      latency_ms: 0,
    });
    expect(sent).toEqual([]);
  });

  it("prepare validates and fills the signing secret", async () => {
    const provider = getProvider("http");
    const prepared = await provider?.prepare?.({ url: "https://example.com/in" });
    expect(prepared).toMatchObject({ url: "https://example.com/in", method: "POST", timeout_ms: 30_000 });
    expect(provider?.configSchema.parse(prepared)).toEqual(prepared);
    expect(JSON.stringify(prepared)).toMatch(/"signing_secret":"whsec_[A-Za-z0-9+/]{43}="/);
    await expect(provider?.prepare?.({ url: 42 })).rejects.toThrow();
  });
});
