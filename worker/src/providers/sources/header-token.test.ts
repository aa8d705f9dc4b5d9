import { describe, expect, it } from "vitest";
import { headerTokenConfigSchema, headerTokenVerifier } from "./header-token.js";
import type { VerifyRequest } from "./types.js";

const ctx = { now: () => 0 };
const req = (headers: Record<string, string>): VerifyRequest => ({ method: "POST", url: "https://h.example/in", headers, body: new Uint8Array() });

describe("header token scheme", () => {
  it("compares the whole token in the configured header", async () => {
    const config = headerTokenConfigSchema.parse({ header: "X-Gitlab-Token", secrets: ["t0ken"] });
    expect(config.header).toBe("x-gitlab-token");
    expect(await headerTokenVerifier.verify(req({ "x-gitlab-token": "t0ken" }), config, ctx)).toEqual({ ok: true });
    for (const token of ["t0ke", "t0ken2", "T0KEN"]) {
      expect(await headerTokenVerifier.verify(req({ "x-gitlab-token": token }), config, ctx)).toEqual({
        ok: false,
        reason: "unauthorized",
        message: "x-gitlab-token does not match any configured token",
      });
    }
    expect(await headerTokenVerifier.verify(req({ authorization: "t0ken" }), config, ctx)).toMatchObject({ reason: "missing_signature" });
  });

  it("strips a prefix such as Bearer", async () => {
    const config = headerTokenConfigSchema.parse({ header: "authorization", prefix: "Bearer ", secrets: ["a", "b"] });
    expect(await headerTokenVerifier.verify(req({ authorization: "Bearer b" }), config, ctx)).toEqual({ ok: true });
    expect(await headerTokenVerifier.verify(req({ authorization: "bearer a" }), config, ctx)).toEqual({ ok: true });
    expect(await headerTokenVerifier.verify(req({ authorization: "Token a" }), config, ctx)).toMatchObject({ reason: "malformed" });
  });
});
