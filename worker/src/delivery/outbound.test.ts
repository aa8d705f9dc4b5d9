import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RESPONSE_BODY_CAP } from "../model/types.js";
import { createOutbound } from "./outbound.js";
import type { OutboundRequest, OutboundResult } from "./outbound.js";

interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const requests: Recorded[] = [];
const infiniteStream = { started: false, closed: false, bytesWritten: 0 };
let server: Server;
let base: string;
let port: number;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function writeForever(res: ServerResponse): void {
  infiniteStream.started = true;
  res.on("close", () => {
    infiniteStream.closed = true;
  });
  res.writeHead(200, { "content-type": "text/plain" });
  const chunk = Buffer.alloc(16 * 1024, "x");
  const pump = (): void => {
    while (!res.destroyed) {
      infiniteStream.bytesWritten += chunk.length;
      if (!res.write(chunk)) {
        res.once("drain", pump);
        return;
      }
    }
  };
  pump();
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://test");
  const body = await readBody(req);
  requests.push({ method: req.method ?? "", path: url.pathname + url.search, headers: req.headers, body });
  const param = (name: string): string => url.searchParams.get(name) ?? "";

  switch (url.pathname) {
    case "/ok":
      res.writeHead(200, { "content-type": "text/plain", "x-test": "yes" }).end("hello world");
      return;
    case "/echo":
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ method: req.method, body, headers: req.headers }));
      return;
    case "/delay":
      setTimeout(() => res.writeHead(200).end("late"), Number(param("ms")));
      return;
    case "/hang":
      return;
    case "/stall-body":
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial");
      return;
    case "/big":
      res.writeHead(200, { "content-type": "text/plain" }).end("a".repeat(Number(param("bytes"))));
      return;
    case "/infinite":
      writeForever(res);
      return;
    case "/euro":
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("aaa€bbb");
      return;
    case "/redirect":
      res.writeHead(Number(param("status") || "302"), { location: param("to") }).end("moving");
      return;
    case "/loop":
      res.writeHead(302, { location: "/loop" }).end();
      return;
    case "/no-location":
      res.writeHead(301).end("no location here");
      return;
    default:
      res.writeHead(404).end("not found");
  }
}

type FetchInput = Parameters<typeof fetch>[0];

/** Real HTTP to the local server while the guard sees public names, so blocking can be tested with allowPrivate=false. */
function publicNameFetch(calls: string[]): typeof fetch {
  return async (input: FetchInput, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    calls.push(url.toString());
    if (url.hostname !== "hooks.example.com" && url.hostname !== "other.example.com") {
      throw new Error(`test fetch asked for ${url.hostname}`);
    }
    const local = new URL(url.pathname + url.search, base);
    const headers = new Headers(init?.headers);
    headers.set("x-original-host", url.hostname);
    return fetch(local, { ...init, headers });
  };
}

function refusingFetch(calls: string[]): typeof fetch {
  return async (input: FetchInput): Promise<Response> => {
    calls.push(String(input));
    throw new Error("fetch must not be called");
  };
}

function request(overrides: Partial<OutboundRequest> & { url: string }): OutboundRequest {
  return { method: "POST", headers: {}, body: null, timeout_ms: 5_000, ...overrides };
}

function expectOk(result: OutboundResult) {
  if (!result.ok) throw new Error(`expected a response, got ${result.kind}: ${result.message}`);
  return result.response;
}

function expectFailure(result: OutboundResult) {
  if (result.ok) throw new Error(`expected a failure, got HTTP ${result.response.status}`);
  return result;
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  requests.length = 0;
});

const local = createOutbound({ fetch, allowPrivate: true });

