import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOutbound } from "../../delivery/outbound.js";
import type { DeliveryResult } from "../../delivery/result.js";
import { decodeSigningSecret, generateSigningSecret } from "../../delivery/signing.js";
import { classifyStatus, httpConfigSchema, httpDestination, parseRetryAfter, USER_AGENT } from "./http.js";
import type { HttpConfig } from "./http.js";
import type { DeliverContext, DeliveryPayload } from "./types.js";

type ResultWithoutLatency = DeliveryResult extends infer R ? (R extends unknown ? Omit<R, "latency_ms"> : never) : never;

interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

const requests: Recorded[] = [];
let server: Server;
let base: string;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers[name] = value;
  }
  requests.push({ method: req.method ?? "", path: req.url ?? "", headers, body: Buffer.concat(chunks).toString("utf8") });

  const url = new URL(req.url ?? "/", "http://test");
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (status?.[1] !== undefined) {
    const retryAfter = url.searchParams.get("retry_after");
    res.writeHead(Number(status[1]), retryAfter === null ? {} : { "retry-after": retryAfter });
    res.end(`status ${status[1]}`);
    return;
  }
  if (url.pathname === "/hook") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
    return;
  }
  if (url.pathname === "/moved") {
    res.writeHead(301, { location: "/hook" }).end();
    return;
  }
  if (url.pathname === "/hang") return;
  res.writeHead(404).end("not found");
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  requests.length = 0;
});

const BODY = '{"type":"order.created","data":{"id":"ord_1","total":4200}}';
const SECRET = generateSigningSecret();
const CONFIG_HEADER_VALUE = "Bearer config-token-9f8e7d";

function payload(overrides: Partial<DeliveryPayload> = {}): DeliveryPayload {
  return {
    delivery_id: "dlv_0123abcd",
    event_id: "evt_0123abcd",
    source_id: "src_0123abcd",
    connection_id: "con_0123abcd",
    destination_id: "dst_0123abcd",
    attempt_number: 3,
    method: "POST",
    headers: {
      "x-github-event": "push",
      "x-shared": "from-event",
      "content-type": "text/plain",
      "webhook-signature": "v1,upstream-signature",
      "x-hookstream-event-id": "evt_spoofed",
    },
    query: { page: "2" },
    body: new TextEncoder().encode(BODY),
    content_type: "application/json",
    ...overrides,
  };
}

function config(overrides: Partial<HttpConfig> & { url: string }): HttpConfig {
  return httpConfigSchema.parse({ signing_secret: SECRET, ...overrides });
}

function ctx(opts: { allowPrivate?: boolean; now?: () => number } = {}): DeliverContext {
  return {
    outbound: createOutbound({ fetch, allowPrivate: opts.allowPrivate ?? true }),
    now: opts.now ?? Date.now,
  };
}

function onlyRequest(): Recorded {
  expect(requests.length).toBe(1);
  const first = requests[0];
  if (first === undefined) throw new Error("no request recorded");
  return first;
}

function withoutLatency(result: DeliveryResult): ResultWithoutLatency {
  const { latency_ms: latency, ...rest } = result;
  expect(latency).toBeGreaterThanOrEqual(0);
  return rest;
}

