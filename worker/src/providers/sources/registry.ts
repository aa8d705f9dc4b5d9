/**
 * Source verification: the one registry of schemes and provider templates.
 *
 * Integration contract (ingest, API and config sync build on these calls):
 *
 * - Create / update (`POST|PATCH /v1/sources`, config sync): pass the source's `template` and
 *   `verification` to `resolveVerification`. On `{ ok: false, error }` answer 400 with
 *   `validationError(error)` (paths are relative to the source body: `verification.secret`).
 *   On success persist `value.stored`: it holds the template id and the user's own fields only,
 *   so template fixes reach existing sources. Its only secret field is
 *   `stored.verification.secrets` (string[]): encrypt it into `sources.secrets` and never
 *   return it; the rest can live in `sources.config`. `value === null` means the source has
 *   no verification (anything is accepted).
 * - Load (isolate source cache): call `resolveVerification(stored)` again and keep the result
 *   next to the routing. It parses once; `verify` then only does the signature math.
 *   A stored config that no longer resolves is a bug: refuse the request with a 500, never
 *   skip verification.
 * - Ingest: `await verifier.verify({ method, url, headers, body }, { now: Date.now })` with the
 *   raw body bytes and lower-cased headers, before anything is stored. `ok: false` → 401 with
 *   `{ error: { code: "unauthorized", message } }`, count it under `reason`, store nothing.
 *   `ok: true` → `event_id` (the provider's delivery id) feeds `dedupKey` (dedup-key.ts) and
 *   `event_type` the event's metadata. Slack's `url_verification` and Zoom's
 *   `endpoint.url_validation` arrive signed and pass; answering their challenge is the
 *   custom-response feature's job, not verification's.
 * - `GET /v1/source-templates`: `listSourceTemplates()`.
 * - Beside verification, same folder: `ipRuleListSchema` / `compileIpRules` (ip-rules.ts) for
 *   `ip_allowlist` / `ip_denylist` against `CF-Connecting-IP` (→ 403), and `dedupConfigSchema` /
 *   `dedupKey` (dedup-key.ts) for `dedup: { window_seconds, key }`.
 *
 * Adding a provider: one entry in templates.ts when an existing scheme fits, otherwise one
 * scheme file implementing `SourceVerifier` plus its line in `SCHEMES`; then a fixture signer
 * in conformance.fixtures.ts, and conformance.test.ts runs it through the shared cases.
 */
import { z } from "zod";
import { basicAuthVerifier } from "./basic-auth.js";
import { headerTokenVerifier } from "./header-token.js";
import { hmacVerifier } from "./hmac.js";
import { mailgunVerifier } from "./mailgun.js";
import { describeField, firstField, viewOf } from "./request-fields.js";
import { standardWebhooksVerifier } from "./standard-webhooks.js";
import { SOURCE_TEMPLATES, TEMPLATE_IDS, type SourceTemplate, type TemplateField, type TemplateId } from "./templates.js";
import { timestampedHmacVerifier } from "./timestamped-hmac.js";
import { twilioVerifier } from "./twilio.js";
import { SCHEME_IDS, type SchemeId, type SourceVerifier, type VerifyContext, type VerifyRequest, type VerifyResult } from "./types.js";

type Verify = (req: VerifyRequest, ctx: VerifyContext) => Promise<VerifyResult>;
type Compiled = { ok: true; verify: Verify } | { ok: false; error: z.ZodError };

/** A scheme with its config type erased, so all of them fit one table. */
export interface RegisteredScheme {
  scheme: SchemeId;
  /** Parses the config once; the returned `verify` does no further parsing. */
  compile(config: unknown): Compiled;
}

function register<C>(verifier: SourceVerifier<C>): RegisteredScheme {
  return {
    scheme: verifier.scheme,
    compile(config) {
      const parsed = verifier.configSchema.safeParse(config);
      if (!parsed.success) return { ok: false, error: parsed.error };
      const typed = parsed.data;
      return { ok: true, verify: (req, ctx) => verifier.verify(req, typed, ctx) };
    },
  };
}

export const SCHEMES: Readonly<Record<SchemeId, RegisteredScheme>> = {
  hmac: register(hmacVerifier),
  timestamped_hmac: register(timestampedHmacVerifier),
  standard_webhooks: register(standardWebhooksVerifier),
  basic_auth: register(basicAuthVerifier),
  header_token: register(headerTokenVerifier),
  twilio: register(twilioVerifier),
  mailgun: register(mailgunVerifier),
};

/** `verification.type` spellings that pick a scheme and one of its settings (design.md's `hmac_sha256`). */
const TYPE_ALIASES: Readonly<Record<string, { type: SchemeId; algorithm: string }>> = {
  hmac_sha1: { type: "hmac", algorithm: "sha1" },
  hmac_sha256: { type: "hmac", algorithm: "sha256" },
  hmac_sha512: { type: "hmac", algorithm: "sha512" },
};

export const VERIFICATION_TYPES = [...SCHEME_IDS, ...Object.keys(TYPE_ALIASES)] as const;

export interface VerificationInput {
  template?: string | null | undefined;
  verification?: unknown;
}

