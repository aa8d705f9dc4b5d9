import { env } from "cloudflare:workers";
import { newId } from "../../src/model/ids.js";
import { signUp, type SignedIn } from "./session.js";

/**
 * A new user who is also `role` in `orgId`, added straight to D1 (the invitation flow itself
 * is tested in accounts.test.ts). The user keeps their own organization too.
 */
export async function seedMember(orgId: string, role: "owner" | "admin" | "member" | "viewer"): Promise<SignedIn & { member_id: string }> {
  const u = await signUp({ name: role });
  const member_id = newId("member");
  await env.DB.prepare("INSERT INTO memberships (id, org_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5)").bind(member_id, orgId, u.user_id, role, Date.now()).run();
  return { ...u, member_id };
}
