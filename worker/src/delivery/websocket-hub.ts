import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { database } from "../db/client.js";
import { activeKeyIds } from "../db/repositories/listener-keys.js";

/** Chosen subprotocol when the client offers any (`hookstream`, plus the key entry). */
export const WEBSOCKET_PROTOCOL = "hookstream";
/** Sent by a client to keep an idle connection open; answered without waking the object. */
export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';
const MAX_CLIENTS = 100;
/** Listeners' keys are re-checked at most this often, while events flow: a revoked key stops receiving within it. */
const KEY_RECHECK_MS = 5_000;
export const REVOKED_CLOSE_CODE = 1008;

/** Who connected, set by the API route after it authenticated the upgrade. */
export interface ListenerIdentity {
  key_id: string;
  org_id: string;
  env_id: string;
}

interface Attachment extends ListenerIdentity {
  connected_at: number;
}

export const LISTENER_HEADERS = { key_id: "x-hookstream-key-id", org_id: "x-hookstream-org-id", env_id: "x-hookstream-env-id" } as const;

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
  /** 0 after every wake-up, so the first publish re-checks the keys. */
  private keysCheckedAt = 0;

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
    const attachment: Attachment = {
      key_id: request.headers.get(LISTENER_HEADERS.key_id) ?? "",
      org_id: request.headers.get(LISTENER_HEADERS.org_id) ?? "",
      env_id: request.headers.get(LISTENER_HEADERS.env_id) ?? "",
      connected_at: Date.now(),
    };
    server.serializeAttachment(attachment);
    const offered = request.headers.get("sec-websocket-protocol");
    const headers = offered ? { "sec-websocket-protocol": WEBSOCKET_PROTOCOL } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /** Hands one frame to every open socket; how many took it is the delivery's outcome. */
  async publish(frame: string): Promise<PublishResult> {
    let sent = 0;
    for (const ws of await this.authorizedSockets()) {
      try {
        ws.send(frame);
        sent++;
      } catch {
        // Closed between the check and the send: it did not get the frame.
      }
    }
    return { sent };
  }

  /** Open sockets whose key is still active; the others are closed. */
  private async authorizedSockets(): Promise<WebSocket[]> {
    const open = this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
    const now = Date.now();
    if (open.length === 0 || now - this.keysCheckedAt < KEY_RECHECK_MS) return open;
    const attachments = open.map((ws) => ws.deserializeAttachment() as Attachment);
    const tenant = attachments[0]!;
    let active: Set<string>;
    try {
      active = await activeKeyIds(database(this.env.DB), tenant, [...new Set(attachments.map((a) => a.key_id))]);
    } catch (err) {
      // D1 unavailable: keep delivering to the listeners that were authorized; check again next time.
      console.error("could not re-check listener keys", { error: String(err) });
      return open;
    }
    this.keysCheckedAt = now;
    return open.filter((ws, i) => {
      if (active.has(attachments[i]!.key_id)) return true;
      try {
        ws.close(REVOKED_CLOSE_CODE, "API key revoked");
      } catch {
        // Already closed.
      }
      return false;
    });
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
