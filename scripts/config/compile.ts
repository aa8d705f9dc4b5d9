/**
 * Compiles the declarations in infra/ (or a fixture program) into a GatewayConfig without the Pulumi
 * engine, through infra/hookstream/local.ts (compileLocally: the program runs under
 * pulumi.runtime.setMocks). Shared by config:check, config:plan and npm run dev.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ConfigIssue, GatewayConfigInput } from "../../worker/src/config/index.js";
import { ConfigToolError, placeholderSecret, readStackConfig, withSecrets } from "./stack-config.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEFAULT_PROGRAM = "infra/index.ts";
export const LOCAL_COMPILER = "infra/hookstream/local.ts";

export interface LocalCompileOptions {
  program?: string;
  stack?: string;
  config?: Record<string, string>;
  peers?: { awsEndpoint?: string; pubsubEndpoint?: string };
  allowPrivateDestinations?: boolean;
}
export interface LocalCompileResult {
  config: GatewayConfigInput;
  issues: ConfigIssue[];
  bindings: { GATEWAY_CONFIG: string; GATEWAY_SECRETS: string } | null;
  outputs: Record<string, unknown>;
}
type CompileLocally = (options: LocalCompileOptions) => Promise<LocalCompileResult>;

export interface CompileRequest {
  /** The Pulumi program, relative to the repository root (default infra/index.ts). */
  program?: string;
  stack?: string;
  /** Stack config values that replace the file's (e.g. known secrets): `key` or `project:key` → value. */
  known?: Record<string, string>;
  /** How to fill secret config values nobody gave (default: placeholders). */
  fillSecret?: (key: string) => string;
  peers?: LocalCompileOptions["peers"];
  allowPrivateDestinations?: boolean;
}

export interface Compiled extends LocalCompileResult {
  program: string;
  stack: string;
  /** Secret config keys that were filled with placeholders (their values mean nothing). */
  placeholders: string[];
}

async function loadCompiler(): Promise<CompileLocally> {
  const file = path.join(REPO_ROOT, LOCAL_COMPILER);
  if (!fs.existsSync(file)) throw new ConfigToolError(`${LOCAL_COMPILER} does not exist: the local compiler of the declarations is missing`);
  const mod = (await import(pathToFileURL(file).href)) as { compileLocally?: CompileLocally };
  if (typeof mod.compileLocally !== "function") throw new ConfigToolError(`${LOCAL_COMPILER} does not export compileLocally`);
  return mod.compileLocally;
}

export async function compileDeclarations(req: CompileRequest = {}): Promise<Compiled> {
  const program = req.program ?? DEFAULT_PROGRAM;
  const stack = req.stack ?? "dev";
  if (!fs.existsSync(path.resolve(REPO_ROOT, program))) throw new ConfigToolError(`${program}: no such program`);
  const stackConfig = readStackConfig(REPO_ROOT, stack);
  const placeholders: string[] = [];
  const fill = req.fillSecret ?? ((key: string) => (placeholders.push(key), placeholderSecret(key)));
  const config = withSecrets(stackConfig, req.known ?? {}, fill);
  const compileLocally = await loadCompiler();
  const result = await compileLocally({
    program: path.resolve(REPO_ROOT, program),
    stack,
    config,
    ...(req.peers ? { peers: req.peers } : {}),
    ...(req.allowPrivateDestinations ? { allowPrivateDestinations: true } : {}),
  });
  return { ...result, program, stack, placeholders };
}

/** The first line of an error thrown by a program (Pulumi wraps them in long stacks). */
export function programErrorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n").map((l) => l.trim()).find(Boolean) ?? "failed";
}
