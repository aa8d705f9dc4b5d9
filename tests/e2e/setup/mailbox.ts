// A stand-in for Resend's HTTP API on loopback, for e2e tests: `POST /emails` records the
// message (and answers like Resend: `{ id }`), `GET /_messages?to=<email>` lists what arrived.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface CaughtEmail {
  id: string;
  authorization: string | undefined;
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export interface Mailbox {
  url: string;
  close(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const caught: CaughtEmail[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (req.method === "POST" && url.pathname === "/emails") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Omit<CaughtEmail, "id" | "authorization">;
        const id = `re_${caught.length + 1}`;
        caught.push({ id, authorization: req.headers.authorization, from: body.from, to: body.to, subject: body.subject, text: body.text });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id }));
        return;
      }
      if (req.method === "GET" && url.pathname === "/_messages") {
        const to = url.searchParams.get("to");
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(caught.filter((m) => !to || m.to.includes(to))));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The messages the mailbox caught for `to` (fetched over HTTP: tests run outside the setup process). */
export async function messagesFor(mailboxUrl: string, to: string): Promise<CaughtEmail[]> {
  const res = await fetch(`${mailboxUrl}/_messages?to=${encodeURIComponent(to)}`);
  return (await res.json()) as CaughtEmail[];
}
