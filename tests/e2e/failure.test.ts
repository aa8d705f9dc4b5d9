// When receivers fail: retries by policy, the circuit breaker (open → half-open probes),
// the dead letter queue and redrive, permanent failures, and manual retry.
import { afterAll, describe, expect, inject, it } from "vitest";
import type {} from "./setup/gateway.js";
import { Api, ingestOk, verifyWithStandardWebhooks, wire, type AttemptView, type CircuitView } from "./setup/api.js";
import { pollUntil } from "./setup/poll.js";
import { closeAll, startReceiver, type ReceivedRequest, type Receiver } from "./setup/receiver.js";

const { baseUrl, tenantA } = inject("gateway");
const api = new Api(baseUrl, tenantA.api_key);

const receivers: Receiver[] = [];
afterAll(async () => {
  await closeAll(receivers);
});

const byAttemptNumber = (a: AttemptView, b: AttemptView) => a.attempt_number - b.attempt_number;

describe("failure handling", () => {
  it("retries a 503 by policy, opens the circuit, probes once per cooldown, dead-letters, then redrives", async () => {
    const rcv = await startReceiver({ reply: { status: 503, body: "down for maintenance" } });
    receivers.push(rcv);
    const cooldownMs = 2_000;
    const { source, destinations } = await wire(api, [
      {
        url: `${rcv.url}/flaky`,
        retry_policy: { strategy: "fixed", max_retries: 2, interval_seconds: 1 },
        circuit_breaker: { failure_threshold: 3, cooldown_seconds: cooldownMs / 1000 },
      },
    ]);
    const dst = destinations[0]!;
    const secret = dst.config.signing_secret!;

    const bodies = [JSON.stringify({ n: 1 }), JSON.stringify({ n: 2 })];
    const eventIds: string[] = [];
    for (const body of bodies) eventIds.push(await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body }));

    // 1. The breaker opens once 3 consecutive attempts failed.
    const opened = await pollUntil(() => api.circuit(dst.id), (c) => c.state === "open", {
      what: "the circuit to open",
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    const openSeenAt = Date.now();
    expect(opened.consecutive_failures).toBeGreaterThanOrEqual(3);
    expect(opened.opened_at).not.toBeNull();

    // 2. Both deliveries end in the DLQ once their retries are exhausted (1 + 2 retries each).
    const dead = await pollUntil(() => api.dlq(dst.id), (l) => l.length === 2, { what: "2 dead letters", timeoutMs: 30_000, intervalMs: 200 });
    const events = await Promise.all(eventIds.map((id) => api.waitForEventStatus(id, "failed")));
    const deliveryIds = events.map((e) => e.deliveries[0]!.id);
    expect(new Set(dead.map((d) => d.delivery_id))).toEqual(new Set(deliveryIds));
    for (const d of dead) {
      expect(d.reason).toMatch(/retries exhausted/);
      expect(d.reason).toContain("503");
      expect(d).toMatchObject({ destination_id: dst.id, attempts: 3, last_status_code: 503 });
    }
    for (const e of events) expect(e.deliveries[0]).toMatchObject({ status: "failed", attempts: 3 });

    // 3. Every attempt is recorded: 503, numbered 1, 2, 3, with the same webhook-id each time.
    for (const [i, id] of eventIds.entries()) {
      const attempts = (await api.attempts(id)).sort(byAttemptNumber);
      expect(attempts.map((a) => a.attempt_number)).toEqual([1, 2, 3]);
      for (const a of attempts) expect(a).toMatchObject({ status: "failed", status_code: 503, error: "HTTP 503 Service Unavailable", response_body: "down for maintenance" });
      const seen = rcv.byWebhookId(deliveryIds[i]!);
      expect(seen.map((r) => r.headers["x-hookstream-attempt"])).toEqual(["1", "2", "3"]);
      for (const r of seen) expect(r.body.toString()).toBe(bodies[i]);
    }
    expect(rcv.requests).toHaveLength(6);

    // 4. While open, at most one attempt per cooldown: each request that arrived after we saw
    // the circuit open follows the previous one by at least the cooldown (plain retries would
    // come every ~1 s). Slack covers clock granularity only.
    const arrivals = rcv.requests.map((r) => r.at).sort((a, b) => a - b);
    const afterOpen = arrivals.map((at, i) => ({ at, gap: i > 0 ? at - arrivals[i - 1]! : Infinity })).filter((x) => x.at > openSeenAt);
    expect(afterOpen.length).toBeGreaterThanOrEqual(2);
    for (const { gap } of afterOpen) expect(gap).toBeGreaterThanOrEqual(cooldownMs - 100);

    // 5. Nothing queued any more; once the cooldown passes the breaker reports half-open.
    const halfOpen = await pollUntil(() => api.circuit(dst.id), (c) => c.state === "half_open", {
      what: "the circuit to become half_open",
      timeoutMs: 10_000,
    });
    expect(halfOpen).toMatchObject<Partial<CircuitView>>({ queue_depth: 0, consecutive_failures: 6 });

    // 6. The receiver recovers; a redrive delivers both, with their original webhook-ids.
    rcv.respondWith({ status: 200, body: "ok" });
    const redrive = await api.expect<{ redriven: number; remaining: boolean }>(202, "POST", `/v1/destinations/${dst.id}/dlq/redrive`, {});
    expect(redrive).toEqual({ redriven: 2, remaining: false });
    for (const id of eventIds) await api.waitForEventStatus(id, "delivered");
    expect(await api.dlq(dst.id)).toEqual([]);
    expect(await api.circuit(dst.id)).toMatchObject({ state: "closed", consecutive_failures: 0, queue_depth: 0 });
    for (const [i, id] of eventIds.entries()) {
      const seen = rcv.byWebhookId(deliveryIds[i]!);
      expect(seen).toHaveLength(4);
      const last = seen.at(-1)!;
      expect(last.headers["x-hookstream-attempt"]).toBe("4");
      expect(last.body.toString()).toBe(bodies[i]);
      expect(() => verifyWithStandardWebhooks(secret, last.headers, last.body)).not.toThrow();
      const attempts = (await api.attempts(id)).sort(byAttemptNumber);
      expect(attempts.map((a) => [a.attempt_number, a.status, a.status_code])).toEqual([
        [1, "failed", 503],
        [2, "failed", 503],
        [3, "failed", 503],
        [4, "success", 200],
      ]);
    }
  });

  it("dead-letters a 400 as permanent after exactly one attempt", async () => {
    const rcv = await startReceiver({ reply: { status: 400, body: "unknown event type" } });
    receivers.push(rcv);
    const { source, destinations } = await wire(api, [
      { url: `${rcv.url}/strict`, retry_policy: { strategy: "fixed", max_retries: 3, interval_seconds: 1 } },
    ]);
    const dst = destinations[0]!;
    const eventId = await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body: '{"type":"nope"}' });

    const dead = await pollUntil(() => api.dlq(dst.id), (l) => l.length === 1, { what: "1 dead letter", timeoutMs: 15_000 });
    const event = await api.waitForEventStatus(eventId, "failed");
    expect(dead[0]).toMatchObject({ event_id: eventId, delivery_id: event.deliveries[0]!.id, attempts: 1, last_status_code: 400 });
    expect(dead[0]!.reason).toContain("400");
    expect(dead[0]!.reason).not.toMatch(/retries exhausted/);
    expect(event.deliveries[0]).toMatchObject({ status: "failed", attempts: 1, next_attempt_at: null });

    // Nothing is left in the scheduler's queue, so no further attempt can come.
    expect((await api.circuit(dst.id)).queue_depth).toBe(0);
    const attempts = await api.attempts(eventId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ attempt_number: 1, status: "failed", status_code: 400, response_body: "unknown event type" });
    expect(rcv.requests).toHaveLength(1);
  });

  it("POST /v1/events/:id/retry delivers a delivered event again with the same webhook-id", async () => {
    const rcv = await startReceiver({ reply: { status: 200, body: "ok" } });
    receivers.push(rcv);
    const { source, destinations } = await wire(api, [{ url: `${rcv.url}/again` }]);
    const body = JSON.stringify({ type: "replay.me" });
    const eventId = await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body });
    const delivered = await api.waitForEventStatus(eventId, "delivered");
    const deliveryId = delivered.deliveries[0]!.id;
    const [first] = await rcv.waitForRequests(1);

    const retry = await api.expect<{ event_id: string; deliveries: number }>(202, "POST", `/v1/events/${eventId}/retry`);
    expect(retry).toEqual({ event_id: eventId, deliveries: 1 });

    const [, second] = await rcv.waitForRequests(2);
    expect(first!.headers["webhook-id"]).toBe(deliveryId);
    expect(second!.headers["webhook-id"]).toBe(deliveryId);
    expect(second!.headers["x-hookstream-attempt"]).toBe("2");
    expect(second!.body.toString()).toBe(body);
    expect(() => verifyWithStandardWebhooks(destinations[0]!.config.signing_secret!, second!.headers, second!.body)).not.toThrow();

    const attempts = await pollUntil(() => api.attempts(eventId), (l) => l.length === 2, { what: "2 attempts" });
    expect(attempts.sort(byAttemptNumber).map((a) => [a.attempt_number, a.status, a.status_code, a.delivery_id])).toEqual([
      [1, "success", 200, deliveryId],
      [2, "success", 200, deliveryId],
    ]);
    const event = await api.waitForEventStatus(eventId, "delivered");
    expect(event.deliveries[0]).toMatchObject({ id: deliveryId, status: "delivered", attempts: 2 });
    expect(rcv.requests.map((r: ReceivedRequest) => r.headers["webhook-id"])).toEqual([deliveryId, deliveryId]);
  });
});
