import { compileLocally, type CompileLocallyOptions, type CompileLocallyResult } from "../hookstream/local.js";
import type { CreatedResource } from "../hookstream/mocks.js";

/** The example stack's secure config values, as a CI secret store would give them. */
export const SECRETS = {
  "cloudflare:apiToken": "cf-token-for-tests",
  "hookstream:encryptionKey": Buffer.alloc(32, 7).toString("base64"),
  "hookstream:authSecret": "a".repeat(40),
  "hookstream:stripeWebhookSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  "hookstream:githubWebhookSecret": "github-webhook-secret-for-tests",
};

export function compileExample(options: CompileLocallyOptions = {}): Promise<CompileLocallyResult> {
  return compileLocally({ ...options, config: { ...SECRETS, ...options.config } });
}

export function only(resources: CreatedResource[], type: string): CreatedResource {
  const found = resources.filter((r) => r.type === type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

export function all(resources: CreatedResource[], type: string): CreatedResource[] {
  return resources.filter((r) => r.type === type);
}

export const SCRIPT = "cloudflare:index/workersScript:WorkersScript";
