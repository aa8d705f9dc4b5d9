/** Organization roles, weakest first: each one can do everything the ones before it can. */
export const ROLES = ["viewer", "member", "admin", "owner"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

export function atLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/**
 * What an API key acts as: the admin of its one project (Hookdeck's and Convoy's project keys
 * have full access to their project). Routes that manage people, projects and keys are
 * session-only (`keys: false` in the permission table), so a leaked key cannot mint keys,
 * invite anyone or reach another project.
 */
export const API_KEY_ROLE: Role = "admin";
