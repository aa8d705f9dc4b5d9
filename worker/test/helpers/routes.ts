import { createApp } from "../../src/api/app.js";

export type Method = "get" | "post" | "put" | "patch" | "delete";
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  servers?: { url: string }[];
  paths: Record<string, Partial<Record<Method, OpenApiOperation>>>;
  components?: { schemas?: Record<string, unknown> };
}
export interface OpenApiOperation {
  /** `[]` marks a public route (no API key), declared so in the document itself. */
  security?: unknown[];
  parameters?: { name: string; in: "path" | "query" | "header" | "cookie"; required?: boolean }[];
  requestBody?: { required?: boolean; content?: Record<string, unknown> };
  responses: Record<string, unknown>;
}

export interface Route {
  method: Method;
  /** OpenAPI form under /v1, e.g. `/sources/{id}`. */
  path: string;
}

/** Every (method, path) of a document behind an API key, e.g. `GET /sources/{id}`. */
export function documentRoutes(doc: OpenApiDocument): Route[] {
  return allDocumentRoutes(doc).filter((r) => !isPublic(doc, r));
}

/** Routes the document declares public (`security: []`), such as the ingest endpoint. */
export function publicDocumentRoutes(doc: OpenApiDocument): Route[] {
  return allDocumentRoutes(doc).filter((r) => isPublic(doc, r));
}

function allDocumentRoutes(doc: OpenApiDocument): Route[] {
  const out: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops) as Method[]) out.push({ method, path });
  }
  return out;
}

function isPublic(doc: OpenApiDocument, r: Route): boolean {
  const security = doc.paths[r.path]?.[r.method]?.security;
  return Array.isArray(security) && security.length === 0;
}

/**
 * The routes the app actually serves, as `METHOD /path` with OpenAPI-style params, deduplicated.
 * Middleware (`/*`) is not a route.
 */
export function servedRoutes(): string[] {
  const seen = new Set<string>();
  for (const r of createApp().routes) {
    if (r.path.endsWith("*")) continue;
    seen.add(`${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
  }
  return [...seen].sort();
}

export const key = (r: Route) => `${r.method.toUpperCase()} ${r.path}`;
