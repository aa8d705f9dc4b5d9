import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, maskSecret, sha256Hex, timingSafeEqual } from "./crypto.js";
import { toBase64 } from "./encoding.js";

const key = toBase64(new Uint8Array(32).fill(7));

describe("crypto", () => {
  it("sha256Hex matches the known vector", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("encrypts with a fresh IV each time and round-trips", async () => {
    const a = await encryptSecret(key, "whsec_secret");
    const b = await encryptSecret(key, "whsec_secret");
    expect(a).not.toBe(b);
    expect(a).not.toContain("whsec_secret");
    expect(await decryptSecret(key, a)).toBe("whsec_secret");
  });

  it("refuses a tampered ciphertext or the wrong key", async () => {
    const sealed = await encryptSecret(key, "s3cret");
    const [v, iv, ct] = sealed.split(".");
    const flipped = `${v}.${iv}.${ct!.slice(0, -4)}${ct!.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
    await expect(decryptSecret(key, flipped)).rejects.toThrow();
    await expect(decryptSecret(toBase64(new Uint8Array(32).fill(8)), sealed)).rejects.toThrow();
  });

  it("masks secrets to prefix and last four", () => {
    expect(maskSecret("whsec_abcdefghijkl")).toBe("whsec_…ijkl");
    expect(maskSecret("AKIAABCDEFGH")).toBe("…EFGH");
  });

  it("compares in constant time, including different lengths", () => {
    expect(timingSafeEqual("abc", "abc")).toBe(true);
    expect(timingSafeEqual("abc", "abd")).toBe(false);
    expect(timingSafeEqual("abc", "abcd")).toBe(false);
  });
});
