import { createOutbound } from "../delivery/outbound.js";
import type { Env } from "../env.js";
import { resendSender } from "./resend.js";
import { logSender, type NotificationSender } from "./sender.js";

export type { Notification, NotificationSender, SendResult } from "./sender.js";

export const DEFAULT_FROM = "hookstream <notifications@hookstream.dev>";

/** Resend when RESEND_API_KEY is set, otherwise the log (local development). */
export function notificationSender(env: Env): NotificationSender {
  if (!env.RESEND_API_KEY) return logSender();
  const outbound = createOutbound({ fetch: (input, init) => fetch(input, init), allowPrivate: env.ALLOW_PRIVATE_DESTINATIONS === "true" });
  return resendSender({ apiKey: env.RESEND_API_KEY, baseUrl: env.RESEND_BASE_URL, from: env.NOTIFY_FROM || DEFAULT_FROM, outbound });
}
