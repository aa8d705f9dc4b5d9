import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

/**
 * A receiver on 127.0.0.1 that counts what a scheduler's flow control must bound: requests
 * open at the same time (it can hold them until released) and when each one arrived.
 *
 * - `ANY /gate/<name>`: records the request; holds it when <name> is in hold mode, otherwise
 *   answers at once: 200, or the status of a scripted failure for that body.
 * - `PUT /_gate/<name>`: `{ hold?: boolean, fail?: { "<exact body>": { times, status } } }`.
 * - `POST /_gate/<name>/release`: answers every held request with 200 (and keeps holding new ones).
 * - `GET /_gate/<name>`: `{ arrivals: [{ at, body }], open, max_open, held }`.
 */
interface Behaviour {
  hold?: boolean;
  fail?: Record<string, { times: number; status: number }>;
}

interface Gate {
  behaviour: Behaviour;
  arrivals: { at: number; body: string }[];
  failed: Map<string, number>;
  open: number;
  max_open: number;
  held: ServerResponse[];
}

const gates = new Map<string, Gate>();

function gate(name: string): Gate {
  let g = gates.get(name);
  if (!g) {
    g = { behaviour: {}, arrivals: [], failed: new Map(), open: 0, max_open: 0, held: [] };
    gates.set(name, g);
  }
  return g;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function finish(g: Gate, res: ServerResponse, status: number): void {
  g.open--;
  res.writeHead(status, { "content-type": "text/plain" });
  res.end(status < 300 ? "ok" : "scripted failure");
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const [, kind, name, action] = url.pathname.split("/");
  if (!name) return void res.writeHead(404).end();
  const g = gate(name);
  if (kind === "gate") {
    // Counted on arrival, before the body is read: that is when the attempt is open here.
    g.open++;
    g.max_open = Math.max(g.max_open, g.open);
    const at = Date.now();
    const body = await readBody(req);
    g.arrivals.push({ at, body });
    const script = g.behaviour.fail?.[body];
    const failedSoFar = g.failed.get(body) ?? 0;
    if (script && failedSoFar < script.times) {
      g.failed.set(body, failedSoFar + 1);
      return finish(g, res, script.status);
    }
    if (g.behaviour.hold) {
      g.held.push(res);
      return;
    }
    return finish(g, res, 200);
  }
  if (kind === "_gate") {
    const text = await readBody(req);
    if (req.method === "PUT") {
      g.behaviour = JSON.parse(text) as Behaviour;
      return void res.writeHead(204).end();
    }
    if (req.method === "POST" && action === "release") {
      const held = g.held.splice(0);
      for (const r of held) finish(g, r, 200);
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ released: held.length }));
    }
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ arrivals: g.arrivals, open: g.open, max_open: g.max_open, held: g.held.length }));
  }
  res.writeHead(404).end();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  project.provide("gateUrl", `http://127.0.0.1:${port}`);
  return () =>
    new Promise<void>((resolve) => {
      for (const g of gates.values()) for (const r of g.held.splice(0)) r.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