describe("httpDestination.deliver: the request", () => {
  it("sends the body with merged headers and a verifiable Standard Webhooks signature", async () => {
    const result = await httpDestination.deliver(
      payload(),
      config({ url: `${base}/hook`, headers: { "X-Shared": "from-config", authorization: CONFIG_HEADER_VALUE } }),
      ctx(),
    );

    expect(withoutLatency(result)).toEqual({ kind: "delivered", status_code: 200, response_body: '{"received":true}' });
    const sent = onlyRequest();
    expect(sent.method).toBe("POST");
    expect(sent.path).toBe("/hook?page=2");
    expect(sent.body).toBe(BODY);
    expect(sent.headers).toMatchObject({
      "x-github-event": "push",
      "x-shared": "from-config",
      authorization: CONFIG_HEADER_VALUE,
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      "x-hookstream-event-id": "evt_0123abcd",
      "x-hookstream-source-id": "src_0123abcd",
      "x-hookstream-attempt": "3",
      "webhook-id": "dlv_0123abcd",
    });
    expect(USER_AGENT).toBe("hookstream/0.1");
    expect(sent.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(Number(sent.headers["webhook-timestamp"])).toBeCloseTo(Date.now() / 1000, -1);
    expect(new Webhook(SECRET).verify(sent.body, sent.headers)).toEqual(JSON.parse(BODY));
  });

  it("defaults content-type to application/json and keeps a given one", async () => {
    await httpDestination.deliver(payload({ content_type: null }), config({ url: `${base}/hook` }), ctx());
    await httpDestination.deliver(
      payload({ content_type: "application/x-www-form-urlencoded" }),
      config({ url: `${base}/hook` }),
      ctx(),
    );
    expect(requests.map((r) => r.headers["content-type"])).toEqual([
      "application/json",
      "application/x-www-form-urlencoded",
    ]);
  });

  it("lets configured headers override the default content-type and user-agent", async () => {
    await httpDestination.deliver(
      payload(),
      config({ url: `${base}/hook`, headers: { "Content-Type": "application/cloudevents+json", "User-Agent": "acme-relay" } }),
      ctx(),
    );
    expect(onlyRequest().headers).toMatchObject({ "content-type": "application/cloudevents+json", "user-agent": "acme-relay" });
  });

  it("forwards the ingest query string unless told not to; the URL's own parameters win", async () => {
    await httpDestination.deliver(payload({ query: { page: "2", token: "from-event" } }), config({ url: `${base}/hook?token=fixed` }), ctx());
    await httpDestination.deliver(payload({ query: { page: "2" } }), config({ url: `${base}/hook`, forward_query: false }), ctx());
    expect(requests.map((r) => r.path)).toEqual(["/hook?token=fixed&page=2", "/hook"]);
  });

  it("keeps webhook-id stable across attempts of one delivery", async () => {
    const cfg = config({ url: `${base}/hook` });
    await httpDestination.deliver(payload({ attempt_number: 1 }), cfg, ctx());
    await httpDestination.deliver(payload({ attempt_number: 2 }), cfg, ctx());
    expect(requests.map((r) => r.headers["webhook-id"])).toEqual(["dlv_0123abcd", "dlv_0123abcd"]);
    expect(requests.map((r) => r.headers["x-hookstream-attempt"])).toEqual(["1", "2"]);
  });

  it.each(["GET", "DELETE"] as const)("%s sends no body and signs the empty body", async (method) => {
    const result = await httpDestination.deliver(payload(), config({ url: `${base}/hook`, method }), ctx());
    expect(result.kind).toBe("delivered");
    const sent = onlyRequest();
    expect(sent.method).toBe(method);
    expect(sent.body).toBe("");
    expect(sent.headers["content-type"]).toBeUndefined();
    expect(() => new Webhook(SECRET).verify("", sent.headers)).not.toThrow();
    expect(() => new Webhook(SECRET).verify(BODY, sent.headers)).toThrow();
  });

  it.each(["PUT", "PATCH"] as const)("%s sends the body", async (method) => {
    await httpDestination.deliver(payload(), config({ url: `${base}/hook`, method }), ctx());
    expect(onlyRequest()).toMatchObject({ method, body: BODY });
  });

  it("sends no signature headers when the config has no secret", async () => {
    const cfg = httpConfigSchema.parse({ url: `${base}/hook` });
    await httpDestination.deliver(payload(), cfg, ctx());
    const sent = onlyRequest();
    expect(sent.headers["webhook-id"]).toBeUndefined();
    expect(sent.headers["webhook-signature"]).toBeUndefined();
    expect(sent.headers["x-hookstream-event-id"]).toBe("evt_0123abcd");
  });
});

describe("httpDestination.deliver: classification", () => {
  const NOW = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  const IN_90_S = "Wed, 21 Oct 2015 07:29:30 GMT";

  const table: ReadonlyArray<readonly [path: string, expected: ResultWithoutLatency]> = [
    ["/status/200", { kind: "delivered", status_code: 200, response_body: "status 200" }],
    ["/status/201", { kind: "delivered", status_code: 201, response_body: "status 201" }],
    ["/moved", { kind: "delivered", status_code: 200, response_body: '{"received":true}' }],
    ["/status/301", { kind: "permanent", error: "HTTP 301 Moved Permanently", status_code: 301, response_body: "status 301" }],
    ["/status/400", { kind: "permanent", error: "HTTP 400 Bad Request", status_code: 400, response_body: "status 400" }],
    ["/status/404", { kind: "permanent", error: "HTTP 404 Not Found", status_code: 404, response_body: "status 404" }],
    ["/status/409", { kind: "permanent", error: "HTTP 409 Conflict", status_code: 409, response_body: "status 409" }],
    ["/status/408", { kind: "retryable", error: "HTTP 408 Request Timeout", status_code: 408, response_body: "status 408" }],
    [
      "/status/429?retry_after=120",
      { kind: "retryable", error: "HTTP 429 Too Many Requests", retry_after_ms: 120_000, status_code: 429, response_body: "status 429" },
    ],
    ["/status/429", { kind: "retryable", error: "HTTP 429 Too Many Requests", status_code: 429, response_body: "status 429" }],
    ["/status/500", { kind: "retryable", error: "HTTP 500 Internal Server Error", status_code: 500, response_body: "status 500" }],
    [
      `/status/503?retry_after=${encodeURIComponent(IN_90_S)}`,
      { kind: "retryable", error: "HTTP 503 Service Unavailable", retry_after_ms: 90_000, status_code: 503, response_body: "status 503" },
    ],
    ["/status/599", { kind: "retryable", error: "HTTP 599", status_code: 599, response_body: "status 599" }],
  ];

  it.each(table)("%s", async (path, expected) => {
    const result = await httpDestination.deliver(payload(), config({ url: `${base}${path}` }), ctx({ now: () => NOW }));
    expect(withoutLatency(result)).toEqual(expected);
  });

  it("applies configured overrides before the defaults", async () => {
    const cfg = config({
      url: `${base}/status/409`,
      retryable_status_codes: [409, 404],
      permanent_status_codes: [503],
    });
    const conflict = await httpDestination.deliver(payload(), cfg, ctx());
    const unavailable = await httpDestination.deliver(payload(), { ...cfg, url: `${base}/status/503` }, ctx());
    const notFound = await httpDestination.deliver(payload(), { ...cfg, url: `${base}/status/404` }, ctx());
    const serverError = await httpDestination.deliver(payload(), { ...cfg, url: `${base}/status/500` }, ctx());
    expect([conflict.kind, unavailable.kind, notFound.kind, serverError.kind]).toEqual([
      "retryable",
      "permanent",
      "retryable",
      "retryable",
    ]);
  });

  it("a timeout is retryable", async () => {
    const result = await httpDestination.deliver(payload(), config({ url: `${base}/hang`, timeout_ms: 100 }), ctx());
    expect(result).toMatchObject({ kind: "retryable", error: "timed out after 100 ms", status_code: null, response_body: null });
    expect(result.latency_ms).toBeGreaterThanOrEqual(90);
  });

  it("a refused connection is retryable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const result = await httpDestination.deliver(payload(), config({ url: `http://127.0.0.1:${port}/` }), ctx());
    expect(result.kind).toBe("retryable");
    if (result.kind !== "retryable") return;
    expect(result.error).toMatch(/^network error: .*ECONNREFUSED/);
    expect(result.status_code).toBeNull();
  });

  it("a private address is permanent when the guard is on", async () => {
    const result = await httpDestination.deliver(payload(), config({ url: `${base}/hook` }), ctx({ allowPrivate: false }));
    expect(withoutLatency(result)).toEqual({
      kind: "permanent",
      error: "address not allowed: 127.0.0.1",
      status_code: null,
      response_body: null,
    });
    expect(requests).toEqual([]);
  });

  it("never puts the secret or header values in the error", async () => {
    const cfg = config({ url: `${base}/status/503`, headers: { authorization: CONFIG_HEADER_VALUE } });
    const results = [
      await httpDestination.deliver(payload(), cfg, ctx()),
      await httpDestination.deliver(payload(), { ...cfg, url: `${base}/status/401` }, ctx()),
      await httpDestination.deliver(payload(), { ...cfg, url: `${base}/hang`, timeout_ms: 100 }, ctx()),
    ];
    for (const result of results) {
      expect(result.kind).not.toBe("delivered");
      if (result.kind === "delivered") continue;
      expect(result.error).not.toContain(SECRET.slice(6, 20));
      expect(result.error).not.toContain("config-token");
      expect(result.error.length).toBeLessThan(80);
    }
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2024-01-01T00:00:00Z");
  it.each([
    ["0", 0],
    ["120", 120_000],
    [" 7 ", 7_000],
    ["Mon, 01 Jan 2024 00:01:00 GMT", 60_000],
    ["Sun, 31 Dec 2023 23:00:00 GMT", 0],
    ["-5", undefined],
    ["1.5", undefined],
    ["soon", undefined],
    ["", undefined],
  ] as const)("%j → %s", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it("is undefined without a header", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("classifyStatus", () => {
  it.each([
    [200, "delivered"],
    [204, "delivered"],
    [302, "permanent"],
    [401, "permanent"],
    [410, "permanent"],
    [408, "retryable"],
    [429, "retryable"],
    [502, "retryable"],
  ] as const)("%i → %s", (status, expected) => {
    expect(classifyStatus(status, {})).toBe(expected);
  });
});

describe("httpConfigSchema", () => {
  it("applies defaults", () => {
    expect(httpConfigSchema.parse({ url: "https://example.com/hooks" })).toEqual({
      url: "https://example.com/hooks",
      method: "POST",
      timeout_ms: 30_000,
      forward_query: true,
    });
  });

  it("accepts a full config", () => {
    const full = {
      url: "http://example.com:8080/in?x=1",
      method: "PUT",
      headers: { authorization: "Bearer t", "X-Api-Key": "k" },
      timeout_ms: 100,
      forward_query: false,
      signing_secret: SECRET,
      permanent_status_codes: [503],
      retryable_status_codes: [409],
    };
    expect(httpConfigSchema.parse(full)).toEqual(full);
  });

  it.each([
    ["unknown key", { url: "https://example.com", extra: true }],
    ["missing url", {}],
    ["ftp url", { url: "ftp://example.com/x" }],
    ["relative url", { url: "/hooks" }],
    ["credentials in url", { url: "https://user:pw@example.com/" }],
    ["method HEAD", { url: "https://example.com", method: "HEAD" }],
    ["timeout too small", { url: "https://example.com", timeout_ms: 99 }],
    ["timeout too big", { url: "https://example.com", timeout_ms: 60_001 }],
    ["timeout not integer", { url: "https://example.com", timeout_ms: 1000.5 }],
    ["host header", { url: "https://example.com", headers: { Host: "internal" } }],
    ["content-length header", { url: "https://example.com", headers: { "content-length": "1" } }],
    ["transfer-encoding header", { url: "https://example.com", headers: { "Transfer-Encoding": "chunked" } }],
    ["connection header", { url: "https://example.com", headers: { connection: "close" } }],
    ["webhook-signature header", { url: "https://example.com", headers: { "Webhook-Signature": "v1,x" } }],
    ["webhook-id header", { url: "https://example.com", headers: { "webhook-id": "x" } }],
    ["x-hookstream header", { url: "https://example.com", headers: { "x-hookstream-attempt": "1" } }],
    ["header with CRLF", { url: "https://example.com", headers: { "x-a": "b\r\nc: d" } }],
    ["bad header name", { url: "https://example.com", headers: { "x a": "b" } }],
    ["secret without prefix", { url: "https://example.com", signing_secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }],
    ["secret too short", { url: "https://example.com", signing_secret: "whsec_AAAAAAAAAAAAAAAAAAAAAA==" }],
    ["secret too long", { url: "https://example.com", signing_secret: `whsec_${btoa("a".repeat(65))}` }],
    ["secret not base64", { url: "https://example.com", signing_secret: "whsec_!!!!" }],
    ["status code out of range", { url: "https://example.com", permanent_status_codes: [200] }],
    ["status code in both lists", { url: "https://example.com", permanent_status_codes: [409], retryable_status_codes: [409] }],
  ])("rejects %s", (_label, input) => {
    expect(httpConfigSchema.safeParse(input).success).toBe(false);
  });

  it("accepts secrets of 24 and 64 bytes", () => {
    for (const bytes of [24, 64]) {
      const secret = `whsec_${btoa("k".repeat(bytes))}`;
      expect(httpConfigSchema.safeParse({ url: "https://example.com", signing_secret: secret }).success).toBe(true);
    }
  });
});

describe("httpDestination metadata and prepare", () => {
  it("declares its type and secret fields", () => {
    expect(httpDestination.type).toBe("http");
    expect(httpDestination.secretFields).toEqual(["signing_secret"]);
  });

  it("generates a signing secret when absent", async () => {
    const prepared = await httpDestination.prepare?.(httpConfigSchema.parse({ url: "https://example.com" }));
    expect(prepared?.signing_secret).toMatch(/^whsec_/);
    expect(decodeSigningSecret(prepared?.signing_secret ?? "")?.length).toBe(32);
    expect(httpConfigSchema.parse(prepared)).toEqual(prepared);
  });

  it("keeps an existing signing secret", async () => {
    const cfg = httpConfigSchema.parse({ url: "https://example.com", signing_secret: SECRET });
    expect((await httpDestination.prepare?.(cfg))?.signing_secret).toBe(SECRET);
  });
});
