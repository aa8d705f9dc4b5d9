// One conformance suite every destination provider passes, each against its real peer (HTTP: a local
// receiver; SQS/S3/EventBridge: moto with signature checking on; Pub/Sub: the emulator plus a local token
// endpoint that verifies the JWT; RabbitMQ: a real broker; Kafka: the REST Proxy contract fake).
// Adding a provider = adding one row to ROWS.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLocalJWKSet, exportJWK, importSPKI, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { sealConfig } from "../../src/api/destination-config.js";
import { createOutbound } from "../../src/delivery/outbound.js";
import type { DeliveryResult } from "../../src/delivery/result.js";
import { clearTokenCache, PUBSUB_SCOPE } from "../../src/lib/gcp-token.js";
import type { DestinationType } from "../../src/model/types.js";
import { getProvider } from "../../src/providers/destinations/registry.js";
import type { DeliveryPayload } from "../../src/providers/destinations/types.js";
import { Aws, kafkaRecords, Pubsub, Rabbit } from "./clients.js";

const peers = inject("peers");
const aws = new Aws(peers.moto);
const pubsub = new Pubsub(peers.pubsub);
const rabbit = new Rabbit(peers.rabbitmq);
const ENCRYPTION_KEY = randomBytes(32).toString("base64");

// ---- local helpers: an HTTP receiver, a hanging server, a closed port, a verifying OAuth token endpoint ----

const received: Array<{ path: string; body: string }> = [];
const tokenRequests: Array<{ ok: boolean; claims?: Record<string, unknown> }> = [];
let local: Server;
let localUrl = "";
let closedUrl = "";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
const otherPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
function serviceAccount(pem: string): string {
  return JSON.stringify({ type: "service_account", project_id: peers.pubsub.project_id, private_key_id: "kid-1", private_key: pem, client_email: "hookstream@hookstream-test.iam.gserviceaccount.com", token_uri: `${localUrl}/token` });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

beforeAll(async () => {
  const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(await importSPKI(publicPem, "RS256"))), kid: "kid-1", alg: "RS256" }] });
  local = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? "/", "http://local");
      if (url.pathname.startsWith("/hang")) return; // never answers
      if (url.pathname === "/token") {
        // Verifies what Google's token endpoint verifies: the RS256 signature, iss/sub/aud/scope, iat/exp.
        const form = new URLSearchParams(body);
        try {
          if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") throw new Error("grant_type");
          const { payload } = await jwtVerify(form.get("assertion") ?? "", jwks, { audience: `${localUrl}/token`, algorithms: ["RS256"] });
          if (payload.iss !== "hookstream@hookstream-test.iam.gserviceaccount.com" || payload.sub !== payload.iss) throw new Error("iss");
          if (payload.scope !== PUBSUB_SCOPE || (payload.exp ?? 0) - (payload.iat ?? 0) > 3600) throw new Error("claims");
          tokenRequests.push({ ok: true, claims: payload as Record<string, unknown> });
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: `ya29.${randomBytes(8).toString("hex")}`, expires_in: 3599, token_type: "Bearer" }));
        } catch {
          tokenRequests.push({ ok: false });
          res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_grant", error_description: "Invalid JWT Signature." }));
        }
        return;
      }
      const status = /^\/status\/(\d{3})/.exec(url.pathname)?.[1];
      if (status !== undefined) {
        res.writeHead(Number(status)).end(`status ${status}`);
        return;
      }
      if (url.pathname.startsWith("/s3-too-large/")) {
        res.writeHead(400, { "content-type": "application/xml" }).end("<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>");
        return;
      }
      received.push({ path: url.pathname, body });
      res.writeHead(200).end("ok");
    })();
  });
  await new Promise<void>((resolve) => local.listen(0, "127.0.0.1", resolve));
  localUrl = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});

afterAll(async () => {
  local.closeAllConnections();
  await new Promise<void>((resolve) => local.close(() => resolve()));
});

// ---- the table ----

type Config = Record<string, unknown>;
interface Setup {
  config: Config;
  /** What arrived at the peer, as the body text the producer sent. */
  read(): Promise<string[]>;
}
interface Row {
  type: DestinationType;
  label?: string;
  setup(name: string): Promise<Setup>;
  /** A config that fails in a way worth retrying (at the real peer where one can fail that way). */
  retryable(config: Config, name: string): Promise<Config> | Config;
  permanent(config: Config, name: string): Promise<Config> | Config;
  /** The config with its endpoint pointing at `url` (used for timeout, closed port and SSRF checks). */
  pointAt(config: Config, url: string): Config;
  /** Body size over the provider's limit, or a config whose peer answers "too large" for a small body. */
  oversize: { bytes: number } | { config(config: Config): Config };
  /** The config with a wrong credential; `secret` must not appear in any output. */
  wrongCredential(config: Config): Config;
  secrets(config: Config): string[];
}

