/**
 * Resolves a tree of Pulumi Inputs (plain values, promises and Outputs at any depth) to plain
 * values, remembering which leaves were secret and whether any was unknown (during preview a
 * not-yet-created resource's outputs are). The compiler checks declarations on this, so a bad
 * declaration fails `pulumi preview` even when sink outputs are still unknown.
 */
import * as pulumi from "@pulumi/pulumi";

/** Stands in for a value the engine does not know yet (preview of a resource to be created). */
export const UNKNOWN = Symbol("unknown");

export interface Resolved<T = unknown> {
  value: T;
  /** Dotted paths of the leaves that came from secret Outputs. */
  secretPaths: string[];
  unknown: boolean;
}

/** The SDK's Output exposes these (output.ts `OutputImpl`); `promise(true)` keeps unknowns as a sentinel. */
interface OutputInternals<T> {
  promise(withUnknowns?: boolean): Promise<T>;
  isKnown: Promise<boolean>;
  isSecret: Promise<boolean>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

export async function resolveTree<T = unknown>(input: unknown, path = ""): Promise<Resolved<T>> {
  const secretPaths: string[] = [];
  let unknown = false;
  const walk = async (v: unknown, at: string): Promise<unknown> => {
    if (pulumi.Output.isInstance(v)) {
      const o = v as unknown as OutputInternals<unknown>;
      const [known, secret, value] = await Promise.all([o.isKnown, o.isSecret, o.promise(true)]);
      if (secret) secretPaths.push(at);
      if (!known || pulumi.containsUnknowns(value)) {
        unknown = true;
        return UNKNOWN;
      }
      return walk(value, at);
    }
    if (v instanceof Promise) return walk(await v, at);
    if (Array.isArray(v)) return Promise.all(v.map((x, i) => walk(x, at ? `${at}.${i}` : String(i))));
    if (isPlainObject(v)) {
      const entries = await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await walk(x, at ? `${at}.${k}` : k)] as const));
      return Object.fromEntries(entries.filter(([, x]) => x !== undefined));
    }
    return v;
  };
  const value = (await walk(input, path)) as T;
  return { value, secretPaths, unknown };
}

/** Replaces every UNKNOWN leaf by `placeholder(path)`. */
export function fillUnknowns<T>(value: T, placeholder: (path: string) => unknown, at = ""): T {
  if (value === (UNKNOWN as unknown)) return placeholder(at) as T;
  if (Array.isArray(value)) return value.map((x, i) => fillUnknowns(x, placeholder, at ? `${at}.${i}` : String(i))) as T;
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, fillUnknowns(x, placeholder, at ? `${at}.${k}` : k)])) as T;
  return value;
}
