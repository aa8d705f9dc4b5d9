// Test-side clients for the peers started by scripts/peers/peers.mjs: create the queues, buckets, topics
// the destinations deliver to, and read back what arrived. Shared by the peer tests and the e2e test.
import { AwsClient } from "aws4fetch";

export interface PeersState {
  moto: { endpoint: string; region: string; access_key_id: string; secret_access_key: string };
  pubsub: { endpoint: string; project_id: string };
  rabbitmq: { endpoint: string; username: string; password: string };
  kafka: { endpoint: string; username: string; password: string; cluster_id: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    peers: PeersState;
  }
}

async function ok(res: Response, what: string): Promise<string> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text}`);
  return text;
}

export class Aws {
  constructor(private readonly moto: PeersState["moto"]) {}

  private client(service: string) {
    return new AwsClient({ accessKeyId: this.moto.access_key_id, secretAccessKey: this.moto.secret_access_key, service, region: this.moto.region, retries: 0 });
  }

  private async json(service: string, target: string, body: unknown, version = "1.0"): Promise<Record<string, unknown>> {
    const res = await this.client(service).fetch(`${this.moto.endpoint}/`, {
      method: "POST",
      headers: { "content-type": `application/x-amz-json-${version}`, "x-amz-target": target },
      body: JSON.stringify(body),
    });
    return JSON.parse((await ok(res, target)) || "{}") as Record<string, unknown>;
  }

  async createQueue(name: string): Promise<string> {
    const attributes = name.endsWith(".fifo") ? { FifoQueue: "true" } : {};
    const out = await this.json("sqs", "AmazonSQS.CreateQueue", { QueueName: name, Attributes: attributes });
    return out.QueueUrl as string;
  }

  async queueArn(url: string): Promise<string> {
    const out = await this.json("sqs", "AmazonSQS.GetQueueAttributes", { QueueUrl: url, AttributeNames: ["QueueArn"] });
    return (out.Attributes as Record<string, string>).QueueArn as string;
  }

  async receive(url: string): Promise<Array<{ Body: string; MessageAttributes?: Record<string, { StringValue: string }>; Attributes?: Record<string, string> }>> {
    const out = await this.json("sqs", "AmazonSQS.ReceiveMessage", {
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ["All"],
      AttributeNames: ["All"],
      WaitTimeSeconds: 0,
    });
    return (out.Messages as never[] | undefined) ?? [];
  }

  async createBucket(name: string): Promise<void> {
    await ok(await this.client("s3").fetch(`${this.moto.endpoint}/${name}`, { method: "PUT" }), "CreateBucket");
  }

  async getObject(bucket: string, key: string): Promise<Response> {
    return this.client("s3").fetch(`${this.moto.endpoint}/${bucket}/${key}`);
  }

  async listKeys(bucket: string): Promise<string[]> {
    const text = await ok(await this.client("s3").fetch(`${this.moto.endpoint}/${bucket}?list-type=2`), "ListObjectsV2");
    return [...text.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1] ?? "");
  }

  /** A bus with a rule that forwards every event from `sourcePrefix` to a new SQS queue; returns that queue's URL. */
  async busToQueue(bus: string, sourcePrefix: string): Promise<string> {
    if (bus !== "default") await this.json("events", "AWSEvents.CreateEventBus", { Name: bus }, "1.1");
    const queue = await this.createQueue(`${bus}-target`);
    const rule = `${bus}-all`;
    await this.json("events", "AWSEvents.PutRule", { Name: rule, EventBusName: bus, EventPattern: JSON.stringify({ source: [{ prefix: sourcePrefix }] }) }, "1.1");
    await this.json("events", "AWSEvents.PutTargets", { Rule: rule, EventBusName: bus, Targets: [{ Id: "queue", Arn: await this.queueArn(queue) }] }, "1.1");
    return queue;
  }
}

export class Pubsub {
  constructor(private readonly peer: PeersState["pubsub"]) {}

  private url(path: string) {
    return `${this.peer.endpoint}/v1/projects/${this.peer.project_id}/${path}`;
  }

  /** A topic with one subscription; returns the subscription's id. */
  async topicWithSubscription(topic: string, ordering = false): Promise<string> {
    await ok(await fetch(this.url(`topics/${topic}`), { method: "PUT" }), "create topic");
    const sub = `${topic}-sub`;
    await ok(
      await fetch(this.url(`subscriptions/${sub}`), {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ topic: `projects/${this.peer.project_id}/topics/${topic}`, enableMessageOrdering: ordering }),
      }),
      "create subscription",
    );
    return sub;
  }

  async pull(sub: string): Promise<Array<{ data: string; attributes: Record<string, string>; orderingKey?: string }>> {
    const res = await fetch(this.url(`subscriptions/${sub}:pull`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ maxMessages: 10, returnImmediately: true }),
    });
    const out = JSON.parse(await ok(res, "pull")) as { receivedMessages?: Array<{ message: { data: string; attributes: Record<string, string>; orderingKey?: string } }> };
    return (out.receivedMessages ?? []).map((m) => m.message);
  }
}

export class Rabbit {
  constructor(private readonly peer: PeersState["rabbitmq"]) {}

  private request(method: string, path: string, body?: unknown) {
    return fetch(`${this.peer.endpoint}/api/${path}`, {
      method,
      headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from(`${this.peer.username}:${this.peer.password}`).toString("base64")}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** A durable queue bound to `exchange` (declared as topic) with `bindingKey`. */
  async queueBoundTo(queue: string, exchange: string, bindingKey: string): Promise<void> {
    await ok(await this.request("PUT", `exchanges/%2F/${exchange}`, { type: "topic", durable: true }), "declare exchange");
    await ok(await this.request("PUT", `queues/%2F/${queue}`, { durable: true }), "declare queue");
    await ok(await this.request("POST", `bindings/%2F/e/${exchange}/q/${queue}`, { routing_key: bindingKey }), "bind");
  }

  async declareExchange(exchange: string): Promise<void> {
    await ok(await this.request("PUT", `exchanges/%2F/${exchange}`, { type: "topic", durable: true }), "declare exchange");
  }

  async get(queue: string): Promise<Array<{ payload: string; payload_encoding: string; routing_key: string; properties: Record<string, unknown> }>> {
    const res = await this.request("POST", `queues/%2F/${queue}/get`, { count: 10, ackmode: "ack_requeue_false", encoding: "auto" });
    return JSON.parse(await ok(res, "get")) as never;
  }
}

export async function kafkaRecords(peer: PeersState["kafka"], topic: string): Promise<Array<{ api: string; key: string | null; value: unknown; headers: Record<string, string> }>> {
  return JSON.parse(await ok(await fetch(`${peer.endpoint}/_fake/records?topic=${encodeURIComponent(topic)}`), "kafka records")) as never;
}
