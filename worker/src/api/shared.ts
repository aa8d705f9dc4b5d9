import type { Context } from "hono";
import { AppError } from "../lib/errors.js";
import type { AppEnv } from "./context.js";

export function publicBaseUrl(c: Context<AppEnv>): string {
  return (c.env.PUBLIC_URL ?? new URL(c.req.url).origin).replace(/\/+$/, "");
}

/**
 * Declared resources change through a pull request, not the API: 409 `managed_by_config`
 * naming the file (and line) to edit.
 */
export function assertApiManaged(row: { managed_by: "api" | "config"; name: string | null; declared_in?: string | null }, kind: string): void {
  if (row.managed_by !== "config") return;
  const where = row.declared_in ?? "infra/";
  const what = row.name ? `${kind} "${row.name}"` : `this ${kind}`;
  throw new AppError("managed_by_config", `${what} is declared in ${where}; change it there and deploy`, {
    declared_in: row.declared_in ?? null,
    name: row.name,
  });
}
