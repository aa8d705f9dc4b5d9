import * as pulumi from "@pulumi/pulumi";
import type { GatewayArgs } from "./gateway.js";

export type PlatformConfig = Omit<GatewayArgs, "sources" | "destinations" | "connections">;

/** Thrown with every missing or malformed stack config key at once, each with the command that sets it. */
export class StackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`hookstream stack config is incomplete:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

/**
 * The typed stack config of the `hookstream` namespace (Pulumi.<stack>.yaml). Secrets must be
 * set with `pulumi config set --secret`; a plain value for a secret key is refused.
 */
export function readPlatformConfig(namespace = "hookstream"): PlatformConfig {
  const cfg = new pulumi.Config(namespace);
  const problems: string[] = [];
  const need = (key: string, hint: string) => {
    const v = cfg.get(key);
    if (!v) problems.push(`${namespace}:${key} is not set: pulumi config set ${namespace}:${key} ${hint}`);
    return v ?? "";
  };
  // Read synchronously (runtime.getConfig does not warn about secrets) so a bad value is one
  // clear error before any resource is registered; handed on as a secret Output.
  const needSecret = (key: string, hint: string, check: (v: string) => string | null): pulumi.Output<string> => {
    const v = pulumi.runtime.getConfig(`${namespace}:${key}`);
    if (v === undefined) problems.push(`${namespace}:${key} is not set: pulumi config set --secret ${namespace}:${key} ${hint}`);
    else {
      const bad = check(v);
      if (bad) problems.push(`${namespace}:${key} ${bad}: pulumi config set --secret ${namespace}:${key} ${hint}`);
    }
    return pulumi.secret(v ?? "");
  };
  const accountId = need("accountId", "<32-hex Cloudflare account id>");
  if (accountId && !/^[0-9a-f]{32}$/.test(accountId)) problems.push(`${namespace}:accountId must be the 32-hex-digit Cloudflare account id (dashboard → Workers & Pages → Account ID)`);
  const organization = need("organization", "<your organization's name>");
  const project = cfg.get("project") ?? pulumi.getStack();
  const owners = cfg.getObject<string[]>("owners") ?? [];
  const encryptionKey = needSecret("encryptionKey", '"$(openssl rand -base64 32)"', (v) =>
    Buffer.from(v, "base64").length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(v) ? null : "must be base64 of 32 bytes",
  );
  const authSecret = needSecret("authSecret", '"$(openssl rand -hex 32)"', (v) => (v.length >= 32 ? null : "must be at least 32 characters"));
  const workersDevSubdomain = cfg.get("workersDevSubdomain");
  const customDomain = cfg.getObject<{ hostname: string; zoneId: string }>("customDomain");
  const route = cfg.getObject<{ pattern: string; zoneId: string }>("route");
  if (!workersDevSubdomain && !customDomain) {
    problems.push(`set where the Worker answers: pulumi config set ${namespace}:workersDevSubdomain <your account's workers.dev subdomain>, or ${namespace}:customDomain '{"hostname":"hooks.example.com","zoneId":"<zone id>"}' (with --path or as YAML)`);
  }
  if (customDomain && (!customDomain.hostname || !customDomain.zoneId)) problems.push(`${namespace}:customDomain needs hostname and zoneId`);
  if (problems.length) throw new StackConfigError(problems);

  const resendApiKey = cfg.getSecret("resendApiKey");
  const notifyFrom = cfg.get("notifyFrom");
  const scriptName = cfg.get("scriptName");
  const migratedTo = cfg.get("durableObjectsMigratedTo");
  return {
    accountId,
    project: { organization, name: project, owners },
    encryptionKey,
    authSecret,
    ...(resendApiKey ? { resendApiKey } : {}),
    ...(notifyFrom ? { notifyFrom } : {}),
    ...(scriptName ? { scriptName } : {}),
    ...(migratedTo ? { durableObjectsMigratedTo: migratedTo } : {}),
    ...(workersDevSubdomain ? { workersDevSubdomain } : {}),
    ...(customDomain ? { customDomain } : {}),
    ...(route ? { route } : {}),
  };
}
