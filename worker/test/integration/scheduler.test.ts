import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { deliveriesWithEvents } from "../../src/db/repositories/messages.js";
import { toEnqueueItem } from "../../src/delivery/sweep.js";
import { RESPONSE_BODY_CAP } from "../../src/model/types.js";
import { client, expectStatus, request, type Client } from "../helpers/api.js";
import {
  createConnection, createDestination, createSource, receivedBy, receiverUrl, setReceiver, uniqueName, waitFor, type ReceivedRequest,
} from "../helpers/fixtures.js";
import { fireDue, holdAlarm, queuedRows, schedulerStub } from "../helpers/scheduler.js";
import { fromBase64, standardWebhookSignature } from "../helpers/secrets.js";
import { seedTenant, type SeededTenant } from "../helpers/seed.js";
import type { Attempt, Circuit, DeadLetter, Event, Page } from "../helpers/types.js";

let tenant: SeededTenant;
let api: Client;

beforeAll(async () => {
  tenant = await seedTenant();
  api = client(tenant.key);
});

interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
}

/** A source → connection → HTTP destination pointing at a fresh receiver. */
async function pipeline(opts: { destination?: Record<string, unknown>; config?: Record<string, unknown>; receiver?: Parameters<typeof setReceiver>[1] } = {}) {
  const name = uniqueName();
  if (opts.receiver) await setReceiver(name, opts.receiver);
  const source = await createSource(api);
  const destination = await createDestination(api, opts.destination ?? {}, { url: receiverUrl(name), ...opts.config });
  const connection = await createConnection(api, source.id, destination.id);
  return { name, source, destination, connection };
}

async function ingest(sourceId: string, body: BodyInit = '{"hello":"world"}', headers: Record<string, string> = { "content-type": "application/json" }): Promise<string> {
  const res = await request<{ event_id: string }>("POST", `/v1/ingest/${sourceId}`, { raw: body, headers });
  expectStatus(res, 202);
  return res.body.event_id;
}

const deliveryOf = async (eventId: string) =>
  (await env.DB.prepare("SELECT * FROM deliveries WHERE event_id = ?1").bind(eventId).first<DeliveryRow>())!;
const eventStatus = async (eventId: string) => env.DB.prepare("SELECT status FROM events WHERE id = ?1").bind(eventId).first<string>("status");
/** An attempt as stored in D1 (times in ms). */
type AttemptRow = Omit<Attempt, "created_at"> & { created_at: number };
const attemptsOf = async (eventId: string) =>
  (await env.DB.prepare("SELECT * FROM delivery_attempts WHERE event_id = ?1 ORDER BY attempt_number").bind(eventId).all<AttemptRow>()).results;

function waitForAttempts(eventId: string, n: number): Promise<AttemptRow[]> {
  return waitFor(async () => {
    const list = await attemptsOf(eventId);
    return list.length >= n && list;
  }, `${n} attempt(s) of ${eventId}`);
}

/** Waits until the scheduler has recorded `n` attempts of the delivery in its own queue too. */
function waitForQueued(destinationId: string, deliveryId: string, n: number) {
  return waitFor(async () => (await queuedRows(destinationId)).find((r) => r.delivery_id === deliveryId && r.attempts === n), `queue row with ${n} attempts`);
}

function waitForRequests(name: string, n: number): Promise<ReceivedRequest[]> {
  return waitFor(async () => {
    const list = await receivedBy(name);
    return list.length >= n && list;
  }, `${n} request(s) at receiver ${name}`);
}

const circuit = async (destinationId: string) => (await api.get<Circuit>(`/v1/destinations/${destinationId}/circuit`)).body;
const deadLetters = async (destinationId: string) => (await api.get<Page<DeadLetter>>(`/v1/destinations/${destinationId}/dlq`)).body.data;
const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

