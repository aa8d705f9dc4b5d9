/**
 * Provider handshakes: a few providers check an endpoint by sending a signed challenge that
 * must be echoed in a specific shape before they deliver anything. These are answered after
 * verification succeeded and are not events: nothing is stored, routed or deduplicated.
 *
 * - Slack Events API `url_verification`: answer `{ "challenge": … }`.
 *   https://api.slack.com/events/url_verification
 * - Zoom `endpoint.url_validation`: answer `{ plainToken, encryptedToken }`, the token's
 *   HMAC-SHA256 (hex) under the webhook secret token.
 *   https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint
 */
import { toHex, utf8 } from "../lib/encoding.js";
import { hmac } from "../providers/sources/common.js";
import type { TemplateId } from "../providers/sources/templates.js";

export type Handshake = (body: Uint8Array) => Promise<Response | null>;

function parse(body: Uint8Array): Record<string, unknown> | null {
  if (body.byteLength > 64 * 1024) return null;
  try {
    const value = JSON.parse(new TextDecoder().decode(body)) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const HANDSHAKES: Partial<Record<TemplateId, (body: Uint8Array, secret: string) => Promise<Response | null>>> = {
  async slack(body) {
    const json = parse(body);
    if (json?.type !== "url_verification" || typeof json.challenge !== "string") return null;
    return Response.json({ challenge: json.challenge });
  },
  async zoom(body, secret) {
    const json = parse(body);
    const payload = json?.payload as Record<string, unknown> | undefined;
    if (json?.event !== "endpoint.url_validation" || typeof payload?.plainToken !== "string") return null;
    const encryptedToken = toHex(await hmac("sha256", secret, utf8(payload.plainToken)));
    return Response.json({ plainToken: payload.plainToken, encryptedToken });
  },
};

/** The template's handshake bound to the source's current secret, or null. */
export function handshakeFor(template: TemplateId | undefined, currentSecret: string | undefined): Handshake | null {
  const h = template ? HANDSHAKES[template] : undefined;
  if (!h || currentSecret === undefined) return null;
  return (body) => h(body, currentSecret);
}
