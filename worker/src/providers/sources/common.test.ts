import { describe, expect, it } from "vitest";
import { anySecretEquals, anySecretSigns, checkTolerance, decodeSignature, hmac, matchesAny } from "./common.js";

const bytes = (...values: number[]) => new Uint8Array(values);

describe("decodeSignature", () => {
  it("reads hex in either case and refuses anything else", () => {
    expect(decodeSignature("0aFf", "hex")).toEqual(bytes(0x0a, 0xff));
    expect(decodeSignature(" 0aff ", "hex")).toEqual(bytes(0x0a, 0xff));
    for (const bad of ["", "0", "0g", "0a f", "sha256=0a"]) expect(decodeSignature(bad, "hex")).toBeNull();
  });

  it("reads standard and URL-safe base64, padded or not", () => {
    expect(decodeSignature("+/8=", "base64")).toEqual(bytes(0xfb, 0xff));
    expect(decodeSignature("-_8", "base64")).toEqual(bytes(0xfb, 0xff));
    for (const bad of ["", "a", "ab$c", "ab=c", "abcde"]) expect(decodeSignature(bad, "base64")).toBeNull();
  });
});

describe("matchesAny", () => {
  it("needs equal bytes and equal length", () => {
    expect(matchesAny(bytes(1, 2), [bytes(9), bytes(1, 2)])).toBe(true);
    expect(matchesAny(bytes(1, 2), [bytes(1, 2, 0), bytes(1)])).toBe(false);
    expect(matchesAny(bytes(1, 2), [])).toBe(false);
  });
});

describe("hmac", () => {
  it("matches RFC 4231 test case 2 for SHA-256 and SHA-512", async () => {
    const data = new TextEncoder().encode("what do ya want for nothing?");
    expect(Buffer.from(await hmac("sha256", "Jefe", data)).toString("hex")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    expect(Buffer.from(await hmac("sha512", "Jefe", data)).toString("hex")).toBe(
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    );
  });

  it("tries every secret and never matches without a candidate", async () => {
    const message = new TextEncoder().encode("body");
    const mac = await hmac("sha1", "second", message);
    expect(await anySecretSigns("sha1", ["first", "second"], message, [mac])).toBe(true);
    expect(await anySecretSigns("sha1", ["first"], message, [mac])).toBe(false);
    expect(await anySecretSigns("sha1", ["second"], message, [])).toBe(false);
  });
});

describe("anySecretEquals", () => {
  it("compares whole tokens", async () => {
    expect(await anySecretEquals("tok-2", ["tok-1", "tok-2"])).toBe(true);
    expect(await anySecretEquals("tok-", ["tok-1"])).toBe(false);
    expect(await anySecretEquals("tok-10", ["tok-1"])).toBe(false);
  });
});

describe("checkTolerance", () => {
  const ctx = { now: () => 1_000_000 };
  it("allows the window in both directions and says which way it is off", () => {
    expect(checkTolerance(1000 - 300, 300, ctx)).toBeNull();
    expect(checkTolerance(1000 + 300, 300, ctx)).toBeNull();
    expect(checkTolerance(1000 - 301, 300, ctx)).toEqual({ ok: false, reason: "stale_timestamp", message: "timestamp is 301 s old; tolerance is 300 s" });
    expect(checkTolerance(1000 + 400, 300, ctx)?.message).toBe("timestamp is 400 s in the future; tolerance is 300 s");
    expect(checkTolerance(0, 0, ctx)).toBeNull();
  });
});