describe("a successful delivery", () => {
  it("sends the event signed, records the attempt and marks delivery and event delivered", async () => {
    const p = await pipeline();
    const secret = p.destination.config.signing_secret as string;
    const body = '{"type":"order.created","id":42}';
    const eventId = await ingest(p.source.id, body, { "content-type": "application/json", "x-shop": "acme", authorization: "Bearer sender-secret", "cf-connecting-ip": "198.51.100.7" });

    await waitFor(async () => (await deliveryOf(eventId)).status === "delivered", "delivery delivered");
    const delivery = await deliveryOf(eventId);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 1, next_attempt_at: null, last_error: null });
    expect(await eventStatus(eventId)).toBe("delivered");

    const [attempt, ...rest] = await attemptsOf(eventId);
    expect(rest).toEqual([]);
    expect(attempt).toMatchObject({
      delivery_id: delivery.id, destination_id: p.destination.id, connection_id: p.connection.id, attempt_number: 1,
      status: "success", status_code: 200, response_body: "ok", error: null,
    });
    expect(Number.isInteger(attempt!.latency_ms) && attempt!.latency_ms >= 0).toBe(true);

    const [req, ...more] = await receivedBy(p.name);
    expect(more).toEqual([]);
    expect(req!.method).toBe("POST");
    const sent = fromBase64(req!.body_base64);
    expect(new TextDecoder().decode(sent)).toBe(body);
    expect(req!.headers).toMatchObject({
      "content-type": "application/json", "x-shop": "acme", "user-agent": "hookstream/0.1",
      "x-hookstream-event-id": eventId, "x-hookstream-source-id": p.source.id, "x-hookstream-attempt": "1", "webhook-id": delivery.id,
    });
    expect(req!.headers.authorization).toBeUndefined();
    expect(req!.headers["cf-connecting-ip"]).toBeUndefined();
    const expected = await standardWebhookSignature(secret, delivery.id, req!.headers["webhook-timestamp"]!, sent);
    expect(req!.headers["webhook-signature"]!.split(" ")).toContain(expected);

    const ev = (await api.get<Event>(`/v1/events/${eventId}`)).body;
    expect(ev.status).toBe("delivered");
    expect(ev.deliveries).toEqual([expect.objectContaining({ id: delivery.id, status: "delivered", attempts: 1 })]);
    const listed = (await api.get<Page<Attempt>>(`/v1/events/${eventId}/attempts`)).body.data;
    expect(listed.map((a) => a.id)).toEqual([attempt!.id]);
    const filtered = (await api.get<Page<Attempt>>(`/v1/delivery-attempts?event_id=${eventId}&status=success`)).body.data;
    expect(filtered.map((a) => a.id)).toEqual([attempt!.id]);
  });

  it("truncates a large response body to 4 KB in the attempt", async () => {
    const p = await pipeline({ receiver: { status: 200, body_bytes: 10_000 } });
    const eventId = await ingest(p.source.id);
    const [attempt] = await waitForAttempts(eventId, 1);
    expect(RESPONSE_BODY_CAP).toBe(4096);
    expect(attempt!.status).toBe("success");
    expect(attempt!.response_body).toBe("x".repeat(4096));
  });

  it("delivers a body stored in R2 byte for byte", async () => {
    const p = await pipeline();
    const bytes = new Uint8Array(30_000).map((_, i) => (i * 7) % 256);
    const eventId = await ingest(p.source.id, bytes, { "content-type": "application/octet-stream" });
    await waitFor(async () => (await deliveryOf(eventId)).status === "delivered", "delivery delivered");
    const [req] = await receivedBy(p.name);
    expect(fromBase64(req!.body_base64)).toEqual(bytes);
  });
});

