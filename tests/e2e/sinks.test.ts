// Issue 6 "done when": one destination of each sink type created through the API, all connected to one
// source; one webhook lands in the SQS queue, the S3 bucket, the EventBridge target, the Pub/Sub
// subscription, the Kafka REST fake and the RabbitMQ queue. A wrong credential shows failed attempts with
// a clear error, retries, then the DLQ. Peers come from scripts/peers (real moto with auth on, the Pub/Sub
// emulator, a real RabbitMQ, the Kafka REST contract fake).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { importSPKI, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type {} from "./setup/gateway.js";
import { Api, ingestOk, type DestinationView } from "./setup/api.js";
import { pollUntil } from "./setup/poll.js";
import { Aws, kafkaRecords, Pubsub, Rabbit } from "../../worker/test/peers/clients.js";

const { baseUrl, tenantA } = inject("gateway");
const peers = inject("peers");
const api = new Api(baseUrl, tenantA.api_key);
const aws = new Aws(peers.moto);
const pubsub = new Pubsub(peers.pubsub);
const rabbit = new Rabbit(peers.rabbitmq);

// A token endpoint that checks the service-account JWT's signature and claims before issuing a token.
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
let tokenServer: Server;
let tokenUrl = "";
let tokensIssued = 0;
beforeAll(async () => {
  const key = await importSPKI(publicKey.export({ type: "spki", format: "pem" }).toString(), "RS256");
  tokenServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      jwtVerify(form.get("assertion") ?? "", key, { audience: tokenUrl, issuer: "e2e@hookstream-test.iam.gserviceaccount.com" })
        .then(() => {
          tokensIssued++;
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "ya29.e2e", expires_in: 3599, token_type: "Bearer" }));
        })
        .catch(() => res.writeHead(400, { "content-type": "application/json" }).end('{"error":"invalid_grant"}'));
    });
  });
  await new Promise<void>((resolve) => tokenServer.listen(0, "127.0.0.1", resolve));
  tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
});
afterAll(async () => {
  tokenServer.closeAllConnections();
  await new Promise<void>((resolve) => tokenServer.close(() => resolve()));
});

const run = `e2e-${Date.now().toString(36)}-${randomBytes(2).toString("hex")}`;
const awsCreds = { endpoint: peers.moto.endpoint, region: peers.moto.region, access_key_id: peers.moto.access_key_id, secret_access_key: peers.moto.secret_access_key };

function createDestination(type: string, config: Record<string, unknown>, retry_policy?: Record<string, unknown>) {
  return api.expect<DestinationView>(201, "POST", "/v1/destinations", { name: `${type}-${run}`, type, config, ...(retry_policy ? { retry_policy } : {}) });
}