const awsBase = () => ({ endpoint: peers.moto.endpoint, region: peers.moto.region, access_key_id: peers.moto.access_key_id, secret_access_key: peers.moto.secret_access_key });
const wrongAws = (c: Config) => ({ ...c, secret_access_key: `wrong${peers.moto.secret_access_key.slice(5)}` });

const ROWS: Row[] = [
  {
    type: "http",
    async setup(name) {
      return { config: { url: `${localUrl}/in/${name}`, headers: { authorization: "Bearer http-token-4f9a2b" } }, read: async () => received.filter((r) => r.path === `/in/${name}`).map((r) => r.body) };
    },
    retryable: (c) => ({ ...c, url: `${localUrl}/status/503` }),
    permanent: (c) => ({ ...c, url: `${localUrl}/status/400` }),
    pointAt: (c, url) => ({ ...c, url: `${url}/x` }),
    oversize: { config: (c) => ({ ...c, url: `${localUrl}/status/413` }) },
    wrongCredential: (c) => ({ ...c, url: `${localUrl}/status/401` }),
    // Custom headers are visible config for HTTP (existing behaviour); the signing secret is the credential.
    secrets: (c) => [String(c.signing_secret)],
  },
  {
    type: "sqs",
    async setup(name) {
      const queue_url = await aws.createQueue(name);
      return { config: { queue_url, ...awsBase() }, read: async () => (await aws.receive(queue_url)).map((m) => m.Body) };
    },
    retryable: (c) => wrongAws(c),
    permanent: (c) => ({ ...c, queue_url: `${peers.moto.endpoint}/123456789012/no-such-queue` }),
    pointAt: (c, url) => ({ ...c, endpoint: url }),
    oversize: { bytes: 300_000 },
    wrongCredential: wrongAws,
    secrets: (c) => [String(c.secret_access_key)],
  },
  {
    type: "s3",
    async setup(name) {
      await aws.createBucket(name);
      const config = { bucket: name, ...awsBase(), key_template: "{source}/{yyyy}/{mm}/{dd}/{event_id}.json" };
      return {
        config,
        read: async () => Promise.all((await aws.listKeys(name)).map(async (key) => (await aws.getObject(name, key)).text())),
      };
    },
    retryable: (c) => wrongAws(c),
    permanent: (c) => ({ ...c, bucket: "no-such-bucket" }),
    pointAt: (c, url) => ({ ...c, endpoint: url }),
    oversize: { config: (c) => ({ ...c, endpoint: `${localUrl}/s3-too-large` }) },
    wrongCredential: wrongAws,
    secrets: (c) => [String(c.secret_access_key)],
  },
  {
    type: "eventbridge",
    async setup(name) {
      const queue = await aws.busToQueue(name, "hookstream.");
      const read = async () => (await aws.receive(queue)).map((m) => JSON.stringify((JSON.parse(m.Body) as { detail: unknown }).detail));
      return { config: { event_bus_name: name, ...awsBase() }, read };
    },
    retryable: (c) => wrongAws(c),
    permanent: (c) => ({ ...c, event_bus_name: "no-such-bus" }),
    pointAt: (c, url) => ({ ...c, endpoint: url }),
    oversize: { bytes: 300_000 },
    wrongCredential: wrongAws,
    secrets: (c) => [String(c.secret_access_key)],
  },
  {
    type: "pubsub",
    async setup(name) {
      const sub = await pubsub.topicWithSubscription(name);
      const config = { project_id: peers.pubsub.project_id, topic: name, endpoint: peers.pubsub.endpoint, service_account_json: serviceAccount(privatePem) };
      return { config, read: async () => (await pubsub.pull(sub)).map((m) => Buffer.from(m.data, "base64").toString("utf8")) };
    },
    retryable: (c) => ({ ...c, service_account_json: serviceAccount(otherPem) }),
    permanent: (c) => ({ ...c, topic: "no-such-topic" }),
    pointAt: (c, url) => ({ ...c, endpoint: url }),
    oversize: { bytes: 10_000_001 },
    wrongCredential: (c) => ({ ...c, service_account_json: serviceAccount(otherPem) }),
    secrets: (c) => [String(c.service_account_json), privatePem, otherPem],
  },
  ...(["v2", "v3"] as const).map(
    (api_version): Row => ({
      type: "kafka",
      label: `kafka ${api_version}`,
      async setup(name) {
        const config = { rest_url: peers.kafka.endpoint, topic: name, api_version, cluster_id: peers.kafka.cluster_id, username: peers.kafka.username, password: peers.kafka.password };
        return { config, read: async () => (await kafkaRecords(peers.kafka, name)).map((r) => JSON.stringify(r.value)) };
      },
      retryable: (c, name) => ({ ...c, topic: `fail-retriable-${name}` }),
      permanent: (c, name) => ({ ...c, topic: `fail-kafka-${name}` }),
      pointAt: (c, url) => ({ ...c, rest_url: url }),
      oversize: { bytes: 1_100_000 },
      wrongCredential: (c) => ({ ...c, password: "wrong-kafka-password-1" }),
      secrets: (c) => [String(c.password), "wrong-kafka-password-1"],
    }),
  ),
  {
    type: "rabbitmq",
    async setup(name) {
      await rabbit.queueBoundTo(name, `${name}-x`, "#");
      const config = { management_url: peers.rabbitmq.endpoint, exchange: `${name}-x`, username: peers.rabbitmq.username, password: peers.rabbitmq.password };
      return { config, read: async () => (await rabbit.get(name)).map((m) => (m.payload_encoding === "base64" ? Buffer.from(m.payload, "base64").toString("utf8") : m.payload)) };
    },
    // An exchange with no queue bound: RabbitMQ answers 200 {"routed":false}.
    async retryable(c, name) {
      await rabbit.declareExchange(`${name}-unbound`);
      return { ...c, exchange: `${name}-unbound` };
    },
    permanent: (c) => ({ ...c, exchange: "no-such-exchange" }),
    pointAt: (c, url) => ({ ...c, management_url: url }),
    oversize: { bytes: 10_485_761 },
    wrongCredential: (c) => ({ ...c, password: "wrong-rabbit-password-1" }),
    secrets: (c) => [String(c.password), "wrong-rabbit-password-1"],
  },
];

