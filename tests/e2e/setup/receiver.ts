// A real webhook receiver for e2e tests: a node:http server on 127.0.0.1 that records every
// request (raw body bytes included) and answers as the test tells it to.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pollUntil } from "./poll.js";

export interface ReceivedRequest {
  method: string;
  /** Path and query as the receiver saw them. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Date.now() when the request was complete. */
  at: number;
}

/** A status to answer with, or "hang": never answer (the connection stays open until close()). */
export type Reply = { status: number; body?: string; headers?: Record<string, string> } | "hang";
export type Responder = (req: ReceivedRequest) => Reply;

export interface Receiver {
  /** Base URL; valid even before listen() when the port was reserved. */
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  respondWith(responder: Responder | Reply): void;
  /** Start listening (only needed with `listen: false`). */
  listen(): Promise<void>;
  /** Requests whose `webhook-id` header is `id`. */
  byWebhookId(id: string): ReceivedRequest[];
  /** Wait until at least `count` requests matching `filter` arrived; returns them. */
  waitForRequests(count: number, opts?: { timeoutMs?: number; filter?: (r: ReceivedRequest) => boolean; what?: string }): Promise<ReceivedRequest[]>;
  /** Drops every connection (answers nothing to hung requests) and stops listening. */
  close(): Promise<void>;
}

const toResponder = (r: Responder | Reply): Responder => (typeof r === "function" ? r : () => r);

/**
 * Start a receiver. `port` pins the port (e.g. to come back on the same one);
 * `listen: false` only reserves the URL so that the gateway first finds nothing listening.
 */
export async function startReceiver(opts: { reply?: Responder | Reply; port?: number; listen?: boolean } = {}): Promise<Receiver> {
  let responder = toResponder(opts.reply ?? { status: 200, body: "ok" });
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const received: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      requests.push(received);
      const reply = responder(received);
      if (reply === "hang") return;
      res.writeHead(reply.status, { "content-type": "text/plain", ...reply.headers });
      res.end(reply.body ?? "");
    });
  });
  // Longer than any pause in a test: with a short keep-alive the server closes idle connections
  // just as a retry reuses one, and the attempt fails with "Network connection lost" instead of
  // the status the test set up.
  server.keepAliveTimeout = 60_000;

  let port = opts.port ?? 0;
  let listening = false;
  const listen = async () => {
    if (listening) return;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    listening = true;
    port = (server.address() as AddressInfo).port;
  };

  if (opts.listen === false) {
    if (!port) port = await reservePort();
  } else {
    await listen();
  }

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    requests,
    respondWith(r) {
      responder = toResponder(r);
    },
    listen,
    byWebhookId(id) {
      return requests.filter((r) => r.headers["webhook-id"] === id);
    },
    async waitForRequests(count, { timeoutMs = 15_000, filter = () => true, what } = {}) {
      return pollUntil(
        async () => requests.filter(filter),
        (list) => list.length >= count,
        { what: what ?? `${count} request(s) at receiver ${port}`, timeoutMs, intervalMs: 25 },
      );
    },
    async close() {
      if (!listening) return;
      listening = false;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port that was free a moment ago (nothing listens on it afterwards). */
async function reservePort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Closes every receiver, even if some fail; for afterAll/finally. */
export async function closeAll(receivers: Iterable<Receiver | undefined>): Promise<void> {
  await Promise.allSettled([...receivers].map((r) => r?.close()));
}
