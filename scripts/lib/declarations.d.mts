// Types for declarations.mjs (plain ESM, used by npm run dev and the e2e tests).

export interface DevSink {
  type: "sqs" | "s3" | "eventbridge" | "pubsub";
  destination: string;
  resource: string;
  config: Record<string, unknown>;
}
export interface DevCompile {
  ok: boolean;
  error?: string;
  vars: { GATEWAY_CONFIG: string; GATEWAY_SECRETS: string };
  org_id: string;
  env_id: string;
  project: { organization: string; name: string };
  sources: { name: string; id: string; template: string | null; declared_in: string | null; secret: string | null }[];
  counts: { sources: number; destinations: number; connections: number };
  sinks: DevSink[];
  generated: string[];
}
export function hasDeclarations(program?: string): boolean;
export function compileForDev(opts: {
  program?: string;
  stack?: string;
  owner?: string;
  valuesFile: string;
  encryptionKey: string;
  authSecret?: string;
  awsEndpoint?: string;
  pubsubEndpoint?: string;
}): Promise<DevCompile>;
export const PEER_OF_SINK: Record<DevSink["type"], "moto" | "pubsub">;
export function createSinks(sinks: DevSink[], endpoints: { awsEndpoint?: string; pubsubEndpoint?: string }): Promise<DevSink[]>;
export function declaredDevKey(
  baseUrl: string,
  opts: {
    email: string;
    password: string;
    orgId: string;
    envId: string;
    signIn: (baseUrl: string, email: string, password: string) => Promise<string | null>;
    triggerScheduled: (baseUrl: string) => Promise<unknown>;
    keyName?: string;
    timeoutMs?: number;
  },
): Promise<{ api_key: string; org_id: string; env_id: string; email: string; password: string }>;
