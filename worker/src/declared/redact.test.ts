import { describe, expect, it } from "vitest";
import { redactSecrets } from "./redact.js";

describe("redactSecrets", () => {
  const secrets = { "sources/a/verification.secret": "whsec_abcdef", "sources/b/verification.secrets": ["one-secret", "whsec_abcdefXYZ"], "destinations/q/config.secret_access_key": "abc" };

  it("replaces every secret value, longest first, in JSON text or an object", () => {
    const lines = ['source "a": got whsec_abcdefXYZ and whsec_abcdef', 'source "b": one-secret'];
    const expected = ['source "a": got [secret] and [secret]', 'source "b": [secret]'];
    expect(redactSecrets(lines, secrets)).toEqual(expected);
    expect(redactSecrets(lines, JSON.stringify(secrets))).toEqual(expected);
  });

  it("leaves short values (they would blank out ordinary words) and unparsable bindings alone", () => {
    expect(redactSecrets(["abc is fine"], secrets)).toEqual(["abc is fine"]);
    expect(redactSecrets(["x whsec_abcdef"], "{not json")).toEqual(["x whsec_abcdef"]);
  });
});