describe("sink destinations end to end", () => {
  it("one webhook reaches SQS, S3, EventBridge, Pub/Sub, Kafka and RabbitMQ; credentials never shown after create", async () => {
    const queueUrl = await aws.createQueue(`${run}-q`);
    await aws.createBucket(`${run}-bucket`);
    const ebQueue = await aws.busToQueue(`${run}-bus`, "hookstream.");
    const sub = await pubsub.topicWithSubscription(`${run}-topic`);
    await rabbit.queueBoundTo(`${run}-rq`, `${run}-x`, "#");
    const serviceAccount = JSON.stringify({
      type: "service_account", client_email: "e2e@hookstream-test.iam.gserviceaccount.com", private_key_id: "e2e",
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), token_uri: tokenUrl,
    });

    const source = await api.createSource();
    const dsts = [
      await createDestination("sqs", { queue_url: queueUrl, ...awsCreds }),
      await createDestination("s3", { bucket: `${run}-bucket`, ...awsCreds }),
      await createDestination("eventbridge", { event_bus_name: `${run}-bus`, ...awsCreds }),
      await createDestination("pubsub", { project_id: peers.pubsub.project_id, topic: `${run}-topic`, endpoint: peers.pubsub.endpoint, service_account_json: serviceAccount }),
      await createDestination("kafka", { rest_url: peers.kafka.endpoint, topic: `${run}-kafka`, api_version: "v2", username: peers.kafka.username, password: peers.kafka.password }),
      await createDestination("rabbitmq", { management_url: peers.rabbitmq.endpoint, exchange: `${run}-x`, username: peers.rabbitmq.username, password: peers.rabbitmq.password }),
    ];
    for (const d of dsts) await api.connect(source.id, d.id);

    // Create (above), GET and list mask every secret field: a supplied credential is never echoed.
    const secrets = [peers.moto.secret_access_key, serviceAccount, peers.kafka.password, peers.rabbitmq.password];
    for (const s of secrets) expect(JSON.stringify(dsts)).not.toContain(s);
    for (const d of dsts) {
      const shown = JSON.stringify(await api.expect(200, "GET", `/v1/destinations/${d.id}`));
      for (const s of secrets) expect(shown).not.toContain(s);
    }
    const listed = JSON.stringify(await api.expect(200, "GET", "/v1/destinations?limit=100"));
    for (const s of secrets) expect(listed).not.toContain(s);

    const body = JSON.stringify({ type: "order.created", id: run, total: 4200 });
    const eventId = await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body });
    const event = await api.waitForEventStatus(eventId, "delivered", 30_000);
    expect(event.deliveries).toHaveLength(6);

    const sqs = await pollUntil(() => aws.receive(queueUrl), (m) => m.length > 0, { what: "the SQS message" });
    expect(sqs[0]).toMatchObject({ Body: body, MessageAttributes: { "hookstream-event-id": { StringValue: eventId }, "hookstream-event-type": { StringValue: "order.created" } } });

    const keys = await aws.listKeys(`${run}-bucket`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^${source.id}/\\d{4}/\\d{2}/\\d{2}/${eventId}\\.json$`));
    expect(await (await aws.getObject(`${run}-bucket`, keys[0]!)).text()).toBe(body);

    const eb = await pollUntil(() => aws.receive(ebQueue), (m) => m.length > 0, { what: "the EventBridge target message" });
    expect(JSON.parse(eb[0]!.Body)).toMatchObject({ source: `hookstream.${source.id}`, "detail-type": "order.created", detail: JSON.parse(body) });

    const ps = await pollUntil(() => pubsub.pull(sub), (m) => m.length > 0, { what: "the Pub/Sub message" });
    expect(Buffer.from(ps[0]!.data, "base64").toString("utf8")).toBe(body);
    expect(ps[0]!.attributes.hookstream_event_id).toBe(eventId);
    expect(tokensIssued).toBeGreaterThanOrEqual(1);

    const kafka = await kafkaRecords(peers.kafka, `${run}-kafka`);
    expect(kafka).toMatchObject([{ api: "v2", key: source.id, value: JSON.parse(body) }]);

    const rmq = await rabbit.get(`${run}-rq`);
    expect(rmq).toHaveLength(1);
    expect(Buffer.from(rmq[0]!.payload, rmq[0]!.payload_encoding === "base64" ? "base64" : "utf8").toString("utf8")).toBe(body);
    expect(rmq[0]).toMatchObject({ routing_key: "order.created", properties: { delivery_mode: 2, message_id: eventId } });
  });

  it("a wrong AWS secret: failed attempts with a clear error, retries, then the DLQ; the secret is never shown", async () => {
    const queueUrl = await aws.createQueue(`${run}-wrong`);
    const wrongSecret = `Wrong${peers.moto.secret_access_key.slice(5)}`;
    const source = await api.createSource();
    const dst = await createDestination("sqs", { queue_url: queueUrl, ...awsCreds, secret_access_key: wrongSecret }, { strategy: "fixed", max_retries: 2, interval_seconds: 1 });
    await api.connect(source.id, dst.id);

    const eventId = await ingestOk(baseUrl, source.id, { headers: { "content-type": "application/json" }, body: '{"type":"order.created"}' });
    const dead = await pollUntil(() => api.dlq(dst.id), (l) => l.length === 1, { what: "the dead letter", timeoutMs: 30_000, intervalMs: 200 });
    expect(dead[0]).toMatchObject({ attempts: 3, last_status_code: 403 });
    expect(dead[0]!.reason).toMatch(/SignatureDoesNotMatch/);

    const attempts = (await api.attempts(eventId)).sort((a, b) => a.attempt_number - b.attempt_number);
    expect(attempts.map((a) => a.attempt_number)).toEqual([1, 2, 3]);
    for (const a of attempts) {
      expect(a).toMatchObject({ status: "failed", status_code: 403 });
      expect(a.error).toMatch(/^SQS 403 SignatureDoesNotMatch/);
      expect(JSON.stringify(a)).not.toContain(wrongSecret);
    }
    expect(JSON.stringify(dead)).not.toContain(wrongSecret);
    expect(await aws.receive(queueUrl)).toEqual([]);
    await api.waitForEventStatus(eventId, "failed");
  });
});
