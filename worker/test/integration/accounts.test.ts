import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { client, expectError, expectStatus, ORIGIN, request } from "../helpers/api.js";
import { authPost, signIn, signUp, sessionClient, uniqueEmail } from "../helpers/session.js";

describe("sign-up", () => {
  it("provisions an organization (owner) with a production project", async () => {
    const u = await signUp({ name: "Ada" });
    expect(u.org_id).toMatch(/^org_[0-9a-f]{32}$/);
    expect(u.env_id).toMatch(/^env_[0-9a-f]{32}$/);
    expect(u.user_id).toMatch(/^usr_[0-9a-f]{32}$/);
    const s = sessionClient(u.cookie);
    const org = await s.get<{ id: string; name: string; role: string }>("/v1/org");
    expectStatus(org, 200);
    expect(org.body).toMatchObject({ id: u.org_id, name: "Ada's organization", role: "owner" });
    const envs = await s.get<{ data: { name: string }[] }>("/v1/environments");
    expect(envs.body.data.map((e) => e.name)).toEqual(["production"]);
  });
});