describe("retries", () => {
  it("a 503 receiver with fixed retries and max_retries 2 → attempts 1..3, then the DLQ and a failed event", async () => {
    const p = await pipeline({
      receiver: { status: 503, body: "down for maintenance" },
      destination: { retry_policy: { strategy: "fixed", max_retries: 2, interval_seconds: 60 } },
    });
    const eventId = await ingest(p.source.id);
    const [first] = await waitForAttempts(eventId, 1);
    expect(first).toMatchObject({ attempt_number: 1, status: "failed", status_code: 503, error: "HTTP 503 Service Unavailable", response_body: "down for maintenance" });
    const delivery = await deliveryOf(eventId);
    expect(delivery.status).toBe("retrying");
    // fixed 60 s ± 20 % jitter
    const delay = delivery.next_attempt_at! - first!.created_at;
    expect(delay).toBeGreaterThanOrEqual(48_000);
    expect(delay).toBeLessThanOrEqual(72_000);
    expect(await eventStatus(eventId)).toBe("processing");

    await waitForQueued(p.destination.id, delivery.id, 1);
    expect(await fireDue(p.destination.id)).toBe(true);
    await waitForAttempts(eventId, 2);
    await waitForQueued(p.destination.id, delivery.id, 2);
    expect(await deliveryOf(eventId)).toMatchObject({ status: "retrying", attempts: 2 });
    expect(await fireDue(p.destination.id)).toBe(true);

    const attempts = await waitForAttempts(eventId, 3);
    expect(attempts.map((a) => [a.attempt_number, a.status, a.status_code])).toEqual([[1, "failed", 503], [2, "failed", 503], [3, "failed", 503]]);
    await waitFor(async () => (await deliveryOf(eventId)).status === "failed", "delivery failed");
    expect(await deliveryOf(eventId)).toMatchObject({ status: "failed", attempts: 3, next_attempt_at: null, last_error: "HTTP 503 Service Unavailable" });
    expect(await eventStatus(eventId)).toBe("failed");
    expect(await deadLetters(p.destination.id)).toEqual([
      expect.objectContaining({ event_id: eventId, delivery_id: delivery.id, connection_id: p.connection.id, attempts: 3, last_status_code: 503, reason: "retries exhausted: HTTP 503 Service Unavailable" }),
    ]);

    const reqs = await receivedBy(p.name);
    expect(reqs.map((r) => r.headers["x-hookstream-attempt"])).toEqual(["1", "2", "3"]);
    expect(new Set(reqs.map((r) => r.headers["webhook-id"]))).toEqual(new Set([delivery.id]));
    // Finished: nothing left to attempt.
    expect(await queuedRows(p.destination.id)).toEqual([]);
    await fireDue(p.destination.id);
    expect(await attemptsOf(eventId)).toHaveLength(3);
  });

  it("a 400 receiver is a permanent failure: DLQ after one attempt, whatever the retry policy", async () => {
    const p = await pipeline({ receiver: { status: 400, body: "bad payload" }, destination: { retry_policy: { strategy: "fixed", max_retries: 5, interval_seconds: 1 } } });
    const eventId = await ingest(p.source.id);
    await waitFor(async () => (await deliveryOf(eventId)).status === "failed", "delivery failed");
    const attempts = await attemptsOf(eventId);
    expect(attempts).toEqual([expect.objectContaining({ attempt_number: 1, status: "failed", status_code: 400, error: "HTTP 400 Bad Request", response_body: "bad payload" })]);
    expect(await eventStatus(eventId)).toBe("failed");
    expect(await deadLetters(p.destination.id)).toEqual([expect.objectContaining({ event_id: eventId, attempts: 1, last_status_code: 400, reason: "HTTP 400 Bad Request" })]);
    // A permanent failure says nothing about the destination's health.
    expect(await circuit(p.destination.id)).toMatchObject({ state: "closed", consecutive_failures: 0, queue_depth: 0 });
    await settle(1500);
    expect(await receivedBy(p.name)).toHaveLength(1);
  });
});

describe("circuit breaker", () => {
  it("opens after failure_threshold consecutive failures and holds the queue", async () => {
    const p = await pipeline({
      receiver: { status: 503 },
      destination: { retry_policy: { strategy: "fixed", max_retries: 10, interval_seconds: 60 }, circuit_breaker: { failure_threshold: 3, cooldown_seconds: 60 } },
    });
    const events: string[] = [];
    for (let i = 0; i < 3; i++) {
      events.push(await ingest(p.source.id));
      await waitForAttempts(events[i]!, 1);
      if (i < 2) expect(await circuit(p.destination.id)).toMatchObject({ state: "closed", consecutive_failures: i + 1 });
    }
    const opened = await circuit(p.destination.id);
    expect(opened).toMatchObject({ state: "open", consecutive_failures: 3, queue_depth: 3 });
    expect(Date.parse(opened.opened_at!)).toBeGreaterThan(Date.now() - 10_000);

    // A new event queues up behind the open circuit, and due retries do not go out either.
    const held = await ingest(p.source.id);
    expect(await deliveryOf(held)).toMatchObject({ status: "pending", attempts: 0 });
    await fireDue(p.destination.id);
    await settle();
    expect(await receivedBy(p.name)).toHaveLength(3);
    expect(await attemptsOf(held)).toEqual([]);
    expect(await circuit(p.destination.id)).toMatchObject({ state: "open", queue_depth: 4 });
  });

  it("after the cooldown lets exactly one probe through; a failed probe reopens, a good one drains the queue", async () => {
    const p = await pipeline({
      receiver: { status: 503 },
      destination: { retry_policy: { strategy: "fixed", max_retries: 10, interval_seconds: 1 }, circuit_breaker: { failure_threshold: 1, cooldown_seconds: 1 } },
    });
    const first = await ingest(p.source.id);
    await waitForAttempts(first, 1);
    const second = await ingest(p.source.id);
    await holdAlarm(p.destination.id);
    const opened = await circuit(p.destination.id);
    expect(opened).toMatchObject({ state: "open", consecutive_failures: 1, queue_depth: 2 });
    const openedAt = opened.opened_at!;

    await settle(Date.parse(openedAt) + 1050 - Date.now());
    expect(await circuit(p.destination.id)).toMatchObject({ state: "half_open", queue_depth: 2 });
    // Both deliveries are due, but a half-open circuit admits one probe; it fails and reopens.
    expect(await fireDue(p.destination.id)).toBe(true);
    expect(await receivedBy(p.name)).toHaveLength(2);
    const reopened = await circuit(p.destination.id);
    expect(reopened).toMatchObject({ state: "open", consecutive_failures: 2, queue_depth: 2 });
    expect(Date.parse(reopened.opened_at!)).toBeGreaterThan(Date.parse(openedAt));
    expect(await attemptsOf(second)).toEqual([]);

    await setReceiver(p.name, { status: 200, body: "back" });
    await waitFor(async () => (await eventStatus(first)) === "delivered" && (await eventStatus(second)) === "delivered", "both events delivered");
    expect(await circuit(p.destination.id)).toMatchObject({ state: "closed", consecutive_failures: 0, opened_at: null, queue_depth: 0 });
    expect((await attemptsOf(first)).map((a) => a.status_code)).toEqual([503, 503, 200]);
    expect((await attemptsOf(second)).map((a) => a.status_code)).toEqual([200]);
  });
});

