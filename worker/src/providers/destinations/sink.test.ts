import { describe, expect, it } from "vitest";
import { awsError, awsVerdict } from "./aws.js";
import { kafkaErrorVerdict } from "./kafka.js";
import { redactResult } from "./registry.js";
import { eventTime, eventType, renderTemplate, statusVerdict, template } from "./sink.js";
import type { DeliveryPayload } from "./types.js";

function payload(body: string, headers: Record<string, string> = {}): DeliveryPayload {
  return {
    delivery_id: "dlv_1", event_id: "evt_018c2a5f3c00aaaaaaaaaaaaaaaaaaaa", source_id: "src_1", connection_id: "con_1", destination_id: "dst_1",
    attempt_number: 1, method: "POST", headers, query: {}, body: new TextEncoder().encode(body), content_type: "application/json",
  };
}

describe("templates", () => {
  it("renders every variable; dates come from the event id (UTC)", () => {
    const p = payload('{"type":"order.created"}');
    expect(eventTime(p, 0).toISOString()).toBe(new Date(0x018c2a5f3c00).toISOString());
    const at = new Date(0x018c2a5f3c00);
    const pad = (n: number) => String(n).padStart(2, "0");
    expect(renderTemplate("{source}/{yyyy}/{mm}/{dd}/{hh}/{event_id}.json", p, 0)).toBe(
      `src_1/${at.getUTCFullYear()}/${pad(at.getUTCMonth() + 1)}/${pad(at.getUTCDate())}/${pad(at.getUTCHours())}/evt_018c2a5f3c00aaaaaaaaaaaaaaaaaaaa.json`,
    );
    expect(renderTemplate("{event_type}.{delivery_id}.{connection_id}.{destination_id}.{source_id}", p, 0)).toBe("order.created.dlv_1.con_1.dst_1.src_1");
  });

  it("an event id that is not time-sortable uses now", () => {
    expect(eventTime({ ...payload("{}"), event_id: "evt_custom" }, 86_400_000).toISOString()).toBe("1970-01-02T00:00:00.000Z");
  });

  it("rejects unknown variables", () => {
    expect(template().safeParse("{source}/{event_id}").success).toBe(true);
    expect(template().safeParse("{sourse}/{event_id}").success).toBe(false);
  });

  it.each([
    ['{"type":"a.b"}', {}, "a.b"],
    ['{"event":"push"}', {}, "push"],
    ['{"type":42}', { "x-github-event": "issues" }, "issues"],
    ["not json", { "x-event-type": "ping" }, "ping"],
    ["[1,2]", {}, "webhook"],
  ] as const)("event type of %s", (body, headers, expected) => {
    expect(eventType(payload(body, headers))).toBe(expected);
  });
});

describe("classification", () => {
  it.each([
    [200, "delivered"], [204, "delivered"], [400, "permanent"], [404, "permanent"], [413, "permanent"],
    [401, "retryable"], [403, "retryable"], [408, "retryable"], [429, "retryable"], [500, "retryable"], [503, "retryable"],
  ] as const)("status %i → %s", (status, kind) => {
    expect(statusVerdict(status)).toBe(kind);
  });

  it("reads AWS JSON and XML errors", () => {
    expect(awsError('{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"gone"}', new Headers())).toEqual({ code: "QueueDoesNotExist", message: "gone" });
    expect(awsError("<Error><Code>NoSuchBucket</Code><Message>nope</Message></Error>", new Headers())).toEqual({ code: "NoSuchBucket", message: "nope" });
    expect(awsVerdict("SQS", 400, '{"__type":"ThrottlingException","message":"slow down"}', new Headers())).toEqual({ kind: "retryable", error: "SQS 400 ThrottlingException: slow down" });
    expect(awsVerdict("S3", 404, "<Error><Code>NoSuchBucket</Code></Error>", new Headers())).toEqual({ kind: "permanent", error: "S3 404 NoSuchBucket" });
  });

  it("Kafka REST error codes: 50003 retries, 50002 does not", () => {
    expect(kafkaErrorVerdict(50003, "not leader").kind).toBe("retryable");
    expect(kafkaErrorVerdict(50002, "too large").kind).toBe("permanent");
    expect(kafkaErrorVerdict(40401, "").kind).toBe("permanent");
    expect(kafkaErrorVerdict(50001, "").kind).toBe("retryable");
  });
});

describe("redactResult", () => {
  it("removes secret values from the error and the response body", () => {
    const result = redactResult(
      { kind: "retryable", error: "bad key sk-123456 here", status_code: 403, response_body: "echo sk-123456", latency_ms: 1 },
      ["sk-123456"],
    );
    expect(result).toEqual({ kind: "retryable", error: "bad key [redacted] here", status_code: 403, response_body: "echo [redacted]", latency_ms: 1 });
  });
});
