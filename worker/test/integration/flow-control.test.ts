import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { client, expectError, expectStatus, request, type Client } from "../helpers/api.js";
import { createConnection, createDestination, createSource, uniqueName, waitFor } from "../helpers/fixtures.js";
import { schedulerStub } from "../helpers/scheduler.js";
import { seedTenant } from "../helpers/seed.js";
import type { Destination, Page, DeadLetter } from "../helpers/types.js";

/**
 * Per-destination flow control, proven by counting at a real receiver (test/setup/gate.ts):
 * requests open at once, starts per window, and arrival order under retries. Each limit has a
 * control run without it that shows the same counter going past the bound.
 */
let api: Client;

beforeAll(async () => {
  api = client((await seedTenant("flow")).key);
});

interface GateState {
  arrivals: { at: number; body: string }[];
  open: number;
  max_open: number;
  held: number;
}

const gateUrl = (name: string) => `${inject("gateUrl")}/gate/${name}`;
async function setGate(name: string, behaviour: { hold?: boolean; fail?: Record<string, { times: number; status: number }> }) {
  const res = await fetch(`${inject("gateUrl")}/_gate/${name}`, { method: "PUT", body: JSON.stringify(behaviour) });
  expect(res.status).toBe(204);
}
const gateState = async (name: string) => (await (await fetch(`${inject("gateUrl")}/_gate/${name}`)).json()) as GateState;
const release = async (name: string) => ((await (await fetch(`${inject("gateUrl")}/_gate/${name}/release`, { method: "POST" })).json()) as { released: number }).released;

/** source → connection → HTTP destination at a fresh gate. */
async function pipeline(name: string, destination: Record<string, unknown> = {}) {
  const source = await createSource(api);
  const dst = await createDestination(api, destination, { url: gateUrl(name) });
  await createConnection(api, source.id, dst.id);
  return { source, destination: dst };
}

async function ingestAll(sourceId: string, bodies: string[]): Promise<string[]> {
  const ids: string[] = [];
  // One after the other: each 202 means the scheduler has queued it, so queue order = this order.
  for (const body of bodies) {
    const res = await request<{ event_id: string }>("POST", `/v1/ingest/${sourceId}`, { raw: body, headers: { "content-type": "application/json" } });
    expectStatus(res, 202);
    ids.push(res.body.event_id);
  }
  return ids;
}

