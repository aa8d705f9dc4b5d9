import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";

/** Chosen subprotocol when the client offers any (`hookstream`, plus the key entry). */
export const WEBSOCKET_PROTOCOL = "hookstream";
/** Sent by a client to keep an idle connection open; answered without waking the object. */
export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';
const MAX_CLIENTS = 100;

interface Attachment {
  key_id: string;
  connected_at: number;
}

export interface PublishResult {
  /** Open sockets the frame was handed to. */
  sent: number;
}

export function hubFor(env: Env, destinationId: string) {
  return env.WEBSOCKET_HUB.get(env.WEBSOCKET_HUB.idFromName(destinationId));
}

/**
 * One per websocket destination: holds its clients' sockets (hibernatable, so an idle
 * listener costs no duration) and fans each delivery out to all of them. It has no queue of
 * its own: the DeliveryScheduler owns retries, so a frame nobody received is a failed attempt.
 */
export class WebSocketHub extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
  }

  /** The upgrade, already authenticated and authorized by the API route. */
  override async fetch(request: Request): Promise<Response> {
    if (this.ctx.getWebSockets().length >= MAX_CLIENTS) {
      return Response.json({ error: { code: "conflict", message: `this destination already has ${MAX_CLIENTS} connected clients` } }, { status: 409 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const attachment: Attachment = { key_id: request.headers.get("x-hookstream-key-id") ?? "", connected_at: Date.now() };
    server.serializeAttachment(attachment);
    const offered = request.headers.get("sec-websocket-protocol");
    const headers = offered ? { "sec-websocket-protocol": WEBSOCKET_PROTOCOL } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /** Hands one frame to every open socket; how many took it is the delivery's outcome. */
  async publish(frame: string): Promise<PublishResult> {
    let sent = 0;
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      try {
        ws.send(frame);
        sent++;
      } catch {
        // Closed between the check and the send: it did not get the frame.
      }
    }
    return { sent };
  }

  /** The destination is gone: its listeners are told so and disconnected. */
  async disconnectAll(reason: string): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(1000, reason);
      } catch {
        // Already closed.
      }
    }
  }

  async clients(): Promise<number> {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length;
  }

  /** Clients only listen; anything but the ping (answered above) is ignored. */
  override async webSocketMessage(): Promise<void> {}

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed (the runtime may reply to the close frame itself).
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    try {
      ws.close(1011, "error");
    } catch {
      // Already closed.
    }
  }
}