// ---- the suite ----

let counter = 0;
const unique = (type: string) => `hs-${type}-${Date.now().toString(36)}-${counter++}`;

function payload(body: string | Uint8Array = JSON.stringify({ type: "order.created", id: `ord_${counter}` })): DeliveryPayload {
  const id = `${Date.now().toString(16).padStart(12, "0")}${randomBytes(10).toString("hex")}`;
  return {
    delivery_id: `dlv_${id}`, event_id: `evt_${id}`, source_id: "src_0123456789abcdef0123456789abcdef", connection_id: "con_1", destination_id: "dst_1",
    attempt_number: 1, method: "POST", headers: { "content-type": "application/json" }, query: {},
    body: typeof body === "string" ? new TextEncoder().encode(body) : body, content_type: "application/json",
  };
}

async function deliver(row: Row, config: Config, p = payload(), allowPrivate = true): Promise<DeliveryResult> {
  const provider = getProvider(row.type);
  if (!provider) throw new Error(`no provider ${row.type}`);
  const prepared = provider.prepare ? await provider.prepare(config) : provider.configSchema.parse(config);
  return provider.deliver(p, prepared, { outbound: createOutbound({ fetch, allowPrivate }), now: Date.now });
}

async function eventually<T>(read: () => Promise<T[]>, count: number): Promise<T[]> {
  const all: T[] = [];
  for (let i = 0; i < 100 && all.length < count; i++) {
    all.push(...(await read()));
    if (all.length < count) await new Promise((r) => setTimeout(r, 100));
  }
  return all;
}

