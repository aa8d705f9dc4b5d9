/**
 * The GatewayConfig contract: what the declared routing in infra/ compiles to, and what the
 * Worker receives as its GATEWAY_CONFIG binding (with the secret values split out into
 * GATEWAY_SECRETS, see secrets.ts). Shared by infra, the config tooling and the Worker; no I/O.
 *
 * A declaration is the same body the REST API accepts on create, plus a declared `name`
 * (unique per kind, stable: ids are derived from it) and `declared_in` ("infra/index.ts:42"),
 * which error messages and the API's 409 point at. Connections name their source and
 * destination instead of giving ids.
 */
import { z } from "zod";
import { ConnectionCreateSchema, DestinationCreateSchema, SourceCreateSchema } from "../api/schemas.js";

export const GATEWAY_CONFIG_VERSION = 1;

/** Declared names become part of ids and secret keys: letters, digits, `-` and `_`. */
export const DECLARED_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const declaredName = z
  .string()
  .regex(DECLARED_NAME_PATTERN, "must be 1–64 letters, digits, - or _ (starting with a letter or digit)");

/** Where the declaration was written, as `path:line` relative to the repository root. */
const declaredIn = z.string().max(512).optional();

export const DeclaredSourceSchema = SourceCreateSchema.extend({ name: declaredName, declared_in: declaredIn });
export const DeclaredDestinationSchema = DestinationCreateSchema.extend({ name: declaredName, declared_in: declaredIn });
export const DeclaredConnectionSchema = ConnectionCreateSchema.omit({ source_id: true, destination_id: true }).extend({
  name: declaredName,
  /** The declared name of a source in this config. */
  source: declaredName,
  /** The declared name of a destination in this config. */
  destination: declaredName,
  declared_in: declaredIn,
});

export const DeclaredProjectSchema = z.strictObject({
  /** The organization's name; its id is derived from it. */
  organization: z.string().trim().min(1).max(128),
  /** The project (environment) the declared resources live in; its id is derived from it. */
  name: z.string().trim().min(1).max(128),
  /** People who become owners of the organization when they sign up (or at once, if they have). */
  owners: z.array(z.email()).max(50).default([]),
});

export const GatewayConfigSchema = z.strictObject({
  version: z.literal(GATEWAY_CONFIG_VERSION),
  project: DeclaredProjectSchema,
  sources: z.array(DeclaredSourceSchema).default([]),
  destinations: z.array(DeclaredDestinationSchema).default([]),
  connections: z.array(DeclaredConnectionSchema).default([]),
});

/** What a compiler writes (defaults may be left out). */
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
/** What a parse returns (defaults filled). */
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;
export type DeclaredSource = z.output<typeof DeclaredSourceSchema>;
export type DeclaredDestination = z.output<typeof DeclaredDestinationSchema>;
export type DeclaredConnection = z.output<typeof DeclaredConnectionSchema>;
export type DeclaredKind = "project" | "source" | "destination" | "connection";

/** The binding names the config travels in (also listed in bindings.ts). */
export const CONFIG_BINDINGS = { config: "GATEWAY_CONFIG", secrets: "GATEWAY_SECRETS" } as const;
