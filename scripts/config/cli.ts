/** What the config:* commands share: argument errors, one error style, exit codes. */
import { ConfigToolError } from "./stack-config.js";

export const EXIT = { ok: 0, error: 1, changes: 2 } as const;

export class UsageError extends ConfigToolError {}

export function errorLine(command: string, err: unknown): string {
  if (err instanceof ConfigToolError) return `[hookstream] ${command}: ${err.message}`;
  return `[hookstream] ${command}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}

/** Runs `main`, prints errors in our style, and exits with its code (1 on an error). */
export function run(command: string, usage: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(errorLine(command, err));
      if (err instanceof UsageError) console.error(usage);
      process.exit(EXIT.error);
    },
  );
}