describe.each(ROWS.map((row) => [row.label ?? row.type, row] as const))("%s conformance", (_label, row) => {
  it("success: delivers, and the peer has exactly the body", async () => {
    const name = unique(row.type);
    const { config, read } = await row.setup(name);
    const body = JSON.stringify({ type: "order.created", id: name, total: 4200 });
    const result = await deliver(row, config, payload(body));
    expect(result).toMatchObject({ kind: "delivered" });
    expect(await eventually(read, 1)).toEqual([body]);
  });

  it("retryable failure", async () => {
    const name = unique(row.type);
    const { config } = await row.setup(name);
    const result = await deliver(row, await row.retryable(config, name));
    expect(result.kind).toBe("retryable");
    if (result.kind !== "delivered") expect(result.error).not.toBe("");
  });

  it("permanent failure", async () => {
    const name = unique(row.type);
    const { config } = await row.setup(name);
    const result = await deliver(row, await row.permanent(config, name));
    expect(result.kind).toBe("permanent");
  });

  it("timeout and a refused connection are retryable", async () => {
    const { config } = await row.setup(unique(row.type));
    const hang = await deliver(row, { ...row.pointAt(config, `${localUrl}/hang`), timeout_ms: 200 });
    expect(hang).toMatchObject({ kind: "retryable", error: "timed out after 200 ms", status_code: null });
    const refused = await deliver(row, row.pointAt(config, closedUrl));
    expect(refused).toMatchObject({ kind: "retryable", status_code: null });
  });

  it("oversize payload is a permanent failure", async () => {
    const name = unique(row.type);
    const { config, read } = await row.setup(name);
    const result =
      "bytes" in row.oversize
        ? await deliver(row, config, payload(JSON.stringify({ type: "big", pad: "x".repeat(row.oversize.bytes) })))
        : await deliver(row, row.oversize.config(config));
    expect(result.kind).toBe("permanent");
    if (result.kind === "permanent") expect(result.error).toMatch(/exceeds|too large|EntityTooLarge|413/i);
    expect(await read()).toEqual([]);
  });

  it("a wrong credential fails without ever echoing a secret; API output masks credentials", async () => {
    const { config } = await row.setup(unique(row.type));
    const wrong = row.wrongCredential(config);
    const result = await deliver(row, wrong);
    expect(result.kind).not.toBe("delivered");
    const provider = getProvider(row.type)!;
    const prepared = (provider.prepare ? await provider.prepare(wrong) : provider.configSchema.parse(wrong)) as Config;
    const secrets = row.secrets(prepared).filter((s) => s !== "undefined");
    expect(secrets.length).toBeGreaterThan(0);
    const text = JSON.stringify(result);
    for (const secret of secrets) expect(text).not.toContain(secret);

    const sealed = await sealConfig(provider, prepared, ENCRYPTION_KEY);
    const visible = JSON.stringify(sealed.visible);
    for (const secret of secrets) expect(visible).not.toContain(secret);
    for (const field of provider.secretFields) if (prepared[field] !== undefined) expect(sealed.visible[field]).toMatch(/^[a-z]*_?…/);
    expect(sealed.secrets).not.toBeNull();
  });

  it("outbound safety: a loopback endpoint is refused when private destinations are not allowed", async () => {
    const { config } = await row.setup(unique(row.type));
    for (const host of ["http://127.0.0.1:9", "http://[::ffff:127.0.0.1]:9", "http://169.254.169.254", "http://[::1]:9"]) {
      const result = await deliver(row, row.pointAt(config, host), payload(), false);
      expect(result).toMatchObject({ kind: "permanent", status_code: null });
      if (result.kind === "permanent") expect(result.error).toMatch(/^address not allowed/);
    }
  });
});

