import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import { createApp } from "../../src/api/app.js";
import { ORIGIN } from "./api.js";
import { receivedBy, uniqueName } from "./fixtures.js";

/**
 * Sends an invitation through the real app with Resend pointed at the test receiver (so the
 * email, and the token in it, can be read back), as `cookie` acting in `org`.
 */
export async function inviteByEmail(cookie: string, org: string, email: string, role: string): Promise<{ status: number; body: unknown; token: string | null; mail: Record<string, unknown> | null }> {
  const box = uniqueName("mail");
  const testEnv = { ...env, RESEND_API_KEY: "re_test_key", RESEND_BASE_URL: `${inject("receiverUrl")}/hook/${box}` };
  const ctx = createExecutionContext();
  const res = await createApp().fetch(
    new Request(`${ORIGIN}/v1/invitations`, {
      method: "POST",
      headers: { cookie, origin: ORIGIN, "content-type": "application/json", "x-hookstream-org": org },
      body: JSON.stringify({ email, role }),
    }),
    testEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  const body = (await res.json()) as unknown;
  const mails = await receivedBy(box);
  const first = mails[0];
  if (!first) return { status: res.status, body, token: null, mail: null };
  const mail = JSON.parse(atob(first.body_base64)) as Record<string, unknown>;
  const token = /Invitation token: ([0-9a-f]{64})/.exec(String(mail.text))?.[1] ?? null;
  return { status: res.status, body, token, mail: { ...mail, path: first.path, authorization: first.headers.authorization } };
}
