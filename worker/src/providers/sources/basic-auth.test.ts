import { describe, expect, it } from "vitest";
import { basicAuthConfigSchema, basicAuthVerifier } from "./basic-auth.js";
import type { VerifyRequest } from "./types.js";

const ctx = { now: () => 0 };
const config = basicAuthConfigSchema.parse({ username: "hooks", secrets: ["n3w:pass", "old-pass"] });
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;
const req = (authorization?: string): VerifyRequest => ({
  method: "POST",
  url: "https://hooks.example.com/in",
  headers: authorization === undefined ? {} : { authorization },
  body: new Uint8Array(),
});

describe("basic auth scheme", () => {
  it("accepts the username with any configured password, a colon in the password included", async () => {
    expect(await basicAuthVerifier.verify(req(basic("hooks:n3w:pass")), config, ctx)).toEqual({ ok: true });
    expect(await basicAuthVerifier.verify(req(basic("hooks:old-pass")), config, ctx)).toEqual({ ok: true });
    expect(await basicAuthVerifier.verify(req(`basic   ${Buffer.from("hooks:old-pass").toString("base64")}`), config, ctx)).toEqual({ ok: true });
  });

  it("refuses a wrong username or password without saying which", async () => {
    for (const credentials of ["hooks:nope", "other:old-pass", "hooks:", "hooks:old-pass "]) {
      expect(await basicAuthVerifier.verify(req(basic(credentials)), config, ctx)).toEqual({
        ok: false,
        reason: "unauthorized",
        message: "username or password is wrong",
      });
    }
  });

  it("tells a missing header from a malformed one", async () => {
    expect(await basicAuthVerifier.verify(req(), config, ctx)).toMatchObject({ reason: "missing_signature" });
    for (const value of ["Bearer abc", "Basic !!!", basic("no-colon"), "Basic //79"]) {
      expect(await basicAuthVerifier.verify(req(value), config, ctx)).toMatchObject({ reason: "malformed" });
    }
  });

  it("refuses a username that cannot be sent", () => {
    expect(basicAuthConfigSchema.safeParse({ username: "a:b", secrets: ["p"] }).success).toBe(false);
  });
});
