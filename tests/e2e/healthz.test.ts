import { describe, expect, inject, it } from "vitest";
import type {} from "./setup/gateway.js";

const { baseUrl, tenantA } = inject("gateway");

describe("gateway smoke", () => {
  it("GET /healthz answers 200 { ok: true, config }", async () => {
    const res = await fetch(`${baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, config: { status: "none", hash: null } });
  });

  it("GET /v1/sources without an API key is 401 unauthorized", async () => {
    const res = await fetch(`${baseUrl}/v1/sources`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error?: { code?: string } };
    expect(body).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("accepts the API key seeded by the global setup", async () => {
    const res = await fetch(`${baseUrl}/v1/sources`, { headers: { authorization: `Bearer ${tenantA.api_key}` } });
    expect(res.status).toBe(200);
  });
});
