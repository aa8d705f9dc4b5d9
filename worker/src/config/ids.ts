/**
 * Stable ids for declared resources: `<prefix>_` + the first 32 hex digits of
 * HMAC-SHA256(ENCRYPTION_KEY, "hookstream/declared-id/v1|<kind>|<scope>|<name>").
 *
 * Derived from the project and the declared name, so ingest URLs survive redeploys; keyed by
 * the stack's encryption key, so they stay unguessable like random ids. infra computes the
 * same ids for its stack outputs; the Worker computes them when it applies the config.
 */
import { toHex, utf8 } from "../lib/encoding.js";
import { ID_PREFIXES } from "../model/ids.js";
import type { GatewayConfigInput } from "./schema.js";

type DerivedKind = "organization" | "environment" | "source" | "destination" | "connection";

const hmacKeys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    hmacKeys.set(secret, key);
  }
  return key;
}

export async function derivedId(secret: string, kind: DerivedKind, scope: string, name: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), utf8(`hookstream/declared-id/v1|${kind}|${scope}|${name}`));
  return `${ID_PREFIXES[kind]}_${toHex(mac).slice(0, 32)}`;
}

export interface DeclaredIds {
  org_id: string;
  env_id: string;
  sources: Record<string, string>;
  destinations: Record<string, string>;
  connections: Record<string, string>;
}

/** Every id a config declares, by declared name. */
export async function declaredIds(secret: string, config: Pick<GatewayConfigInput, "project" | "sources" | "destinations" | "connections">): Promise<DeclaredIds> {
  const { organization, name: project } = config.project;
  const scope = `${organization}/${project}`;
  const byName = async (kind: "source" | "destination" | "connection", items: readonly { name: string }[] | undefined) =>
    Object.fromEntries(await Promise.all((items ?? []).map(async (i) => [i.name, await derivedId(secret, kind, scope, i.name)] as const)));
  return {
    org_id: await derivedId(secret, "organization", "", organization),
    env_id: await derivedId(secret, "environment", organization, project),
    sources: await byName("source", config.sources),
    destinations: await byName("destination", config.destinations),
    connections: await byName("connection", config.connections),
  };
}