const bodies = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: i + 1 }));
const deliveredCount = async (eventIds: string[]) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM deliveries WHERE status = 'delivered' AND event_id IN (${eventIds.map(() => "?").join(",")})`).bind(...eventIds).first<{ n: number }>())!.n;

/** The largest number of arrivals inside any window of `windowMs` starting at an arrival. */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j < sorted.length && sorted[j]! < sorted[i]! + windowMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

describe("the API", () => {
  it("stores, shows and updates rate_limit, max_in_flight and ordered", async () => {
    const plain = await createDestination(api);
    expect(plain).toMatchObject({ rate_limit: null, max_in_flight: 10, ordered: false });

    const limited = await createDestination(api, { rate_limit: { per_second: 5 }, max_in_flight: 3, ordered: true });
    expect(limited).toMatchObject({ rate_limit: { per_second: 5 }, max_in_flight: 3, ordered: true });
    expect((await api.get<Destination>(`/v1/destinations/${limited.id}`)).body).toMatchObject({ rate_limit: { per_second: 5 }, max_in_flight: 3, ordered: true });

    const patched = await api.patch<Destination>(`/v1/destinations/${limited.id}`, { rate_limit: null, ordered: false });
    expectStatus(patched, 200);
    expect(patched.body).toMatchObject({ rate_limit: null, max_in_flight: 3, ordered: false });
    const listed = (await api.get<Page<Destination>>("/v1/destinations?limit=250")).body.data.find((d) => d.id === limited.id);
    expect(listed).toMatchObject({ rate_limit: null, max_in_flight: 3, ordered: false });
  });

  it("refuses out-of-range values with a 400 naming the field", async () => {
    const base = { name: "bad", type: "http", config: { url: "https://example.com/hook" } };
    for (const [extra, field] of [
      [{ rate_limit: { per_second: 0 } }, "rate_limit.per_second"],
      [{ rate_limit: { per_second: 1.5 } }, "rate_limit.per_second"],
      [{ rate_limit: { per_second: 1001 } }, "rate_limit.per_second"],
      [{ rate_limit: { per_minute: 5 } }, "rate_limit"],
      [{ max_in_flight: 0 }, "max_in_flight"],
      [{ max_in_flight: 101 }, "max_in_flight"],
      [{ ordered: "yes" }, "ordered"],
    ] as const) {
      const e = expectError(await api.post("/v1/destinations", { ...base, ...extra }), 400, "validation_failed");
      expect(e.message).toContain(field);
    }
    const dst = await createDestination(api);
    expectError(await api.patch(`/v1/destinations/${dst.id}`, { max_in_flight: -1 }), 400, "validation_failed");
    expect((await api.get<Destination>(`/v1/destinations/${dst.id}`)).body.max_in_flight).toBe(10);
  });

  it("documents the fields in the OpenAPI document", async () => {
    const doc = (await (await request("GET", "/v1/openapi.json")).body) as { components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    for (const schema of ["DestinationCreate", "DestinationUpdate", "Destination"]) {
      expect(Object.keys(doc.components.schemas[schema]!.properties!)).toEqual(expect.arrayContaining(["rate_limit", "max_in_flight", "ordered"]));
    }
    expect(doc.components.schemas.RateLimit).toBeDefined();
  });
});

describe("max_in_flight", () => {
  async function run(destination: Record<string, unknown>, events: number) {
    const name = uniqueName("gate");
    await setGate(name, { hold: true });
    const p = await pipeline(name, destination);
    return { name, ...p, eventIds: await ingestAll(p.source.id, bodies(events)) };
  }

  async function drain(name: string, eventIds: string[]) {
    await waitFor(async () => {
      await release(name);
      return (await deliveredCount(eventIds)) === eventIds.length;
    }, `${eventIds.length} deliveries`, 20_000);
  }

  it("never has more attempts open at the receiver than max_in_flight (set by PATCH)", async () => {
    const name = uniqueName("gate");
    await setGate(name, { hold: true });
    const p = await pipeline(name);
    expectStatus(await api.patch(`/v1/destinations/${p.destination.id}`, { max_in_flight: 3 }), 200);
    const eventIds = await ingestAll(p.source.id, bodies(8));

    // The scheduler has filled its 3 slots and holds the other 5: no fourth can start while these are open.
    await waitFor(async () => (await gateState(name)).open === 3, "3 open requests at the receiver");
    const stats = await schedulerStub(p.destination.id).stats();
    expect(stats).toEqual({ in_flight: 3, queued: 8 });
    expect((await gateState(name)).arrivals).toHaveLength(3);

    await drain(name, eventIds);
    const final = await gateState(name);
    expect(final.max_open).toBe(3);
    expect(final.arrivals.map((a) => a.body).sort()).toEqual(bodies(8).sort());
  });

  it("control: the default of 10 lets all 8 be open at once", async () => {
    const r = await run({}, 8);
    await waitFor(async () => (await gateState(r.name)).open === 8, "8 open requests");
    await drain(r.name, r.eventIds);
    expect((await gateState(r.name)).max_open).toBe(8);
  });
});

describe("rate_limit.per_second", () => {
  // Arrival times at a receiver carry a little network jitter; 900 ms windows leave room for it.
  const WINDOW = 900;

  it("starts at most per_second attempts in any window", async () => {
    const name = uniqueName("gate");
    await setGate(name, {});
    const p = await pipeline(name, { rate_limit: { per_second: 2 } });
    const eventIds = await ingestAll(p.source.id, bodies(6));
    await waitFor(async () => (await deliveredCount(eventIds)) === 6, "6 deliveries", 20_000);
    const arrivals = (await gateState(name)).arrivals;
    expect(arrivals).toHaveLength(6);
    expect(maxInWindow(arrivals.map((a) => a.at), WINDOW)).toBe(2);
  });

  it("control: without a limit the same events arrive in one burst", async () => {
    const name = uniqueName("gate");
    await setGate(name, {});
    const p = await pipeline(name);
    const eventIds = await ingestAll(p.source.id, bodies(6));
    await waitFor(async () => (await deliveredCount(eventIds)) === 6, "6 deliveries");
    expect(maxInWindow((await gateState(name)).arrivals.map((a) => a.at), WINDOW)).toBeGreaterThan(2);
  });
});

describe("ordered", () => {
  const retry = { strategy: "fixed", max_retries: 5, interval_seconds: 1 };
  const breaker = { failure_threshold: 100, cooldown_seconds: 1 };
  const n = (body: string) => (JSON.parse(body) as { n: number }).n;

  it("delivers in queue order, one at a time; a failing head blocks the rest until it succeeds", async () => {
    const name = uniqueName("gate");
    await setGate(name, { fail: { [JSON.stringify({ n: 1 })]: { times: 2, status: 503 } } });
    const p = await pipeline(name, { ordered: true, retry_policy: retry, circuit_breaker: breaker });
    const eventIds = await ingestAll(p.source.id, bodies(5));
    await waitFor(async () => (await deliveredCount(eventIds)) === 5, "5 deliveries", 20_000);
    const g = await gateState(name);
    expect(g.arrivals.map((a) => n(a.body))).toEqual([1, 1, 1, 2, 3, 4, 5]);
    expect(g.max_open).toBe(1);
  });

  it("a head that exhausts its retries is dead-lettered, then the rest follow in order", async () => {
    const name = uniqueName("gate");
    await setGate(name, { fail: { [JSON.stringify({ n: 1 })]: { times: 100, status: 503 } } });
    const p = await pipeline(name, { ordered: true, retry_policy: { ...retry, max_retries: 1 }, circuit_breaker: breaker });
    const eventIds = await ingestAll(p.source.id, bodies(3));
    await waitFor(async () => (await deliveredCount(eventIds)) === 2, "2 deliveries", 20_000);
    expect((await gateState(name)).arrivals.map((a) => n(a.body))).toEqual([1, 1, 2, 3]);
    const dead = (await api.get<Page<DeadLetter>>(`/v1/destinations/${p.destination.id}/dlq`)).body.data;
    expect(dead.map((d) => d.event_id)).toEqual([eventIds[0]]);
  });

  it("control: unordered, the deliveries behind a failing one overtake it", async () => {
    const name = uniqueName("gate");
    await setGate(name, { fail: { [JSON.stringify({ n: 1 })]: { times: 2, status: 503 } } });
    const p = await pipeline(name, { retry_policy: retry, circuit_breaker: breaker });
    const eventIds = await ingestAll(p.source.id, bodies(5));
    await waitFor(async () => (await deliveredCount(eventIds)) === 5, "5 deliveries", 20_000);
    const order = (await gateState(name)).arrivals.map((a) => n(a.body));
    expect(order.lastIndexOf(1)).toBeGreaterThan(order.indexOf(5));
  });
});