/** What to persist: the template id and the user's own fields, secrets normalised to `secrets`. */
export interface StoredVerification {
  template?: TemplateId;
  verification: Record<string, unknown>;
}

export interface SourceVerification {
  template: TemplateId | null;
  scheme: SchemeId;
  stored: StoredVerification;
  verify: Verify;
}

export type ResolveResult = { ok: true; value: SourceVerification | null } | { ok: false; error: z.ZodError };

function invalid(path: (string | number)[], message: string): ResolveResult {
  return { ok: false, error: new z.ZodError([{ code: "custom", path, message, input: undefined }]) };
}

function prefixed(error: z.ZodError): ResolveResult {
  return { ok: false, error: new z.ZodError(error.issues.map((i) => ({ ...i, path: ["verification", ...i.path] }))) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTemplateId(value: string): value is TemplateId {
  return (TEMPLATE_IDS as readonly string[]).includes(value);
}

function isSchemeId(value: string): value is SchemeId {
  return (SCHEME_IDS as readonly string[]).includes(value);
}

/** Validates a source's `template` + `verification` and compiles its verifier (see the header). */
export function resolveVerification(input: VerificationInput): ResolveResult {
  const { verification } = input;
  let templateId: TemplateId | null = null;
  if (input.template !== undefined && input.template !== null) {
    if (!isTemplateId(input.template)) return invalid(["template"], `unknown template; one of ${TEMPLATE_IDS.join(", ")}`);
    templateId = input.template;
  }
  const template = templateId === null ? null : SOURCE_TEMPLATES[templateId];
  if (verification === undefined || verification === null) {
    return template ? invalid(["verification", "secret"], `required by template ${templateId}`) : { ok: true, value: null };
  }
  if (!isRecord(verification)) return invalid(["verification"], "must be an object");

  const { type, secret, secrets, ...fields } = verification;
  if (secret !== undefined && secrets !== undefined) return invalid(["verification", "secret"], "give secret or secrets, not both");
  if (secret === undefined && secrets === undefined) return invalid(["verification", "secret"], "required");
  fields.secrets = secret !== undefined ? [secret] : secrets;

  let scheme: SchemeId;
  if (template) {
    if (type !== undefined && type !== template.scheme) {
      return invalid(["verification", "type"], `template ${templateId} verifies with ${template.scheme}; leave type out`);
    }
    scheme = template.scheme;
  } else {
    if (typeof type !== "string") return invalid(["verification", "type"], `required without a template; one of ${VERIFICATION_TYPES.join(", ")}`);
    const alias = Object.hasOwn(TYPE_ALIASES, type) ? TYPE_ALIASES[type] : undefined;
    if (alias) {
      if (fields.algorithm !== undefined && fields.algorithm !== alias.algorithm) {
        return invalid(["verification", "algorithm"], `conflicts with type ${type}`);
      }
      fields.algorithm = alias.algorithm;
      scheme = alias.type;
    } else if (isSchemeId(type)) {
      scheme = type;
    } else {
      return invalid(["verification", "type"], `unknown type; one of ${VERIFICATION_TYPES.join(", ")}`);
    }
  }

  const compiled = SCHEMES[scheme].compile(template ? { ...template.defaults, ...fields } : fields);
  if (!compiled.ok) return prefixed(compiled.error);

  const stored: StoredVerification =
    templateId === null ? { verification: { type: scheme, ...fields } } : { template: templateId, verification: fields };
  return { ok: true, value: { template: templateId, scheme, stored, verify: withEventFields(compiled.verify, template) } };
}

function withEventFields(verify: Verify, template: SourceTemplate | null): Verify {
  if (!template) return verify;
  return async (req, ctx) => {
    const result = await verify(req, ctx);
    if (!result.ok) return result;
    const view = viewOf(req);
    const event_id = firstField(view, template.event_id) ?? result.event_id;
    const event_type = firstField(view, template.event_type) ?? result.event_type;
    return { ok: true, ...(event_id === undefined ? {} : { event_id }), ...(event_type === undefined ? {} : { event_type }) };
  };
}

export interface SourceTemplateView {
  id: TemplateId;
  name: string;
  scheme: SchemeId;
  /** Always just the secret: `verification: { secret }` (or `secrets: [...]` while rotating). */
  required_fields: TemplateField[];
  optional_fields: TemplateField[];
  /** The scheme settings the template fills in (headers, encoding, tolerance); no secrets. */
  defaults: Record<string, unknown>;
  /** Where the delivery id (the default dedup key) and the event type are read, in order. */
  event_id_from: string[];
  event_type_from: string[];
  docs_url: string;
}

export function listSourceTemplates(): SourceTemplateView[] {
  return TEMPLATE_IDS.map((id) => {
    const t = SOURCE_TEMPLATES[id];
    return {
      id,
      name: t.name,
      scheme: t.scheme,
      required_fields: [{ name: "secret", description: t.secret }],
      optional_fields: [...t.optional_fields],
      defaults: { ...t.defaults },
      event_id_from: t.event_id.map(describeField),
      event_type_from: t.event_type.map(describeField),
      docs_url: t.docs_url,
    };
  });
}