describe("redrive and manual retry", () => {
  async function deadLettered(receiverStatus = 503) {
    const p = await pipeline({ receiver: { status: receiverStatus }, destination: { retry_policy: { strategy: "fixed", max_retries: 0, interval_seconds: 1 } } });
    const eventId = await ingest(p.source.id);
    await waitFor(async () => (await eventStatus(eventId)) === "failed", "event failed");
    return { ...p, eventId };
  }

  it("redrive from the DLQ re-delivers once the receiver is healthy", async () => {
    const p = await deadLettered();
    const [entry] = await deadLetters(p.destination.id);
    expect(entry).toMatchObject({ event_id: p.eventId, attempts: 1, last_status_code: 503, reason: "retries exhausted: HTTP 503 Service Unavailable" });

    await setReceiver(p.name, { status: 204 });
    const res = await api.post(`/v1/destinations/${p.destination.id}/dlq/redrive`);
    expectStatus(res, 202);
    expect(res.body).toEqual({ redriven: 1, remaining: false });

    await waitFor(async () => (await eventStatus(p.eventId)) === "delivered", "event delivered after redrive");
    expect(await deliveryOf(p.eventId)).toMatchObject({ status: "delivered", attempts: 2 });
    expect((await attemptsOf(p.eventId)).map((a) => [a.attempt_number, a.status_code])).toEqual([[1, 503], [2, 204]]);
    expect(await deadLetters(p.destination.id)).toEqual([]);
    const reqs = await receivedBy(p.name);
    expect(reqs.map((r) => r.headers["webhook-id"])).toEqual([entry!.delivery_id, entry!.delivery_id]);

    const again = await api.post(`/v1/destinations/${p.destination.id}/dlq/redrive`, {});
    expect(again.body).toEqual({ redriven: 0, remaining: false });
  });

  it("redrives only the dead letters named by id", async () => {
    const p = await deadLettered();
    const otherEvent = await ingest(p.source.id);
    await waitFor(async () => (await eventStatus(otherEvent)) === "failed", "second event failed");
    const entries = await deadLetters(p.destination.id);
    expect(entries).toHaveLength(2);
    const chosen = entries.find((e) => e.event_id === p.eventId)!;

    await setReceiver(p.name, { status: 200 });
    const res = await api.post(`/v1/destinations/${p.destination.id}/dlq/redrive`, { ids: [chosen.id] });
    expect(res.body).toEqual({ redriven: 1, remaining: false });
    await waitFor(async () => (await eventStatus(p.eventId)) === "delivered", "chosen event delivered");
    await settle();
    expect(await eventStatus(otherEvent)).toBe("failed");
    expect((await deadLetters(p.destination.id)).map((e) => e.event_id)).toEqual([otherEvent]);
  });

  it("POST /v1/events/:id/retry re-delivers a delivered event", async () => {
    const p = await pipeline();
    const eventId = await ingest(p.source.id);
    await waitFor(async () => (await eventStatus(eventId)) === "delivered", "first delivery");
    const res = await api.post(`/v1/events/${eventId}/retry`);
    expectStatus(res, 202);
    expect(res.body).toEqual({ event_id: eventId, deliveries: 1 });
    const reqs = await waitForRequests(p.name, 2);
    expect(reqs.map((r) => r.headers["x-hookstream-attempt"])).toEqual(["1", "2"]);
    await waitFor(async () => (await deliveryOf(eventId)).attempts === 2 && (await eventStatus(eventId)) === "delivered", "second attempt recorded");
  });

  it("POST /v1/events/:id/retry routes an event received before any connection existed", async () => {
    const name = uniqueName();
    const source = await createSource(api);
    const eventId = await ingest(source.id);
    expect(await eventStatus(eventId)).toBe("received");
    const destination = await createDestination(api, {}, { url: receiverUrl(name) });
    await createConnection(api, source.id, destination.id);

    const res = await api.post(`/v1/events/${eventId}/retry`);
    expect(res.body).toEqual({ event_id: eventId, deliveries: 1 });
    await waitFor(async () => (await eventStatus(eventId)) === "delivered", "event delivered");
    expect(await receivedBy(name)).toHaveLength(1);
  });

  it("a dead-lettered event delivered by a manual retry leaves the DLQ", async () => {
    const p = await deadLettered();
    await setReceiver(p.name, { status: 200 });
    expectStatus(await api.post(`/v1/events/${p.eventId}/retry`), 202);
    await waitFor(async () => (await eventStatus(p.eventId)) === "delivered", "event delivered by manual retry");
    expect.soft(await deadLetters(p.destination.id)).toEqual([]);
    // The consequence: redriving the DLQ sends the already-delivered event once more.
    const redrive = await api.post(`/v1/destinations/${p.destination.id}/dlq/redrive`);
    expect.soft(redrive.body).toEqual({ redriven: 0, remaining: false });
    await settle(500);
    expect.soft(await receivedBy(p.name)).toHaveLength(2);
  });

  it("POST /v1/events/:id/retry retries a delivery in backoff now", async () => {
    const p = await pipeline({ receiver: { status: 503 }, destination: { retry_policy: { strategy: "fixed", max_retries: 5, interval_seconds: 3600 } } });
    const eventId = await ingest(p.source.id);
    await waitForAttempts(eventId, 1);
    await waitFor(async () => (await deliveryOf(eventId)).status === "retrying", "delivery retrying");
    await setReceiver(p.name, { status: 200 });

    expectStatus(await api.post(`/v1/events/${eventId}/retry`), 202);
    await waitFor(async () => (await eventStatus(eventId)) === "delivered", "event delivered by the manual retry", 3_000);
    expect((await attemptsOf(eventId)).map((a) => a.status_code)).toEqual([503, 200]);
  });
});

