import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { listSourceTemplates, resolveVerification, type ResolveResult, type SourceVerification } from "./registry.js";
import { TEMPLATE_IDS } from "./templates.js";
import type { VerifyRequest } from "./types.js";

const ctx = { now: () => 1_750_000_000_000 };

function resolved(result: ResolveResult): SourceVerification {
  if (!result.ok) throw new Error(result.error.message);
  if (!result.value) throw new Error("no verification");
  return result.value;
}

function issues(result: ResolveResult): { path: string; message: string }[] {
  if (result.ok) throw new Error("expected an error");
  return result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

const githubRequest = (secret: string, body = '{"zen":"ok"}'): VerifyRequest => ({
  method: "POST",
  url: "https://hooks.example.com/in",
  headers: {
    "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    "x-github-delivery": "d-1",
    "x-github-event": "ping",
  },
  body: new TextEncoder().encode(body),
});

describe("listSourceTemplates", () => {
  it("lists every template with the secret as its one required field", () => {
    const templates = listSourceTemplates();
    expect(templates.map((t) => t.id)).toEqual([...TEMPLATE_IDS]);
    expect(templates.length).toBeGreaterThanOrEqual(20);
    for (const t of templates) {
      expect(t.id).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(t.required_fields.map((f) => f.name)).toEqual(["secret"]);
      expect(t.docs_url).toMatch(/^https:\/\//);
      expect(JSON.stringify(t.defaults)).not.toMatch(/secret/);
    }
    expect(templates.find((t) => t.id === "github")).toMatchObject({
      scheme: "hmac",
      defaults: { header: "x-hub-signature-256", prefix: "sha256=" },
      event_id_from: ["header x-github-delivery"],
      event_type_from: ["header x-github-event"],
    });
    expect(templates.find((t) => t.id === "stripe")?.event_id_from).toEqual(["body.id"]);
  });
});

describe("resolveVerification", () => {
  it("accepts a source without verification", () => {
    expect(resolveVerification({})).toEqual({ ok: true, value: null });
    expect(resolveVerification({ template: null, verification: null })).toEqual({ ok: true, value: null });
  });

  it("explains what is wrong, with paths relative to the source body", () => {
    expect(issues(resolveVerification({ template: "stripe" }))).toEqual([{ path: "verification.secret", message: "required by template stripe" }]);
    expect(issues(resolveVerification({ template: "strype", verification: { secret: "x" } }))[0]?.path).toBe("template");
    expect(issues(resolveVerification({ template: "github", verification: { secret: "a", secrets: ["b"] } }))[0]?.path).toBe("verification.secret");
    expect(issues(resolveVerification({ template: "github", verification: {} }))[0]?.path).toBe("verification.secret");
    expect(issues(resolveVerification({ template: "github", verification: { secret: "a", type: "basic_auth" } }))[0]?.path).toBe("verification.type");
    expect(issues(resolveVerification({ verification: { secret: "a" } }))[0]?.path).toBe("verification.type");
    for (const type of ["rot13", "toString", "__proto__"]) {
      expect(issues(resolveVerification({ verification: { type, secret: "a" } }))[0]?.path).toBe("verification.type");
    }
    expect(issues(resolveVerification({ verification: "secret" }))[0]?.path).toBe("verification");
    expect(issues(resolveVerification({ verification: { type: "hmac", secret: "a" } }))).toContainEqual(
      expect.objectContaining({ path: "verification.header" }),
    );
    expect(issues(resolveVerification({ template: "github", verification: { secret: "" } }))[0]?.path).toBe("verification.secrets.0");
    expect(issues(resolveVerification({ template: "svix", verification: { secret: "not-whsec" } }))[0]?.path).toBe("verification.secrets");
    expect(issues(resolveVerification({ template: "github", verification: { secret: "a", colour: "red" } }))[0]?.path).toBe("verification");
  });

  it("lets a template's settings be overridden", async () => {
    const lenient = resolved(resolveVerification({ template: "slack", verification: { secret: "s", tolerance_seconds: 0 } }));
    const body = "{}";
    const old = 1_000_000_000;
    const request: VerifyRequest = {
      method: "POST",
      url: "https://hooks.example.com/in",
      headers: {
        "x-slack-request-timestamp": String(old),
        "x-slack-signature": `v0=${createHmac("sha256", "s").update(`v0:${old}:${body}`).digest("hex")}`,
      },
      body: new TextEncoder().encode(body),
    };
    expect(await lenient.verify(request, ctx)).toEqual({ ok: true });
    const strict = resolved(resolveVerification({ template: "slack", verification: { secret: "s" } }));
    expect(await strict.verify(request, ctx)).toMatchObject({ reason: "stale_timestamp" });
  });

  it("builds a custom verifier from a type, hmac_sha256 style aliases included", async () => {
    const custom = resolved(
      resolveVerification({ verification: { type: "hmac_sha256", secret: "k", header: "X-Hub-Signature-256", prefix: "sha256=" } }),
    );
    expect(custom.scheme).toBe("hmac");
    expect(custom.stored).toEqual({
      verification: { type: "hmac", secrets: ["k"], header: "X-Hub-Signature-256", prefix: "sha256=", algorithm: "sha256" },
    });
    expect(await custom.verify(githubRequest("k"), ctx)).toEqual({ ok: true });
    expect(issues(resolveVerification({ verification: { type: "hmac_sha1", algorithm: "sha256", secret: "k", header: "x" } }))[0]?.path).toBe(
      "verification.algorithm",
    );
  });

  it("resolves what it stored to the same verifier", async () => {
    const first = resolved(resolveVerification({ template: "github", verification: { secrets: ["new", "old"] } }));
    const again = resolved(resolveVerification(first.stored));
    expect(again.stored).toEqual(first.stored);
    expect(await again.verify(githubRequest("old"), ctx)).toEqual({ ok: true, event_id: "d-1", event_type: "ping" });

    const custom = resolved(resolveVerification({ verification: { type: "header_token", header: "X-Token", secret: "t" } }));
    expect(resolved(resolveVerification(custom.stored)).stored).toEqual(custom.stored);
  });
});