describe("createOutbound: responses", () => {
  it("returns status, headers, body and latency", async () => {
    const response = expectOk(await local.send(request({ url: `${base}/ok`, method: "GET" })));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-test")).toBe("yes");
    expect(response.body).toBe("hello world");
    expect(response.truncated).toBe(false);
    expect(response.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("sends method, headers and body", async () => {
    const response = expectOk(
      await local.send(
        request({
          url: `${base}/echo`,
          method: "put",
          headers: { "content-type": "application/json", "x-custom": "1" },
          body: new TextEncoder().encode('{"a":1}'),
        }),
      ),
    );
    const echoed = JSON.parse(response.body) as { method: string; body: string; headers: Record<string, string> };
    expect(echoed.method).toBe("PUT");
    expect(echoed.body).toBe('{"a":1}');
    expect(echoed.headers["x-custom"]).toBe("1");
    expect(echoed.headers["content-type"]).toBe("application/json");
  });

  it("drops a body given with GET instead of failing", async () => {
    const response = expectOk(await local.send(request({ url: `${base}/echo`, method: "GET", body: "ignored" })));
    expect(JSON.parse(response.body)).toMatchObject({ method: "GET", body: "" });
  });

  it("measures latency across the whole exchange", async () => {
    const response = expectOk(await local.send(request({ url: `${base}/delay?ms=120`, method: "GET" })));
    expect(response.body).toBe("late");
    expect(response.latency_ms).toBeGreaterThanOrEqual(100);
  });

  it("uses the injected clock for latency", async () => {
    const ticks = [1_000, 1_250];
    const clocked = createOutbound({ fetch, allowPrivate: true, now: () => ticks.shift() ?? 1_250 });
    expect(expectOk(await clocked.send(request({ url: `${base}/ok`, method: "GET" }))).latency_ms).toBe(250);
  });
});

describe("createOutbound: timeouts", () => {
  it("times out while waiting for headers", async () => {
    const failure = expectFailure(await local.send(request({ url: `${base}/hang`, timeout_ms: 150 })));
    expect(failure.kind).toBe("timeout");
    expect(failure.message).toBe("timed out after 150 ms");
    expect(failure.latency_ms).toBeGreaterThanOrEqual(140);
  });

  it("times out while reading a stalled body", async () => {
    const failure = expectFailure(await local.send(request({ url: `${base}/stall-body`, timeout_ms: 150 })));
    expect(failure.kind).toBe("timeout");
  });
});

describe("createOutbound: response size cap", () => {
  it("cuts at RESPONSE_BODY_CAP by default", async () => {
    const response = expectOk(await local.send(request({ url: `${base}/big?bytes=100000`, method: "GET" })));
    expect(RESPONSE_BODY_CAP).toBe(4096);
    expect(response.body).toBe("a".repeat(RESPONSE_BODY_CAP));
    expect(response.truncated).toBe(true);
  });

  it("keeps a body exactly at the cap whole", async () => {
    const capped = createOutbound({ fetch, allowPrivate: true, maxResponseBytes: 1000 });
    const response = expectOk(await capped.send(request({ url: `${base}/big?bytes=1000`, method: "GET" })));
    expect(response.body.length).toBe(1000);
    expect(response.truncated).toBe(false);
  });

  it("cancels an endless stream after the cap", async () => {
    const capped = createOutbound({ fetch, allowPrivate: true, maxResponseBytes: 10 });
    const response = expectOk(await capped.send(request({ url: `${base}/infinite`, method: "GET", timeout_ms: 10_000 })));
    expect(response.body).toBe("xxxxxxxxxx");
    expect(response.truncated).toBe(true);
    await waitFor(() => infiniteStream.closed);
    expect(infiniteStream.started).toBe(true);
  });

  it("does not split a UTF-8 character at the cut", async () => {
    const capped = createOutbound({ fetch, allowPrivate: true, maxResponseBytes: 5 });
    const response = expectOk(await capped.send(request({ url: `${base}/euro`, method: "GET" })));
    expect(response.body).toBe("aaa");
    expect(response.truncated).toBe(true);
  });
});

describe("createOutbound: redirects", () => {
  it("303 turns POST into a body-less GET", async () => {
    const response = expectOk(
      await local.send(
        request({
          url: `${base}/redirect?status=303&to=/echo`,
          headers: { "content-type": "application/json", "x-custom": "kept" },
          body: '{"a":1}',
        }),
      ),
    );
    const echoed = JSON.parse(response.body) as { method: string; body: string; headers: Record<string, string> };
    expect(echoed.method).toBe("GET");
    expect(echoed.body).toBe("");
    expect(echoed.headers["content-type"]).toBeUndefined();
    expect(echoed.headers["x-custom"]).toBe("kept");
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /redirect?status=303&to=/echo", "GET /echo"]);
  });

  it.each([307, 308])("%i keeps method and body", async (status) => {
    const response = expectOk(
      await local.send(
        request({ url: `${base}/redirect?status=${status}&to=/echo`, method: "PATCH", body: "same body" }),
      ),
    );
    expect(JSON.parse(response.body)).toMatchObject({ method: "PATCH", body: "same body" });
  });

  it("302 turns POST into GET like browsers do", async () => {
    const response = expectOk(await local.send(request({ url: `${base}/redirect?status=302&to=/echo`, body: "x" })));
    expect(JSON.parse(response.body)).toMatchObject({ method: "GET", body: "" });
  });

  it("stops after maxRedirects", async () => {
    const outbound = createOutbound({ fetch, allowPrivate: true, maxRedirects: 3 });
    const failure = expectFailure(await outbound.send(request({ url: `${base}/loop`, method: "GET" })));
    expect(failure.kind).toBe("too_many_redirects");
    expect(failure.message).toBe("more than 3 redirects");
    expect(requests.length).toBe(4);
  });

  it("returns a 3xx without Location as a response", async () => {
    const response = expectOk(await local.send(request({ url: `${base}/no-location`, method: "GET" })));
    expect(response.status).toBe(301);
    expect(response.body).toBe("no location here");
  });

  it("rejects a redirect to a non-http scheme", async () => {
    const failure = expectFailure(
      await local.send(request({ url: `${base}/redirect?to=${encodeURIComponent("file:///etc/passwd")}` })),
    );
    expect(failure.kind).toBe("invalid_url");
  });
});

describe("createOutbound: SSRF guard (allowPrivate=false)", () => {
  it.each([
    "http://127.0.0.1/ok",
    "http://localhost:8080/ok",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://[::1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
  ])("refuses %s without calling fetch", async (url) => {
    const calls: string[] = [];
    const outbound = createOutbound({ fetch: refusingFetch(calls), allowPrivate: false });
    const failure = expectFailure(await outbound.send(request({ url })));
    expect(failure.kind).toBe("blocked_address");
    expect(calls).toEqual([]);
  });

  it("follows a same-site relative redirect on a public name", async () => {
    const calls: string[] = [];
    const outbound = createOutbound({ fetch: publicNameFetch(calls), allowPrivate: false });
    const response = expectOk(
      await outbound.send(request({ url: "http://hooks.example.com/redirect?status=307&to=/echo", body: "b" })),
    );
    expect(JSON.parse(response.body)).toMatchObject({ method: "POST", body: "b" });
    expect(calls).toEqual(["http://hooks.example.com/redirect?status=307&to=/echo", "http://hooks.example.com/echo"]);
  });

  it.each([
    `http://127.0.0.1:PORT/echo`,
    "http://2130706433/echo",
    "http://[::ffff:a9fe:a9fe]/latest",
    "http://localhost/echo",
    "http://10.1.2.3/echo",
  ])("refuses a redirect hop to %s", async (target) => {
    const calls: string[] = [];
    const outbound = createOutbound({ fetch: publicNameFetch(calls), allowPrivate: false });
    const location = encodeURIComponent(target.replace("PORT", String(port)));
    const failure = expectFailure(
      await outbound.send(request({ url: `http://hooks.example.com/redirect?status=302&to=${location}` })),
    );
    expect(failure.kind).toBe("blocked_address");
    expect(calls.length).toBe(1);
    expect(requests.map((r) => r.path)).toEqual([`/redirect?status=302&to=${location}`]);
  });

  it("drops credentials on a cross-origin hop but keeps other headers", async () => {
    const calls: string[] = [];
    const outbound = createOutbound({ fetch: publicNameFetch(calls), allowPrivate: false });
    const to = encodeURIComponent("http://other.example.com/echo");
    const response = expectOk(
      await outbound.send(
        request({
          url: `http://hooks.example.com/redirect?status=307&to=${to}`,
          headers: { authorization: "Bearer s3cret", "x-custom": "kept" },
        }),
      ),
    );
    const echoed = JSON.parse(response.body) as { headers: Record<string, string> };
    expect(echoed.headers["x-original-host"]).toBe("other.example.com");
    expect(echoed.headers.authorization).toBeUndefined();
    expect(echoed.headers["x-custom"]).toBe("kept");
    expect(requests[0]?.headers.authorization).toBe("Bearer s3cret");
  });
});

describe("createOutbound: expected failures are values", () => {
  it.each([
    ["not a url", "invalid URL"],
    ["ftp://example.com/file", "unsupported protocol ftp:"],
    ["javascript:alert(1)", "unsupported protocol javascript:"],
    ["http://user:pw@example.com/", "URL must not contain credentials"],
  ])("%s → invalid_url", async (url, message) => {
    const calls: string[] = [];
    const outbound = createOutbound({ fetch: refusingFetch(calls), allowPrivate: false });
    const failure = expectFailure(await outbound.send(request({ url })));
    expect(failure).toMatchObject({ kind: "invalid_url", message });
    expect(calls).toEqual([]);
  });

  it("reports a closed port as a short network error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const failure = expectFailure(await local.send(request({ url: `http://127.0.0.1:${closedPort}/` })));
    expect(failure.kind).toBe("network");
    expect(failure.message).toContain("ECONNREFUSED");
    expect(failure.message).not.toContain("\n");
    expect(failure.message.length).toBeLessThanOrEqual(200);
  });

  it("refuses an invalid header without echoing its value", async () => {
    const failure = expectFailure(
      await local.send(request({ url: `${base}/ok`, headers: { "x-token": "abc\r\nInjected: yes" } })),
    );
    expect(failure).toMatchObject({ kind: "network", message: "invalid request header" });
    expect(requests).toEqual([]);
  });

  it("does not throw when fetch throws a non-Error", async () => {
    const outbound = createOutbound({
      fetch: async () => {
        throw "boom";
      },
      allowPrivate: true,
    });
    expect(expectFailure(await outbound.send(request({ url: `${base}/ok` })))).toMatchObject({
      kind: "network",
      message: "boom",
    });
  });
});