describe("scheduler idempotency", () => {
  async function heldDelivery() {
    const p = await pipeline({ destination: { enabled: false } });
    const eventId = await ingest(p.source.id);
    const delivery = await deliveryOf(eventId);
    const [row] = await deliveriesWithEvents(env.DB, [delivery.id]);
    return { ...p, eventId, delivery, item: toEnqueueItem(row!), stub: schedulerStub(p.destination.id) };
  }

  it("ignores a duplicate enqueue of a delivery it already holds or has finished", async () => {
    const p = await heldDelivery();

    // Held (destination disabled): ingest already queued it; twice more changes nothing.
    await p.stub.enqueue(p.destination.id, [p.item, p.item]);
    expect((await queuedRows(p.destination.id)).map((r) => r.delivery_id)).toEqual([p.delivery.id]);

    expectStatus(await api.patch(`/v1/destinations/${p.destination.id}`, { enabled: true }), 200);
    await waitFor(async () => (await eventStatus(p.eventId)) === "delivered", "delivered once enabled");

    // Finished: a late duplicate (e.g. from the sweep) is ignored too.
    await p.stub.enqueue(p.destination.id, [p.item]);
    expect(await queuedRows(p.destination.id)).toEqual([]);
    await settle(500);
    expect(await receivedBy(p.name)).toHaveLength(1);
    expect(await attemptsOf(p.eventId)).toHaveLength(1);

    // Only an explicit "now" (manual retry, redrive) sends it again.
    await p.stub.enqueue(p.destination.id, [p.item], { mode: "now" });
    await waitForRequests(p.name, 2);
  });

  it("reports how many deliveries an enqueue actually accepted", async () => {
    const p = await heldDelivery();
    expect.soft(await p.stub.enqueue(p.destination.id, [p.item])).toEqual({ accepted: 0 });
    expect.soft(await p.stub.enqueue(p.destination.id, [p.item, p.item])).toEqual({ accepted: 0 });
    const fresh = { ...p.item, message: { ...p.item.message, delivery_id: `dlv_${"0".repeat(31)}1` } };
    expect.soft(await p.stub.enqueue(p.destination.id, [fresh])).toEqual({ accepted: 1 });
    expect(await queuedRows(p.destination.id)).toHaveLength(2);
  });
});
