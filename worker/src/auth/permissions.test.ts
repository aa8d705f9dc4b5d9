import { describe, expect, it } from "vitest";
import { compilePermissions, permissionFor, PERMISSIONS } from "./permissions.js";
import { atLeast, isRole } from "./roles.js";

describe("permission table", () => {
  it("matches concrete paths to their pattern, literal segments before parameters", () => {
    expect(permissionFor("POST", "/invitations/accept")?.pattern).toBe("POST /invitations/accept");
    expect(permissionFor("DELETE", "/invitations/inv_0")?.pattern).toBe("DELETE /invitations/{id}");
    expect(permissionFor("GET", "/sources/src_1/")?.pattern).toBe("GET /sources/{id}");
    expect(permissionFor("HEAD", "/sources")?.pattern).toBe("GET /sources");
    expect(permissionFor("post", "/destinations/dst_1/dlq/redrive")?.pattern).toBe("POST /destinations/{id}/dlq/redrive");
  });

  it("denies by default: unknown methods, paths and extra segments match nothing", () => {
    expect(permissionFor("PUT", "/sources")).toBeNull();
    expect(permissionFor("GET", "/sources/a/b")).toBeNull();
    expect(permissionFor("GET", "/nope")).toBeNull();
    expect(permissionFor("GET", "/sourcesX")).toBeNull();
    expect(permissionFor("DELETE", "/org/extra")).toBeNull();
  });

  it("a parameter never spans segments, and regex characters in patterns are literal", () => {
    const table = compilePermissions({ "GET /a.b/{id}": { role: "viewer", scope: "project", keys: true } });
    expect(permissionFor("GET", "/a.b/x", table)).not.toBeNull();
    expect(permissionFor("GET", "/aXb/x", table)).toBeNull();
    expect(permissionFor("GET", "/a.b/x/y", table)).toBeNull();
  });

  it("every entry names a real role; owner-only is deleting the org", () => {
    for (const p of Object.values(PERMISSIONS)) expect(isRole(p.role)).toBe(true);
    expect(Object.entries(PERMISSIONS).filter(([, p]) => p.role === "owner").map(([k]) => k)).toEqual(["DELETE /org"]);
  });

  it("roles are ordered viewer < member < admin < owner", () => {
    expect(atLeast("owner", "admin")).toBe(true);
    expect(atLeast("admin", "member")).toBe(true);
    expect(atLeast("member", "viewer")).toBe(true);
    expect(atLeast("viewer", "member")).toBe(false);
    expect(atLeast("admin", "owner")).toBe(false);
  });
});