describe("sink specifics against the real peers", () => {
  it("SQS: message attributes carry the event id and type; FIFO gets group and dedup ids", async () => {
    const name = unique("sqs");
    const url = await aws.createQueue(`${name}.fifo`);
    const p = payload(JSON.stringify({ type: "invoice.paid" }));
    const result = await deliver(ROWS[1]!, { queue_url: url, ...awsBase() }, p);
    expect(result.kind).toBe("delivered");
    const [message] = await aws.receive(url);
    expect(message?.MessageAttributes?.["hookstream-event-id"]?.StringValue).toBe(p.event_id);
    expect(message?.MessageAttributes?.["hookstream-event-type"]?.StringValue).toBe("invoice.paid");
    expect(message?.Attributes?.MessageGroupId).toBe(p.source_id);
    expect(message?.Attributes?.MessageDeduplicationId).toBe(p.delivery_id);
  });

  it("SQS: a body that is not UTF-8 arrives base64, flagged by an attribute", async () => {
    const url = await aws.createQueue(unique("sqs"));
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x41]);
    expect((await deliver(ROWS[1]!, { queue_url: url, ...awsBase() }, payload(bytes))).kind).toBe("delivered");
    const [message] = await aws.receive(url);
    expect(Buffer.from(message!.Body, "base64")).toEqual(Buffer.from(bytes));
    expect(message?.MessageAttributes?.["hookstream-body-encoding"]?.StringValue).toBe("base64");
  });

  it("S3: the key follows the template and the content type is kept", async () => {
    const name = unique("s3");
    await aws.createBucket(name);
    const p = payload();
    expect((await deliver(ROWS[2]!, { bucket: name, ...awsBase(), key_template: "{source}/{yyyy}/{mm}/{dd}/{event_id}.json" }, p)).kind).toBe("delivered");
    const day = new Date(parseInt(p.event_id.slice(4, 16), 16)).toISOString().slice(0, 10).replace(/-/g, "/");
    const key = `${p.source_id}/${day}/${p.event_id}.json`;
    expect(await aws.listKeys(name)).toEqual([key]);
    const object = await aws.getObject(name, key);
    expect(object.headers.get("content-type")).toBe("application/json");
    expect(object.headers.get("x-amz-meta-hookstream-event-id")).toBe(p.event_id);
  });

  it("EventBridge: source and detail-type come from the templates", async () => {
    const name = unique("eb");
    const queue = await aws.busToQueue(name, "hookstream.");
    const p = payload(JSON.stringify({ type: "user.signed_up" }));
    expect((await deliver(ROWS[3]!, { event_bus_name: name, ...awsBase(), source_template: "hookstream.{source_id}" }, p)).kind).toBe("delivered");
    const [message] = await eventually(() => aws.receive(queue), 1);
    expect(JSON.parse(message!.Body)).toMatchObject({ source: `hookstream.${p.source_id}`, "detail-type": "user.signed_up", detail: { type: "user.signed_up" } });
  });

  it("Pub/Sub: attributes and ordering key; the token is fetched once and cached; its JWT was verified", async () => {
    clearTokenCache();
    tokenRequests.length = 0;
    const name = unique("ps");
    const sub = await pubsub.topicWithSubscription(name, true);
    const config = { project_id: peers.pubsub.project_id, topic: name, endpoint: peers.pubsub.endpoint, service_account_json: serviceAccount(privatePem), ordering_key_template: "{source_id}" };
    const p = payload();
    expect((await deliver(ROWS[4]!, config, p)).kind).toBe("delivered");
    expect((await deliver(ROWS[4]!, config)).kind).toBe("delivered");
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]).toMatchObject({ ok: true, claims: { scope: PUBSUB_SCOPE, aud: `${localUrl}/token` } });
    // The token (expires_in 3599 s) is refreshed a minute before it expires, not later.
    const provider = getProvider("pubsub")!;
    const later = (ms: number) => ({ outbound: createOutbound({ fetch, allowPrivate: true }), now: () => Date.now() + ms });
    expect((await provider.deliver(payload(), config, later(3_500_000))).kind).toBe("delivered");
    expect(tokenRequests).toHaveLength(1);
    expect((await provider.deliver(payload(), config, later(3_560_000))).kind).toBe("delivered");
    expect(tokenRequests).toHaveLength(2);
    const messages = await eventually(() => pubsub.pull(sub), 4);
    const first = messages.find((m) => m.attributes.hookstream_event_id === p.event_id);
    expect(first).toMatchObject({ orderingKey: p.source_id, attributes: { hookstream_event_type: "order.created", hookstream_source_id: p.source_id } });
  });

  it("Kafka v3: key template and record headers", async () => {
    const name = unique("kafka");
    const p = payload();
    const config = { rest_url: peers.kafka.endpoint, topic: name, cluster_id: peers.kafka.cluster_id, username: peers.kafka.username, password: peers.kafka.password, key_template: "{source_id}:{event_type}" };
    expect((await deliver(ROWS[5]!, config, p)).kind).toBe("delivered");
    const [record] = await kafkaRecords(peers.kafka, name);
    expect(record).toMatchObject({ api: "v3", key: `${p.source_id}:order.created`, headers: { "hookstream-event-id": p.event_id } });
  });

  it("RabbitMQ: persistent, routing key from the template, event headers", async () => {
    const name = unique("rmq");
    await rabbit.queueBoundTo(name, `${name}-x`, "order.*");
    const p = payload();
    const config = { management_url: peers.rabbitmq.endpoint, exchange: `${name}-x`, username: peers.rabbitmq.username, password: peers.rabbitmq.password };
    expect((await deliver(ROWS[7]!, config, p)).kind).toBe("delivered");
    const [message] = await rabbit.get(name);
    expect(message).toMatchObject({ routing_key: "order.created", properties: { delivery_mode: 2, message_id: p.event_id, headers: { "hookstream-event-id": p.event_id } } });
  });
});
