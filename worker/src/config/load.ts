/**
 * Reads the GATEWAY_CONFIG / GATEWAY_SECRETS bindings into a checked GatewayConfig and its
 * hash. No I/O: what to do with the result (apply it, or keep the last good one and report
 * the problem on /healthz) is the sync's business.
 */
import { sha256Hex } from "../lib/crypto.js";
import { joinSecrets, type ConfigSecrets } from "./secrets.js";
import type { GatewayConfig } from "./schema.js";
import { checkGatewayConfig, type CheckOptions, type ConfigIssue } from "./validate.js";

export type LoadedConfig =
  | { status: "none" }
  | { status: "ok"; config: GatewayConfig; hash: string }
  | { status: "invalid"; issues: ConfigIssue[]; hash: string | null };

function parseBinding(value: unknown, name: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (typeof value !== "string") return { ok: true, value };
  try {
    return { ok: true, value: JSON.parse(value) };
  } catch {
    return { ok: false, message: `${name} is not valid JSON` };
  }
}

/** JSON with object keys sorted (undefined members left out), so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

/** The hash covers the secrets too, so a changed secret is applied like any other change. */
export function configHash(config: unknown, secrets: unknown): Promise<string> {
  return sha256Hex(canonicalJson({ config, secrets: secrets ?? {} }));
}

const configIssue = (message: string): ConfigIssue => ({ kind: "config", declaration: "config", path: "", message });

export async function loadGatewayConfig(
  bindings: { GATEWAY_CONFIG?: unknown; GATEWAY_SECRETS?: unknown },
  options: CheckOptions = {},
): Promise<LoadedConfig> {
  if (bindings.GATEWAY_CONFIG === undefined || bindings.GATEWAY_CONFIG === null || bindings.GATEWAY_CONFIG === "") return { status: "none" };
  const config = parseBinding(bindings.GATEWAY_CONFIG, "GATEWAY_CONFIG");
  const secrets = parseBinding(bindings.GATEWAY_SECRETS ?? {}, "GATEWAY_SECRETS");
  if (!config.ok) return { status: "invalid", issues: [configIssue(config.message)], hash: null };
  if (!secrets.ok) return { status: "invalid", issues: [configIssue(secrets.message)], hash: null };
  const hash = await configHash(config.value, secrets.value);
  if (!secrets.value || typeof secrets.value !== "object" || Array.isArray(secrets.value)) {
    return { status: "invalid", issues: [configIssue("GATEWAY_SECRETS must be a JSON object")], hash };
  }
  let joined: unknown;
  try {
    joined = joinSecrets(config.value as never, secrets.value as ConfigSecrets);
  } catch (err) {
    return { status: "invalid", issues: [configIssue((err as Error).message)], hash };
  }
  const checked = checkGatewayConfig(joined, options);
  return checked.ok ? { status: "ok", config: checked.config, hash } : { status: "invalid", issues: checked.issues, hash };
}
