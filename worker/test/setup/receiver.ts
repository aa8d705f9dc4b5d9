import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

/**
 * A real HTTP receiver on 127.0.0.1 for delivery tests. workerd runs as a child process,
 * so the scheduler's outbound fetch reaches this server over loopback.
 *
 * - `ANY /hook/<name>[/...]`: records the request and answers with <name>'s behaviour (default 200 "ok").
 * - `PUT /_control/<name>`: sets the behaviour `{ status, body, body_bytes, headers }`.
 * - `GET /_control/<name>`: `{ requests: [{ method, path, headers, body_base64 }] }`.
 */
interface Behaviour {
  status: number;
  body?: string;
  /** Answer with this many bytes of "x" instead of `body`. */
  body_bytes?: number;
  headers?: Record<string, string>;
}

interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body_base64: string;
}

const behaviours = new Map<string, Behaviour>();
const requests = new Map<string, Recorded[]>();

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const [, kind, name] = url.pathname.split("/");
  const body = await readBody(req);
  if (kind === "_control" && name) {
    if (req.method === "PUT") {
      behaviours.set(name, JSON.parse(body.toString("utf8")) as Behaviour);
      return json(res, 204, null);
    }
    return json(res, 200, { requests: requests.get(name) ?? [] });
  }
  if (kind === "hook" && name) {
    const list = requests.get(name) ?? [];
    list.push({ method: req.method ?? "", path: url.pathname + url.search, headers: req.headers, body_base64: body.toString("base64") });
    requests.set(name, list);
    const b = behaviours.get(name) ?? { status: 200, body: "ok" };
    res.writeHead(b.status, { "content-type": "text/plain", ...b.headers });
    res.end(b.body_bytes !== undefined ? "x".repeat(b.body_bytes) : (b.body ?? ""));
    return;
  }
  json(res, 404, { error: "no such receiver route" });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => json(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  project.provide("receiverUrl", `http://127.0.0.1:${port}`);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
