// Issue 5 on the real runtime: for every provider template, a source created through the API
// accepts a webhook signed the way that provider signs (its own npm SDK where it publishes one:
// Stripe, GitHub's @octokit/webhooks-methods, Twilio, standardwebhooks, Svix; the documented
// algorithm in node:crypto elsewhere) and refuses the tampered, unsigned, wrong-secret, stale
// and replayed versions of it, storing nothing for any of them.
import { describe, expect, inject, it } from "vitest";
import type {} from "./setup/gateway.js";
import { Api, ingest, type List, type SourceView } from "./setup/api.js";
import { pollUntil } from "./setup/poll.js";
import { TEMPLATE_FIXTURES } from "../../worker/src/providers/sources/conformance.fixtures.js";
import type { VerifyRequest } from "../../worker/src/providers/sources/types.js";

const { baseUrl, tenantA, tenantB } = inject("gateway");
const api = new Api(baseUrl, tenantA.api_key);

interface Stats {
  accepted: number;
  rejected: Record<string, number>;
}
interface EventSummary {
  id: string;
  event_type: string | null;
}

function send(sourceId: string, req: VerifyRequest) {
  const query = new URL(req.url).search.slice(1);
  return ingest(baseUrl, sourceId, { method: req.method, headers: { ...req.headers }, body: req.body, ...(query ? { query } : {}) });
}

async function eventsOf(sourceId: string): Promise<EventSummary[]> {
  return (await api.expect<List<EventSummary>>(200, "GET", `/v1/events?source_id=${sourceId}&limit=100`)).data;
}

describe.each(Object.values(TEMPLATE_FIXTURES).map((f) => ({ ...f, name: f.template })))("template $name", (fixture) => {
  it("accepts the provider's signature once; refuses every forgery and the replay; stores one event", async () => {
    const source = await api.expect<SourceView>(201, "POST", "/v1/sources", {
      name: `tpl-${fixture.template}-${Date.now().toString(36)}`,
      template: fixture.template,
      verification: { secret: fixture.secrets[0] },
      dedup: { window_seconds: 300 },
    });
    const url = `${baseUrl}/v1/ingest/${source.id}`;
    const now = Math.floor(Date.now() / 1000);
    const signed = await fixture.sign({ secret: fixture.secrets[0], timestamp: now, url });

    const ok = await send(source.id, signed);
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    const eventId = (ok.body as { event_id: string }).event_id;

    const expectedRejections: Record<string, number> = {};
    const refuse = async (req: VerifyRequest, reason: string) => {
      const res = await send(source.id, req);
      expect([res.status, (res.body as { error?: { code: string } }).error?.code], `${reason}: ${JSON.stringify(res.body)}`).toEqual([401, "unauthorized"]);
      expect(JSON.stringify(res.body)).not.toContain(fixture.secrets[0]);
      expectedRejections[reason] = (expectedRejections[reason] ?? 0) + 1;
    };
    await refuse(await fixture.sign({ secret: fixture.secrets[1], timestamp: now, url }), fixture.wrong_secret_reason);
    if (fixture.tamper) await refuse(fixture.tamper(signed), "invalid_signature");
    const unsigned = fixture.unsign(signed);
    const unsignedRes = await send(source.id, unsigned);
    expect(unsignedRes.status).toBe(401);
    if (fixture.tolerance_seconds) {
      await refuse(await fixture.sign({ secret: fixture.secrets[0], timestamp: now - fixture.tolerance_seconds - 120, url }), "stale_timestamp");
    }

    // The provider retrying the same delivery: answered with the original event, nothing stored.
    const replay = await send(source.id, signed);
    expect([replay.status, replay.body]).toEqual([200, { event_id: eventId, duplicate: true }]);

    const events = await eventsOf(source.id);
    expect(events.map((e) => e.id)).toEqual([eventId]);
    expect(events[0]!.event_type).toBe(fixture.expected.event_type ?? null);

    // Another organization's key cannot see the source's counters.
    const foreign = await new Api(baseUrl, tenantB.api_key).request("GET", `/v1/sources/${source.id}/stats`);
    expect(foreign.status).toBe(404);

    const stats = await pollUntil(
      () => api.expect<Stats>(200, "GET", `/v1/sources/${source.id}/stats?window=1h`),
      (s) => s.rejected.duplicate === 1 && Object.entries(expectedRejections).every(([r, n]) => (s.rejected[r] ?? 0) >= n),
      { what: `${fixture.template} rejection counters`, timeoutMs: 10_000 },
    );
    expect(stats.accepted).toBe(1);
  });
});

describe("IP rules on the real runtime", () => {
  it("reads the client address from CF-Connecting-IP", async () => {
    const source = await api.expect<SourceView>(201, "POST", "/v1/sources", { name: `ip-${Date.now().toString(36)}`, ip_allowlist: ["198.51.100.0/24"] });
    const from = (ip: string) => ingest(baseUrl, source.id, { headers: { "cf-connecting-ip": ip, "content-type": "application/json" }, body: "{}" });
    expect((await from("198.51.100.20")).status).toBe(202);
    expect((await from("192.0.2.1")).status).toBe(403);
    expect((await eventsOf(source.id)).length).toBe(1);
  });
});
