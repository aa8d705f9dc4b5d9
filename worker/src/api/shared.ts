import type { Context } from "hono";
import { AppError } from "../lib/errors.js";
import type { AppEnv } from "./context.js";

export function publicBaseUrl(c: Context<AppEnv>): string {
  return (c.env.PUBLIC_URL ?? new URL(c.req.url).origin).replace(/\/+$/, "");
}

/** Declared resources change through a pull request, not the API. */
export function assertApiManaged(row: { managed_by: "api" | "config"; name: string | null }, kind: string): void {
  if (row.managed_by === "config") {
    throw new AppError("managed_by_config", `this ${kind} is declared in infra/ (Pulumi); change it there and open a pull request`, {
      file: "infra/",
    });
  }
}
