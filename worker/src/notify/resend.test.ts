import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutbound } from "../delivery/outbound.js";
import { resendSender } from "./resend.js";
import { logSender } from "./sender.js";

/** A stand-in for Resend's `POST /emails` on loopback that records what it was sent. */
let server: http.Server;
let base: string;
const seen: { path: string; auth: string | undefined; body: Record<string, unknown> }[] = [];
let reply: { status: number; body: string } = { status: 200, body: '{"id":"re_123"}' };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ path: req.url ?? "", auth: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown> });
      res.writeHead(reply.status, { "content-type": "application/json" });
      res.end(reply.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const outbound = (allowPrivate: boolean) => createOutbound({ fetch: (i, init) => fetch(i, init), allowPrivate });

describe("resend sender", () => {
  it("posts the message to {base}/emails with the API key", async () => {
    const sender = resendSender({ apiKey: "re_key", baseUrl: `${base}/`, from: "hs <a@b.c>", outbound: outbound(true) });
    const result = await sender.send({ to: "x@example.com", subject: "Hi", text: "body" });
    expect(result).toEqual({ ok: true, id: "re_123" });
    expect(seen.at(-1)).toEqual({ path: "/emails", auth: "Bearer re_key", body: { from: "hs <a@b.c>", to: ["x@example.com"], subject: "Hi", text: "body" } });
  });

  it("reports a refusal instead of throwing", async () => {
    reply = { status: 422, body: '{"message":"invalid from"}' };
    const sender = resendSender({ apiKey: "re_key", baseUrl: base, from: "x", outbound: outbound(true) });
    const result = await sender.send({ to: "x@example.com", subject: "Hi", text: "body" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/422/);
    reply = { status: 200, body: '{"id":"re_123"}' };
  });

  it("goes through the SSRF guard: a loopback base URL is refused in production", async () => {
    const before = seen.length;
    const result = await resendSender({ apiKey: "k", baseUrl: base, from: "x", outbound: outbound(false) }).send({ to: "a@b.c", subject: "s", text: "t" });
    expect(result.ok).toBe(false);
    expect(seen.length).toBe(before);
  });

  it("logs instead of sending without an API key", async () => {
    const lines: unknown[] = [];
    const result = await logSender((line, data) => lines.push({ line, data })).send({ to: "a@b.c", subject: "s", text: "t" });
    expect(result).toEqual({ ok: true, id: null });
    expect(JSON.stringify(lines)).toContain("a@b.c");
  });
});
