import type { Role } from "./roles.js";

/**
 * - `project`: works on one project's data; needs a project (an API key's, or a session's
 *   `X-Hookstream-Project` header).
 * - `org`: works on the organization (members, projects, keys); a session picks the org with
 *   `X-Hookstream-Org` (or its project header); an API key's org is its own.
 * - `user`: needs only a signed-in user (their own profile, accepting an invitation).
 */
export type Scope = "project" | "org" | "user";

export interface Permission {
  /** The weakest role allowed. */
  role: Role;
  scope: Scope;
  /** May an API key call it? false: people, projects and keys are managed by signed-in users only. */
  keys: boolean;
}

const read = (scope: Scope = "project", keys = true): Permission => ({ role: "viewer", scope, keys });
const manage = (scope: Scope = "project", keys = true): Permission => ({ role: "member", scope, keys });
const admin = (scope: Scope = "org", keys = false): Permission => ({ role: "admin", scope, keys });

/**
 * Every /v1 route (OpenAPI path form, without /v1) → who may call it. The middleware refuses a
 * route that is not listed here (as 404), and a test fails when a route of the OpenAPI document
 * has no entry. Routes added by other modules are added here.
 */
export const PERMISSIONS: Record<string, Permission> = {
  // sources, destinations, connections: viewers read, members manage
  "GET /sources": read(),
  "POST /sources": manage(),
  "GET /sources/{id}": read(),
  "PATCH /sources/{id}": manage(),
  "DELETE /sources/{id}": manage(),
  "POST /sources/{id}/rotate-secret": manage(),
  "GET /sources/{id}/stats": read(),
  "GET /source-templates": read(),
  "GET /destinations": read(),
  "POST /destinations": manage(),
  "GET /destinations/{id}": read(),
  "PATCH /destinations/{id}": manage(),
  "DELETE /destinations/{id}": manage(),
  "GET /destinations/{id}/circuit": read(),
  "GET /destinations/{id}/dlq": read(),
  // a live listener receives what the events API shows: reading
  "GET /destinations/{id}/ws": read(),
  "POST /destinations/{id}/dlq/redrive": manage(),
  "GET /connections": read(),
  "POST /connections": manage(),
  "GET /connections/{id}": read(),
  "PATCH /connections/{id}": manage(),
  "DELETE /connections/{id}": manage(),
  // A dry run writes nothing: a read.
  "POST /connections/test": read(),
  "GET /events": read(),
  "GET /events/{id}": read(),
  "GET /events/{id}/attempts": read(),
  "POST /events/{id}/retry": manage(),
  "GET /delivery-attempts": read(),
  // projects: everyone in the org sees them (a key sees its own); admins manage them
  "GET /environments": read("org"),
  "POST /environments": admin(),
  "PATCH /environments/{id}": admin(),
  "DELETE /environments/{id}": admin(),
  "GET /projects": read("org"),
  "POST /projects": admin(),
  "PATCH /projects/{id}": admin(),
  "DELETE /projects/{id}": admin(),
  // API keys: admins; a key may list its own project's keys (masked)
  "GET /api-keys": admin("org", true),
  "POST /api-keys": admin(),
  "DELETE /api-keys/{id}": admin(),
  // the organization and its people
  "GET /org": read("org", false),
  "PATCH /org": admin(),
  "DELETE /org": { role: "owner", scope: "org", keys: false },
  "GET /members": read("org", false),
  "PATCH /members/{id}": admin(),
  "DELETE /members/{id}": admin(),
  "GET /invitations": admin(),
  "POST /invitations": admin(),
  "DELETE /invitations/{id}": admin(),
  "POST /invitations/accept": { role: "viewer", scope: "user", keys: false },
  "GET /me": { role: "viewer", scope: "user", keys: false },
};

interface Compiled {
  method: string;
  pattern: string;
  regex: RegExp;
  params: number;
  permission: Permission;
}

function compile(table: Record<string, Permission>): Compiled[] {
  return Object.entries(table)
    .map(([key, permission]) => {
      const [method, pattern] = key.split(" ") as [string, string];
      const source = pattern
        .split("/")
        .map((seg) => (/^\{\w+\}$/.test(seg) ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      return { method, pattern, regex: new RegExp(`^${source}/?$`), params: (pattern.match(/\{/g) ?? []).length, permission };
    })
    // Literal segments win over parameters: `/invitations/accept` before `/invitations/{id}`.
    .sort((a, b) => a.params - b.params);
}

const COMPILED = compile(PERMISSIONS);

/** The permission of a request path under /v1 (e.g. `/sources/src_…`), or null if no route matches. */
export function permissionFor(method: string, path: string, table: Compiled[] = COMPILED): { pattern: string; permission: Permission } | null {
  const m = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase();
  for (const entry of table) {
    if (entry.method === m && entry.regex.test(path)) return { pattern: `${entry.method} ${entry.pattern}`, permission: entry.permission };
  }
  return null;
}

export { compile as compilePermissions };
