import { z } from "zod";
import { anySecretEquals, headerNameSchema, headerValue, missingHeader, secretsSchema } from "./common.js";
import { fail, type SourceVerifier } from "./types.js";

/** A shared token sent as is in a header (GitLab's `X-Gitlab-Token`), or behind a prefix such as `Bearer `. */
export const headerTokenConfigSchema = z.strictObject({
  header: headerNameSchema,
  prefix: z.string().max(64).default(""),
  secrets: secretsSchema,
});
export type HeaderTokenConfig = z.infer<typeof headerTokenConfigSchema>;

export const headerTokenVerifier: SourceVerifier<HeaderTokenConfig> = {
  scheme: "header_token",
  configSchema: headerTokenConfigSchema,
  async verify(req, config) {
    const value = headerValue(req, config.header);
    if (value === undefined) return missingHeader(config.header);
    const trimmed = value.trim();
    if (!trimmed.toLowerCase().startsWith(config.prefix.toLowerCase())) {
      return fail("malformed", `${config.header} does not start with "${config.prefix}"`);
    }
    if (!(await anySecretEquals(trimmed.slice(config.prefix.length), config.secrets))) {
      return fail("unauthorized", `${config.header} does not match any configured token`);
    }
    return { ok: true };
  },
};
