// Per-destination flow control on the real runtime: the rate limit waits on the scheduler's
// alarm and ordering on retries, both timers that vitest-pool-workers could hide. Assertions
// count requests at a real receiver; no timing thresholds beyond the limit's own window.
import { afterAll, describe, expect, inject, it } from "vitest";
import type {} from "./setup/gateway.js";
import { Api, ingestOk, type DestinationView, type SourceView } from "./setup/api.js";
import { closeAll, startReceiver, type Receiver } from "./setup/receiver.js";

const { baseUrl, tenantA } = inject("gateway");
const api = new Api(baseUrl, tenantA.api_key);
const receivers: Receiver[] = [];

afterAll(async () => {
  await closeAll(receivers);
});

async function pipeline(receiver: Receiver, extra: Record<string, unknown>) {
  const source = await api.expect<SourceView>(201, "POST", "/v1/sources", { name: `fc-${Date.now().toString(36)}` });
  const destination = await api.expect<DestinationView>(201, "POST", "/v1/destinations", {
    name: `fc-${Date.now().toString(36)}`,
    type: "http",
    config: { url: `${receiver.url}/hook` },
    ...extra,
  });
  await api.connect(source.id, destination.id);
  return source;
}

/** The most arrivals inside any window of `ms` milliseconds. */
function maxInWindow(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= ms) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

const orderOf = (r: { body: Buffer }) => (JSON.parse(r.body.toString("utf8")) as { n: number }).n;

describe("flow control on wrangler dev", () => {
  it("rate_limit.per_second: 6 events to a 2/s destination never arrive more than 2 in a (jitter-trimmed) second", async () => {
    const receiver = await startReceiver({ reply: { status: 200, body: "ok" } });
    receivers.push(receiver);
    const source = await pipeline(receiver, { rate_limit: { per_second: 2 } });
    for (let n = 1; n <= 6; n++) await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body: JSON.stringify({ n }) });
    const arrived = await receiver.waitForRequests(6, { timeoutMs: 30_000, what: "6 rate-limited deliveries" });
    expect(maxInWindow(arrived.map((r) => r.at), 900)).toBe(2);
  });

  it("ordered: a failing head blocks the rest; arrivals are in ingest order", async () => {
    let failures = 0;
    const receiver = await startReceiver({
      reply: (req) => (orderOf(req) === 1 && failures++ < 2 ? { status: 503, body: "not yet" } : { status: 200, body: "ok" }),
    });
    receivers.push(receiver);
    const source = await pipeline(receiver, {
      ordered: true,
      retry_policy: { strategy: "fixed", max_retries: 5, interval_seconds: 1 },
      circuit_breaker: { failure_threshold: 100, cooldown_seconds: 1 },
    });
    for (let n = 1; n <= 4; n++) await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body: JSON.stringify({ n }) });
    const arrived = await receiver.waitForRequests(6, { timeoutMs: 30_000, what: "4 ordered deliveries after 2 failures of the first" });
    expect(arrived.map(orderOf)).toEqual([1, 1, 1, 2, 3, 4]);
  });
});
