import { z } from "zod";
import { decodeUtf8Strict, fromBase64 } from "../../lib/encoding.js";
import { anySecretEquals, headerValue, missingHeader, secretsSchema } from "./common.js";
import { fail, type SourceVerifier } from "./types.js";

/** HTTP Basic authentication: one username, its passwords in `secrets` (any of them, during a rotation). */
export const basicAuthConfigSchema = z.strictObject({
  username: z.string().min(1).max(256).refine((u) => !u.includes(":"), "must not contain ':'"),
  secrets: secretsSchema,
});
export type BasicAuthConfig = z.infer<typeof basicAuthConfigSchema>;

function decodeCredentials(header: string): string | null {
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!match?.[1]) return null;
  try {
    return decodeUtf8Strict(fromBase64(match[1]));
  } catch {
    return null;
  }
}

export const basicAuthVerifier: SourceVerifier<BasicAuthConfig> = {
  scheme: "basic_auth",
  configSchema: basicAuthConfigSchema,
  async verify(req, config) {
    const header = headerValue(req, "authorization");
    if (header === undefined) return missingHeader("authorization");
    const credentials = decodeCredentials(header);
    if (credentials === null || !credentials.includes(":")) {
      return fail("malformed", "authorization is not Basic <base64 of username:password>");
    }
    const expected = config.secrets.map((password) => `${config.username}:${password}`);
    if (!(await anySecretEquals(credentials, expected))) return fail("unauthorized", "username or password is wrong");
    return { ok: true };
  },
};
