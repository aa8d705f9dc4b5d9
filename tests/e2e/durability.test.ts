// "No accepted event is lost" (design.md), proven by killing the runtime. This file runs its
// OWN wrangler dev (own state dir and port), because it SIGKILLs it and starts it again.
//
// Findings (wrangler 4.86 / workerd, local mode):
// - Durable Object alarms survive a SIGKILL of the whole wrangler process group: after the
//   restart, the scheduler's 30 s lease alarm (set in enqueue() before the 202) fires at its
//   original time and re-runs the attempts that were in flight (≈30 s after ingest, ≈27 s after
//   the new wrangler was healthy); the retry alarms of deliveries in `retrying` fire as soon as
//   the runtime is back. No cron sweep was fired, and it could not have done it anyway: it only
//   takes deliveries pending for over 60 s with 0 attempts. The sweep fallback below is for
//   runtimes where alarms do not survive; the test logs which mechanism recovered the events.
// - The sweep covers the other crash window (event and deliveries written to D1, isolate dead
//   before the scheduler hand-off): case (b) writes exactly that state into D1 and fires the cron.
// - `wrangler d1 execute --local` works while wrangler dev runs on the same state dir.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import {
  d1Query,
  freePort,
  prepareState,
  seedTenant,
  sqlString as q,
  startGateway,
  triggerScheduled,
  type Gateway,
  type Tenant,
} from "../../scripts/lib/gateway.mjs";
import { Api, ingestOk, verifyWithStandardWebhooks, wire, type EventView } from "./setup/api.js";
import { pollUntil, sleep } from "./setup/poll.js";
import { closeAll, startReceiver, type Receiver } from "./setup/receiver.js";

/** The scheduler's lease (scheduler.ts LEASE_MS) and the sweep's threshold (sweep.ts STRANDED_AFTER_MS). */
const LEASE_MS = 30_000;
const STRANDED_AFTER_MS = 60_000;

let tmp: string | undefined;
let stateDir: string;
let port: number;
let gateway: Gateway | undefined;
let tenant: Tenant;
let api: Api;
let keep = !!process.env.HOOKSTREAM_E2E_KEEP;
const receivers: Receiver[] = [];
let restarts = 0;

async function start(): Promise<Gateway> {
  const log = path.join(path.dirname(stateDir), `wrangler-${++restarts}.log`);
  gateway = await startGateway({ port, stateDir, log });
  api = new Api(gateway.baseUrl, tenant.api_key);
  return gateway;
}

function keepStateOnFailure() {
  onTestFailed(() => {
    keep = true;
  });
}

const secondsSince = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "hookstream-e2e-durability-"));
  stateDir = path.join(tmp, "state");
  port = await freePort();
  await prepareState(stateDir);
  tenant = await seedTenant(stateDir, { orgName: "Durability", envName: "test", keyName: "e2e-durability" });
  await start();
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
  await closeAll(receivers);
  if (!tmp) return;
  if (keep) console.log(`[e2e durability] kept ${tmp} (wrangler logs, state)`);
  else await fs.rm(tmp, { recursive: true, force: true });
});

