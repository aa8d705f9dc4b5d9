import { z } from "@hono/zod-openapi";
import { ROLES } from "../auth/roles.js";

const name = z.string().trim().min(1).max(128);
const timestamp = z.string().openapi({ format: "date-time" });
const role = z.enum(ROLES);

export const EnvironmentUpdateSchema = z.strictObject({ name }).openapi("EnvironmentUpdate");

export const OrganizationSchema = z
  .object({ id: z.string(), name: z.string(), role: role.openapi({ description: "the caller's role" }), created_at: timestamp })
  .openapi("Organization");
export const OrganizationUpdateSchema = z.strictObject({ name }).openapi("OrganizationUpdate");

export const MemberSchema = z
  .object({ id: z.string(), user_id: z.string(), email: z.string(), name: z.string(), role, created_at: timestamp })
  .openapi("Member");
export const MemberUpdateSchema = z.strictObject({ role }).openapi("MemberUpdate");

export const InvitationCreateSchema = z
  .strictObject({ email: z.email().max(254), role: role.default("member") })
  .openapi("InvitationCreate");
export const InvitationSchema = z
  .object({ id: z.string(), email: z.string(), role, invited_by: z.string(), created_at: timestamp, expires_at: timestamp })
  .openapi("Invitation");
export const InvitationAcceptSchema = z
  .strictObject({ token: z.string().regex(/^[0-9a-f]{64}$/, "must be the 64-hex token from the invitation email") })
  .openapi("InvitationAccept");
export const InvitationAcceptedSchema = z.object({ org_id: z.string(), role }).openapi("InvitationAccepted");

export const MeSchema = z
  .object({
    user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
    organizations: z.array(z.object({ id: z.string(), name: z.string(), role })),
  })
  .openapi("Me");

export const ApiKeyListQuerySchema = z.object({
  env_id: z.string().regex(/^env_[0-9a-f]{32}$/, "must be an env_ id").optional().openapi({ description: "only this project's keys" }),
});

export const idOf = (prefix: string) =>
  z.object({
    id: z
      .string()
      .regex(new RegExp(`^${prefix}_[0-9a-f]{32}$`), `must be a ${prefix}_ id`)
      .openapi({ param: { name: "id", in: "path" }, example: `${prefix}_0193b8c1d2e4a1b2c3d4e5f6a7b8c9d0` }),
  });
