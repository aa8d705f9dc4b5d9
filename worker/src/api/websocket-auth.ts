import { WEBSOCKET_PROTOCOL } from "../delivery/websocket-hub.js";

/**
 * Browsers cannot set Authorization on a WebSocket upgrade, so the API key may also come as
 * a subprotocol entry `hookstream.bearer.<key>` next to `hookstream` (the one the server
 * picks). Query parameters are not accepted: they end up in logs and browser history.
 */
export const KEY_PROTOCOL_PREFIX = `${WEBSOCKET_PROTOCOL}.bearer.`;
/** The only route that takes a key this way. */
const LISTEN_PATH = /^\/v1\/destinations\/[^/]+\/ws$/;

export function offeredProtocols(request: Request): string[] {
  const header = request.headers.get("sec-websocket-protocol");
  if (!header) return [];
  return header.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
}

/** The key of a WebSocket upgrade's subprotocol entry; undefined for any other request. */
export function apiKeyFromWebSocketProtocol(request: Request): string | undefined {
  if ((request.headers.get("upgrade") ?? "").toLowerCase() !== "websocket") return undefined;
  if (!LISTEN_PATH.test(new URL(request.url).pathname)) return undefined;
  const entry = offeredProtocols(request).find((p) => p.startsWith(KEY_PROTOCOL_PREFIX));
  return entry?.slice(KEY_PROTOCOL_PREFIX.length);
}
