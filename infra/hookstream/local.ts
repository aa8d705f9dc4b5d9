/**
 * Compile the Pulumi program's declarations without the Pulumi engine (config:check,
 * config:plan and `npm run dev` use this). STUB: the signature is final, the body follows.
 */
import type { ConfigIssue, GatewayConfigInput } from "../../worker/src/config/index.js";

export interface LocalPeers {
  /** moto (SQS / S3 / EventBridge), e.g. http://127.0.0.1:5000 */
  awsEndpoint?: string;
  /** the Pub/Sub emulator, e.g. http://127.0.0.1:8085 */
  pubsubEndpoint?: string;
}

export interface CompileLocallyOptions {
  /** The Pulumi program, relative to the repository root or absolute; default infra/index.ts. */
  program?: string;
  /** The stack whose Pulumi.<stack>.yaml is read; default "dev". */
  stack?: string;
  /** Config values by key (`hookstream:accountId`, or `accountId` for the project namespace), secrets included; they override Pulumi.<stack>.yaml. */
  config?: Record<string, string>;
  /** Point created sinks at local peers (queue URLs, endpoints, "test" credentials). */
  peers?: LocalPeers;
  /** Allow destinations on loopback/private addresses (implied when peers are given). */
  allowPrivateDestinations?: boolean;
  /** Generate development values for secure config keys that have no value instead of failing. */
  generateMissingSecrets?: boolean;
}

export interface CompileLocallyResult {
  /** The full config, secrets included (never print it). */
  config: GatewayConfigInput;
  issues: ConfigIssue[];
  /** The two bindings the Worker gets, or null when there are issues. */
  bindings: { GATEWAY_CONFIG: string; GATEWAY_SECRETS: string } | null;
  /** The program's stack outputs, resolved (secret outputs included as plain values). */
  outputs: Record<string, unknown>;
}

export async function compileLocally(_options: CompileLocallyOptions = {}): Promise<CompileLocallyResult> {
  throw new Error("compileLocally: not implemented yet (helper B is building it in infra/hookstream/local.ts)");
}
