import type { Compiled } from "./compile.js";
import type { Gateway } from "./gateway.js";

/**
 * How a Gateway reports its compiled config. Deploys throw on issues (so `pulumi preview`
 * fails); compileLocally collects them instead.
 */
let collecting: { gateway: Gateway; compiled: Promise<Compiled> }[] | undefined;
let options: { allowPrivateDestinations: boolean } | undefined;

export function startCollecting(opts: { allowPrivateDestinations: boolean }): void {
  collecting = [];
  options = opts;
}
/** The check options of compileLocally, or undefined in a deploy. */
export function localOptions(): { allowPrivateDestinations: boolean } | undefined {
  return options;
}
export function stopCollecting(): { gateway: Gateway; compiled: Promise<Compiled> }[] {
  const got = collecting ?? [];
  collecting = undefined;
  options = undefined;
  return got;
}
/** True when compileLocally runs the program: issues are returned, not thrown. */
export function record(gateway: Gateway, compiled: Promise<Compiled>): boolean {
  collecting?.push({ gateway, compiled });
  return collecting !== undefined;
}
