/**
 * Where a declaration was written: the first stack frame outside this package, as a
 * repository-relative `path:line` (what `config:check`, `pulumi preview` and the API's 409 show).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_DIR = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (infra/hookstream/ is two levels below it). */
export const REPO_ROOT = path.resolve(PACKAGE_DIR, "..", "..");

const FRAME = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?\s*$/;

export function callerLocation(stack = new Error().stack ?? ""): string | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    const file = m[1]!.startsWith("file://") ? fileURLToPath(m[1]!) : m[1]!;
    if (file.startsWith(PACKAGE_DIR + path.sep) || file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    const rel = path.relative(REPO_ROOT, file);
    return `${rel.startsWith("..") ? file : rel.split(path.sep).join("/")}:${m[2]}`;
  }
  return undefined;
}