describe("durability: no accepted event is lost", () => {
  it("(a) SIGKILL of wrangler with attempts in flight and retries pending: all events are delivered after a restart", async () => {
    keepStateOnFailure();
    const N = 5;
    // One receiver hangs (the attempts are in flight when the runtime dies); the other is not
    // listening at all (its deliveries wait in `retrying` for a retry alarm).
    const hang = await startReceiver({ reply: "hang" });
    const down = await startReceiver({ reply: { status: 200, body: "ok" }, listen: false });
    receivers.push(hang, down);
    const { source, destinations } = await wire(api, [
      { name: "hangs", url: `${hang.url}/hang`, timeout_ms: 60_000 },
      {
        name: "down",
        url: `${down.url}/down`,
        retry_policy: { strategy: "fixed", max_retries: 10, interval_seconds: 3 },
        circuit_breaker: { failure_threshold: 100, cooldown_seconds: 1 },
      },
    ]);
    const [dHang, dDown] = destinations;

    const bodies = Array.from({ length: N }, (_, i) => JSON.stringify({ type: "durable", i, nonce: randomBytes(6).toString("hex") }));
    const eventIds: string[] = [];
    for (const body of bodies) eventIds.push(await ingestOk(gateway!.baseUrl, source.id, { headers: { "content-type": "application/json" }, body }));
    const ingestedAt = Date.now();

    // Within milliseconds: every attempt to `hangs` is in flight, every delivery to `down` failed once.
    await hang.waitForRequests(N, { what: `${N} hung requests`, timeoutMs: 10_000 });
    const before = await pollUntil(
      () => Promise.all(eventIds.map((id) => api.event(id))),
      (evs) => evs.every((e) => e.deliveries.find((d) => d.destination_id === dDown!.id)?.status === "retrying"),
      { what: "the deliveries to the unreachable receiver to be retrying", timeoutMs: 10_000 },
    );
    const deliveryIds = (dst: string) => before.map((e) => e.deliveries.find((d) => d.destination_id === dst)!.id);
    const hangIds = deliveryIds(dHang!.id);
    const downIds = deliveryIds(dDown!.id);

    await gateway!.stop("SIGKILL");
    const killedAt = Date.now();
    const killedAfter = killedAt - ingestedAt;

    hang.respondWith({ status: 200, body: "ok" });
    await down.listen();
    const restartBeganAt = Date.now();
    await start();
    const restartedAt = Date.now();

    // Recovery without any help first: the Durable Object alarm.
    let mechanism = "DO alarm (lease + retry alarms survived the restart)";
    const allDelivered = (evs: EventView[]) => evs.every((e) => e.status === "delivered");
    const statuses = () => Promise.all(eventIds.map((id) => api.event(id)));
    let final: EventView[];
    try {
      final = await pollUntil(statuses, allDelivered, {
        what: "all events to be delivered by the scheduler's alarms",
        timeoutMs: Math.max(5_000, ingestedAt + LEASE_MS + 15_000 - Date.now()),
        intervalMs: 250,
      });
    } catch (err) {
      // Alarms did not bring them back: the cron sweep must (it takes deliveries pending > 60 s).
      mechanism = `cron sweep (alarms did not recover them: ${String(err).slice(0, 200)})`;
      const wait = ingestedAt + STRANDED_AFTER_MS + 1_000 - Date.now();
      if (wait > 0) await sleep(wait);
      await triggerScheduled(gateway!.baseUrl);
      final = await pollUntil(statuses, allDelivered, { what: "all events to be delivered after the sweep", timeoutMs: 20_000, intervalMs: 250 });
    }
    const deliveredAt = Date.now();
    const lastArrival = (r: Receiver) => Math.max(...r.requests.filter((x) => x.at > killedAt).map((x) => x.at));

    const report =
      `recovered by: ${mechanism}; killed ${killedAfter} ms after the last 202; restart took ${gateway!.startupMs} ms; ` +
      `all ${N} events delivered ${((deliveredAt - restartedAt) / 1000).toFixed(1)} s after the restart ` +
      `(${((deliveredAt - ingestedAt) / 1000).toFixed(1)} s after ingest, ${secondsSince(killedAt)} after the kill); ` +
      `counted from the restart command: in-flight attempts (hung receiver) redelivered after ${((lastArrival(hang) - restartBeganAt) / 1000).toFixed(1)} s, ` +
      `retrying ones (receiver that was down) after ${((lastArrival(down) - restartBeganAt) / 1000).toFixed(1)} s`;
    console.log(`[e2e durability] (a) ${report}`);

    for (const [i, e] of final.entries()) {
      expect(e.deliveries.map((d) => d.status)).toEqual(["delivered", "delivered"]);
      // The receiver that hung saw the attempt cut by the crash, then the redelivery: same webhook-id, same body.
      const atHang = hang.byWebhookId(hangIds[i]!);
      expect(atHang.length).toBeGreaterThanOrEqual(2);
      for (const r of atHang) expect(r.body.toString()).toBe(bodies[i]);
      expect(() => verifyWithStandardWebhooks(dHang!.config.signing_secret!, atHang.at(-1)!.headers, atHang.at(-1)!.body)).not.toThrow();
      const atDown = down.byWebhookId(downIds[i]!);
      expect(atDown.length).toBeGreaterThanOrEqual(1);
      for (const r of atDown) expect(r.body.toString()).toBe(bodies[i]);
    }
    // Nothing but these deliveries reached the receivers (every request carries one of their ids).
    expect(new Set(hang.requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set(hangIds));
    expect(new Set(down.requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set(downIds));
    // The attempt cut by the crash left no record; the one after the restart succeeded.
    const hangAttempts = await api.attemptsOfDestination(dHang!.id);
    expect(hangAttempts.filter((a) => a.status === "success").map((a) => a.delivery_id).sort()).toEqual([...hangIds].sort());
  }, 150_000);

  it("(b) crash between the D1 write and the scheduler hand-off: the cron sweep delivers the stranded delivery", async () => {
    keepStateOnFailure();
    const rcv = await startReceiver({ reply: { status: 200, body: "ok" } });
    receivers.push(rcv);
    const { source, destinations } = await wire(api, [{ url: `${rcv.url}/stranded` }]);
    const dst = destinations[0]!;
    const [connection] = (await api.expect<{ data: { id: string; destination_id: string }[] }>(200, "GET", `/v1/connections?source_id=${source.id}`)).data;
    expect(connection?.destination_id).toBe(dst.id);

    // What ingest leaves behind when the isolate dies right after persistEvent(): the event and
    // a `pending` delivery with 0 attempts, never handed to a scheduler. One is 2 minutes old;
    // the other is fresh (its isolate might still be handing it over) and must be left alone.
    const now = Date.now();
    const id = (prefix: string, at: number) => `${prefix}_${at.toString(16).padStart(12, "0")}${randomBytes(10).toString("hex")}`;
    const insert = (at: number, body: string) => {
      const eventId = id("evt", at);
      const deliveryId = id("dlv", at);
      const headers = JSON.stringify({ "content-type": "application/json", "x-provider-event": "stranded.created", "user-agent": "provider/1.0" });
      const sql = [
        `INSERT INTO events (id, org_id, env_id, source_id, method, headers, query, body, body_encoding, body_r2_key, body_size,
           content_type, source_ip, user_agent, status, received_at, updated_at)
         VALUES (${[eventId, tenant.org_id, tenant.env_id, source.id, "POST", headers, "{}", body, "utf8"].map(q).join(", ")}, NULL,
           ${Buffer.byteLength(body)}, 'application/json', '127.0.0.1', 'provider/1.0', 'processing', ${at}, ${at})`,
        `INSERT INTO deliveries (id, org_id, env_id, event_id, connection_id, destination_id, status, attempts, created_at, updated_at)
         VALUES (${[deliveryId, tenant.org_id, tenant.env_id, eventId, connection!.id, dst.id].map(q).join(", ")}, 'pending', 0, ${at}, ${at})`,
      ].join(";\n");
      return { eventId, deliveryId, body, sql };
    };
    const stranded = insert(now - 120_000, JSON.stringify({ type: "stranded", nonce: randomBytes(6).toString("hex") }));
    const fresh = insert(now, JSON.stringify({ type: "fresh", nonce: randomBytes(6).toString("hex") }));
    // Written by `wrangler d1 execute` while the gateway runs on the same state dir.
    await d1Query(stateDir, `${stranded.sql};\n${fresh.sql}`);

    const seen = await api.event(stranded.eventId);
    expect(seen).toMatchObject({ status: "processing", body: stranded.body });
    expect(seen.deliveries).toMatchObject([{ id: stranded.deliveryId, status: "pending", attempts: 0 }]);
    expect(rcv.requests).toHaveLength(0);

    const firedAt = Date.now();
    await triggerScheduled(gateway!.baseUrl);
    const [req] = await rcv.waitForRequests(1, { what: "the stranded delivery at the receiver", timeoutMs: 15_000 });
    const event = await api.waitForEventStatus(stranded.eventId, "delivered", 15_000);
    console.log(`[e2e durability] (b) cron sweep → delivered in ${Date.now() - firedAt} ms (receiver got it after ${req!.at - firedAt} ms)`);

    expect(req!.headers["webhook-id"]).toBe(stranded.deliveryId);
    expect(req!.headers["x-provider-event"]).toBe("stranded.created");
    expect(req!.body.toString()).toBe(stranded.body);
    expect(() => verifyWithStandardWebhooks(dst.config.signing_secret!, req!.headers, req!.body)).not.toThrow();
    expect(event.deliveries).toMatchObject([{ id: stranded.deliveryId, status: "delivered", attempts: 1 }]);
    expect(await api.attempts(stranded.eventId)).toMatchObject([{ delivery_id: stranded.deliveryId, attempt_number: 1, status: "success", status_code: 200 }]);

    // The fresh one was not handed over: still pending in D1, nothing queued, never sent.
    expect((await api.event(fresh.eventId)).deliveries).toMatchObject([{ id: fresh.deliveryId, status: "pending", attempts: 0 }]);
    expect((await api.circuit(dst.id)).queue_depth).toBe(0);
    expect(rcv.byWebhookId(fresh.deliveryId)).toHaveLength(0);
    expect(rcv.requests).toHaveLength(1);
  }, 60_000);

  // A redrive (or manual retry) reopens the delivery in D1 and then hands it over; if the
  // isolate dies in between, the delivery is pending in D1 while its scheduler lists it as
  // done. The sweep must take it anyway ("reopen"), so it is delivered or dead-lettered again.
  it("(c) a redrive cut short between its D1 write and the hand-off is still delivered", async () => {
    const rcv = await startReceiver({ reply: { status: 400, body: "rejected" } });
    receivers.push(rcv);
    const { source, destinations } = await wire(api, [{ url: `${rcv.url}/redrive` }]);
    const dst = destinations[0]!;
    const body = JSON.stringify({ type: "redrive.me", nonce: randomBytes(6).toString("hex") });
    const eventId = await ingestOk(gateway!.baseUrl, source.id, { headers: { "content-type": "application/json" }, body });
    const [dead] = await pollUntil(() => api.dlq(dst.id), (l) => l.length === 1, { what: "the delivery in the DLQ" });
    await api.waitForEventStatus(eventId, "failed");

    // The receiver is fixed; the redrive is cut after its two D1 writes (2 minutes ago).
    rcv.respondWith({ status: 200, body: "ok" });
    const at = Date.now() - 120_000;
    await d1Query(
      stateDir,
      `UPDATE deliveries SET status = 'pending', next_attempt_at = NULL, updated_at = ${at} WHERE id = ${q(dead!.delivery_id)};
       UPDATE events SET status = 'processing', updated_at = ${at} WHERE id = ${q(eventId)};
       UPDATE dead_letters SET redriven_at = ${at} WHERE id = ${q(dead!.id)}`,
    );
    expect(await api.dlq(dst.id)).toEqual([]);

    await triggerScheduled(gateway!.baseUrl);
    // Contract: delivered at least once, or back in the DLQ.
    await pollUntil(
      async () => ({ delivered: (await api.event(eventId)).status === "delivered", dlq: (await api.dlq(dst.id)).length }),
      (s) => s.delivered || s.dlq > 0,
      { what: "the redriven delivery to be delivered or dead-lettered again", timeoutMs: 10_000, intervalMs: 250 },
    );
  }, 60_000);
});
