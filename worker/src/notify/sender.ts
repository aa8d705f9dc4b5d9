/** One message to one person; alerts reuse the same sender later. */
export interface Notification {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export type SendResult = { ok: true; id: string | null } | { ok: false; error: string };

export interface NotificationSender {
  send(message: Notification): Promise<SendResult>;
}

/** Local development: the message goes to the log instead of a mailbox. */
export function logSender(log: (line: string, data: Record<string, unknown>) => void = (l, d) => console.log(l, d)): NotificationSender {
  return {
    async send(message) {
      log("[notify] email (not sent: no RESEND_API_KEY)", { to: message.to, subject: message.subject, text: message.text });
      return { ok: true, id: null };
    },
  };
}
