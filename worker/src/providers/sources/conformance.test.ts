import { describe, expect, it } from "vitest";
import { NOW_SECONDS, TEMPLATE_FIXTURES, type TemplateFixture } from "./conformance.fixtures.js";
import { resolveVerification, type SourceVerification } from "./registry.js";
import { TEMPLATE_IDS } from "./templates.js";
import type { VerifyContext, VerifyRequest, VerifyResult } from "./types.js";

const ctx: VerifyContext = { now: () => NOW_SECONDS * 1000 };

function verifierFor(fixture: TemplateFixture, verification: Record<string, unknown>): SourceVerification {
  const resolved = resolveVerification({ template: fixture.template, verification });
  if (!resolved.ok) throw new Error(`${fixture.template}: ${resolved.error.message}`);
  if (!resolved.value) throw new Error(`${fixture.template}: no verifier`);
  return resolved.value;
}

function expectRefused(result: VerifyResult, reason: string, secrets: readonly string[]): void {
  expect(result).toMatchObject({ ok: false, reason });
  if (result.ok) return;
  expect(result.message.length).toBeGreaterThan(0);
  for (const secret of secrets) expect(result.message).not.toContain(secret);
}

function garbage(req: VerifyRequest, bodyIsSigned: boolean): VerifyRequest[] {
  const headers = Object.fromEntries(Object.keys(req.headers).map((name) => [name, "\u0000=,;v1=zz t= %%%"]));
  const empty = Object.fromEntries(Object.keys(req.headers).map((name) => [name, ""]));
  const body = new Uint8Array([0xff, 0xfe, 0x00, 0x7b]);
  return [
    { ...req, headers, body },
    { ...req, headers: empty, body: new Uint8Array() },
    { ...req, url: "not a url", headers, body },
    ...(bodyIsSigned ? [{ ...req, body }] : []),
  ];
}

describe("every template passes the source conformance suite", () => {
  it("has a fixture signer for every template", () => {
    expect(Object.keys(TEMPLATE_FIXTURES).sort()).toEqual([...TEMPLATE_IDS].sort());
  });

  describe.each(TEMPLATE_IDS.map((id) => [id, TEMPLATE_FIXTURES[id]] as const))("%s", (_id, fixture) => {
    const [current, previous] = fixture.secrets;

    it("accepts a request signed the provider's way, with its delivery id and event type", async () => {
      const verifier = verifierFor(fixture, { secret: current });
      expect(verifier.stored).toEqual({ template: fixture.template, verification: { secrets: [current] } });
      const result = await verifier.verify(await fixture.sign({ secret: current, timestamp: NOW_SECONDS }), ctx);
      expect(result).toEqual({ ok: true, ...fixture.expected });
    });

    it("refuses a request signed with another secret", async () => {
      const verifier = verifierFor(fixture, { secret: current });
      const result = await verifier.verify(await fixture.sign({ secret: previous, timestamp: NOW_SECONDS }), ctx);
      expectRefused(result, fixture.wrong_secret_reason, fixture.secrets);
    });

    it.skipIf(fixture.tamper === null)("refuses a tampered body", async () => {
      const verifier = verifierFor(fixture, { secret: current });
      const signed = await fixture.sign({ secret: current, timestamp: NOW_SECONDS });
      const result = await verifier.verify(fixture.tamper!(signed), ctx);
      expectRefused(result, "invalid_signature", fixture.secrets);
    });

    it("refuses a request without its signature", async () => {
      const verifier = verifierFor(fixture, { secret: current });
      const result = await verifier.verify(fixture.unsign(await fixture.sign({ secret: current, timestamp: NOW_SECONDS })), ctx);
      expectRefused(result, "missing_signature", fixture.secrets);
    });

    it.skipIf(fixture.tolerance_seconds === undefined)("refuses a stale or future timestamp, accepts one just inside", async () => {
      const tolerance = fixture.tolerance_seconds!;
      const verifier = verifierFor(fixture, { secret: current });
      for (const timestamp of [NOW_SECONDS - tolerance - 1, NOW_SECONDS + tolerance + 2, NOW_SECONDS - 3 * 86_400]) {
        const result = await verifier.verify(await fixture.sign({ secret: current, timestamp }), ctx);
        expectRefused(result, "stale_timestamp", fixture.secrets);
      }
      const inside = await verifier.verify(await fixture.sign({ secret: current, timestamp: NOW_SECONDS - tolerance + 1 }), ctx);
      expect(inside.ok).toBe(true);
    });

    it("accepts both the new and the old secret during a rotation, and neither after it", async () => {
      const rotating = verifierFor(fixture, { secrets: [current, previous] });
      for (const secret of [current, previous]) {
        const result = await rotating.verify(await fixture.sign({ secret, timestamp: NOW_SECONDS }), ctx);
        expect(result).toEqual({ ok: true, ...fixture.expected });
      }
      const rotated = verifierFor(fixture, { secrets: [current] });
      const old = await rotated.verify(await fixture.sign({ secret: previous, timestamp: NOW_SECONDS }), ctx);
      expectRefused(old, fixture.wrong_secret_reason, fixture.secrets);
    });

    it("turns garbage into a refusal, never an exception", async () => {
      const verifier = verifierFor(fixture, { secret: current });
      const signed = await fixture.sign({ secret: current, timestamp: NOW_SECONDS });
      for (const req of garbage(signed, fixture.tamper !== null)) {
        const result = await verifier.verify(req, ctx);
        expect(result.ok).toBe(false);
      }
      const bare = await verifier.verify({ method: "POST", url: signed.url, headers: {}, body: new Uint8Array() }, ctx);
      expect(bare.ok).toBe(false);
    });
  });
});
