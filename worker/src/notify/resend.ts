import type { Outbound } from "../delivery/outbound.js";
import type { NotificationSender } from "./sender.js";

export const RESEND_DEFAULT_BASE_URL = "https://api.resend.com";

/** Resend's HTTP API (`POST /emails`), through the one outbound door (timeout, size cap, SSRF guard). */
export function resendSender(opts: { apiKey: string; baseUrl?: string; from: string; outbound: Outbound }): NotificationSender {
  const url = `${(opts.baseUrl || RESEND_DEFAULT_BASE_URL).replace(/\/+$/, "")}/emails`;
  return {
    async send(message) {
      const result = await opts.outbound.send({
        url,
        method: "POST",
        headers: { authorization: `Bearer ${opts.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ from: opts.from, to: [message.to], subject: message.subject, text: message.text, ...(message.html ? { html: message.html } : {}) }),
        timeout_ms: 10_000,
      });
      if (!result.ok) return { ok: false, error: `${result.kind}: ${result.message}` };
      const { status, body } = result.response;
      if (status < 200 || status >= 300) return { ok: false, error: `resend answered ${status}: ${body.slice(0, 200)}` };
      try {
        const parsed = JSON.parse(body) as { id?: unknown };
        return { ok: true, id: typeof parsed.id === "string" ? parsed.id : null };
      } catch {
        return { ok: true, id: null };
      }
    },
  };
}
