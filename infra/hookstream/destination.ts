import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { DeclaredDestinationSchema } from "../../worker/src/config/schema.js";
import type { eventBridgeConfigSchema } from "../../worker/src/providers/destinations/eventbridge.js";
import type { httpConfigSchema } from "../../worker/src/providers/destinations/http.js";
import type { kafkaConfigSchema } from "../../worker/src/providers/destinations/kafka.js";
import type { pubsubConfigSchema } from "../../worker/src/providers/destinations/pubsub.js";
import type { rabbitmqConfigSchema } from "../../worker/src/providers/destinations/rabbitmq.js";
import type { s3ConfigSchema } from "../../worker/src/providers/destinations/s3.js";
import type { sqsConfigSchema } from "../../worker/src/providers/destinations/sqs.js";
import type { websocketConfigSchema } from "../../worker/src/providers/destinations/websocket.js";
import { callerLocation } from "./declared-in.js";
import { localPeers } from "./peers.js";
import type { Declaration, Declared, DeepInput, InputFields } from "./types.js";

/** Delivery settings every destination type shares (retry policy, circuit breaker, flow control). */
type Common = Declared & InputFields<Omit<z.input<typeof DeclaredDestinationSchema>, "name" | "type" | "config" | "declared_in">>;

/** Explicit AWS credentials: given, no IAM user is created. */
export interface AwsCredentials {
  access_key_id: pulumi.Input<string>;
  secret_access_key: pulumi.Input<string>;
  session_token?: pulumi.Input<string>;
}
type AwsManaged = "queue_url" | "bucket" | "event_bus_name" | "region" | "access_key_id" | "secret_access_key" | "session_token";
interface AwsSinkArgs {
  /** Default: the aws provider's region (`aws:region`), else us-east-1. */
  region?: pulumi.Input<string>;
  /** Give these to use existing credentials; without them an IAM user limited to this one sink is created. */
  credentials?: AwsCredentials;
}

export type HttpDestinationArgs = Common & {
  type: "http";
  config: DeepInput<z.input<typeof httpConfigSchema>>;
};
export type SqsDestinationArgs = Common & AwsSinkArgs & {
  type: "sqs";
  /** `{ create: {...} }` creates the queue; an aws.sqs.Queue or `{ url, arn }` references one. */
  queue: { create: aws.sqs.QueueArgs } | aws.sqs.Queue | { url: pulumi.Input<string>; arn?: pulumi.Input<string> };
  config?: DeepInput<Omit<z.input<typeof sqsConfigSchema>, AwsManaged>>;
};
export type S3DestinationArgs = Common & AwsSinkArgs & {
  type: "s3";
  bucket: { create: aws.s3.BucketArgs } | aws.s3.Bucket | { name: pulumi.Input<string>; arn?: pulumi.Input<string> };
  config?: DeepInput<Omit<z.input<typeof s3ConfigSchema>, AwsManaged>>;
};
export type EventBridgeDestinationArgs = Common & AwsSinkArgs & {
  type: "eventbridge";
  bus: { create: aws.cloudwatch.EventBusArgs } | aws.cloudwatch.EventBus | { name: pulumi.Input<string>; arn?: pulumi.Input<string> };
  config?: DeepInput<Omit<z.input<typeof eventBridgeConfigSchema>, AwsManaged>>;
};
export type PubsubDestinationArgs = Common & {
  type: "pubsub";
  /** `{ create: {...} }` creates the topic; a gcp.pubsub.Topic or `{ name, project }` references one. */
  topic: { create: gcp.pubsub.TopicArgs } | gcp.pubsub.Topic | { name: pulumi.Input<string>; project: pulumi.Input<string> };
  /** A service account key JSON to use; without it a service account with publisher on this topic only, and its key, are created. */
  service_account_json?: pulumi.Input<string>;
  config?: DeepInput<Omit<z.input<typeof pubsubConfigSchema>, "project_id" | "topic" | "service_account_json">>;
};
export type KafkaDestinationArgs = Common & {
  type: "kafka";
  config: DeepInput<z.input<typeof kafkaConfigSchema>>;
};
export type RabbitmqDestinationArgs = Common & {
  type: "rabbitmq";
  config: DeepInput<z.input<typeof rabbitmqConfigSchema>>;
};
export type WebsocketDestinationArgs = Common & {
  type: "websocket";
  config?: DeepInput<z.input<typeof websocketConfigSchema>>;
};

export type DestinationArgs =
  | HttpDestinationArgs
  | SqsDestinationArgs
  | S3DestinationArgs
  | EventBridgeDestinationArgs
  | PubsubDestinationArgs
  | KafkaDestinationArgs
  | RabbitmqDestinationArgs
  | WebsocketDestinationArgs;

/** What a destination created (or referenced) in the cloud, for the stack outputs. */
export interface SinkInfo {
  kind: "sqs" | "s3" | "eventbridge" | "pubsub";
  /** Queue URL, bucket name, bus name or topic id. */
  name: pulumi.Output<string>;
  /** ARN, or the topic's full resource id. */
  arn: pulumi.Output<string> | undefined;
  created: boolean;
  /** The IAM user or service account created for the gateway, if any. */
  principal: pulumi.Output<string> | undefined;
}

const ID_CHARS = /[^a-z0-9-]/g;
/** Cloud names include the stack, so two stacks can share an AWS account or GCP project. */
const physical = (name: string, max: number) => `hookstream-${pulumi.getStack()}-${name}`.toLowerCase().replace(ID_CHARS, "-").slice(0, max);

/** The least-privilege policy the gateway's IAM user gets for one sink. */
export function sinkPolicy(action: string, resource: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.output(resource).apply((arn) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: [action], Resource: [arn] }] }),
  );
}

/**
 * A declared destination. Sink types can bring their sink: the queue, bucket, bus or topic is
 * created (or referenced) as a child, with an IAM user / service account allowed to do exactly
 * one thing on exactly that resource, whose key is fed to the destination as a secret.
 */
export class Destination extends pulumi.ComponentResource implements Declaration {
  readonly kind = "destination" as const;
  readonly declaredName: string;
  readonly declaredIn: string | undefined;
  readonly entry: Record<string, unknown>;
  readonly type: DestinationArgs["type"];
  readonly sink: SinkInfo | undefined;

  constructor(name: string, args: DestinationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookstream:index:Destination", name, {}, opts);
    this.declaredName = args.name ?? name;
    this.declaredIn = callerLocation();
    this.type = args.type;
    const parent = { parent: this };
    const peers = localPeers();
    const { config: extra, sinkFields, sink } = this.sinkFor(name, args, parent, peers?.awsEndpoint, peers?.pubsubEndpoint);
    this.sink = sink;
    const { name: _n, type, config: _c, ...common } = args as DestinationArgs & { config?: unknown };
    for (const k of ["queue", "bucket", "bus", "topic", "credentials", "region", "service_account_json"]) delete (common as Record<string, unknown>)[k];
    this.entry = {
      name: this.declaredName,
      type,
      config: { ...((args as { config?: object }).config ?? {}), ...sinkFields, ...extra },
      ...common,
      declared_in: this.declaredIn,
    };
    this.registerOutputs({ declaredName: this.declaredName, sinkName: sink?.name, sinkArn: sink?.arn });
  }

  private sinkFor(
    name: string,
    args: DestinationArgs,
    parent: pulumi.CustomResourceOptions,
    awsEndpoint: string | undefined,
    pubsubEndpoint: string | undefined,
  ): { config: Record<string, unknown>; sinkFields: Record<string, unknown>; sink: SinkInfo | undefined } {
    switch (args.type) {
      case "sqs": {
        let url: pulumi.Output<string>, arn: pulumi.Output<string> | undefined, created = false;
        if ("create" in args.queue) {
          const q = new aws.sqs.Queue(`${name}-queue`, { name: physical(name, 80), ...args.queue.create }, parent);
          [url, arn, created] = [q.url, q.arn, true];
        } else if (args.queue instanceof aws.sqs.Queue) [url, arn] = [args.queue.url, args.queue.arn];
        else [url, arn] = [pulumi.output(args.queue.url), args.queue.arn === undefined ? undefined : pulumi.output(args.queue.arn)];
        const creds = this.awsCredentials(name, args, "sqs:SendMessage", arn, parent);
        return {
          sinkFields: { queue_url: url, region: this.region(args), ...creds.fields },
          config: awsEndpoint ? { endpoint: awsEndpoint } : {},
          sink: { kind: "sqs", name: url, arn, created, principal: creds.principal },
        };
      }
      case "s3": {
        let bucket: pulumi.Output<string>, arn: pulumi.Output<string> | undefined, created = false;
        if ("create" in args.bucket) {
          const b = new aws.s3.Bucket(`${name}-bucket`, { bucket: physical(name, 63), ...args.bucket.create }, parent);
          [bucket, arn, created] = [b.bucket, b.arn, true];
        } else if (args.bucket instanceof aws.s3.Bucket) [bucket, arn] = [args.bucket.bucket, args.bucket.arn];
        else [bucket, arn] = [pulumi.output(args.bucket.name), args.bucket.arn === undefined ? undefined : pulumi.output(args.bucket.arn)];
        const creds = this.awsCredentials(name, args, "s3:PutObject", arn?.apply((a) => `${a}/*`), parent);
        return {
          sinkFields: { bucket, region: this.region(args), ...creds.fields },
          config: awsEndpoint ? { endpoint: awsEndpoint } : {},
          sink: { kind: "s3", name: bucket, arn, created, principal: creds.principal },
        };
      }
      case "eventbridge": {
        let bus: pulumi.Output<string>, arn: pulumi.Output<string> | undefined, created = false;
        if ("create" in args.bus) {
          const b = new aws.cloudwatch.EventBus(`${name}-bus`, { name: physical(name, 256), ...args.bus.create }, parent);
          [bus, arn, created] = [b.name, b.arn, true];
        } else if (args.bus instanceof aws.cloudwatch.EventBus) [bus, arn] = [args.bus.name, args.bus.arn];
        else [bus, arn] = [pulumi.output(args.bus.name), args.bus.arn === undefined ? undefined : pulumi.output(args.bus.arn)];
        const creds = this.awsCredentials(name, args, "events:PutEvents", arn, parent);
        return {
          sinkFields: { event_bus_name: bus, region: this.region(args), ...creds.fields },
          config: awsEndpoint ? { endpoint: awsEndpoint } : {},
          sink: { kind: "eventbridge", name: bus, arn, created, principal: creds.principal },
        };
      }
      case "pubsub": {
        let topic: pulumi.Output<string>, project: pulumi.Output<string>, id: pulumi.Output<string>, created = false;
        if ("create" in args.topic) {
          const t = new gcp.pubsub.Topic(`${name}-topic`, { name: physical(name, 255), ...args.topic.create }, parent);
          [topic, project, id, created] = [t.name, t.project, t.id, true];
        } else if (args.topic instanceof gcp.pubsub.Topic) [topic, project, id] = [args.topic.name, args.topic.project, args.topic.id];
        else {
          [topic, project] = [pulumi.output(args.topic.name), pulumi.output(args.topic.project)];
          id = pulumi.interpolate`projects/${project}/topics/${topic}`;
        }
        let key: pulumi.Output<string> | pulumi.Input<string> | undefined = args.service_account_json;
        let principal: pulumi.Output<string> | undefined;
        if (key === undefined) {
          // Service account ids: 6–30 characters, lowercase letters, digits and hyphens.
          const account = new gcp.serviceaccount.Account(
            `${name}-publisher`,
            { accountId: `hs-${pulumi.getStack()}-${name}`.toLowerCase().replace(ID_CHARS, "-").slice(0, 30).replace(/-+$/, "").padEnd(6, "0"), displayName: `hookstream destination ${this.declaredName}`, project },
            parent,
          );
          new gcp.pubsub.TopicIAMMember(`${name}-publisher`, { project, topic: id, role: "roles/pubsub.publisher", member: pulumi.interpolate`serviceAccount:${account.email}` }, parent);
          const k = new gcp.serviceaccount.Key(`${name}-publisher`, { serviceAccountId: account.name }, parent);
          key = pulumi.secret(k.privateKey.apply((b64) => Buffer.from(b64, "base64").toString("utf8")));
          principal = account.email;
        }
        return {
          sinkFields: { project_id: project, topic, service_account_json: key },
          config: pubsubEndpoint ? { endpoint: pubsubEndpoint } : {},
          sink: { kind: "pubsub", name: topic, arn: id, created, principal },
        };
      }
      default:
        return { config: {}, sinkFields: {}, sink: undefined };
    }
  }

  private region(args: AwsSinkArgs): pulumi.Input<string> {
    return args.region ?? aws.config.region ?? "us-east-1";
  }

  private awsCredentials(
    name: string,
    args: AwsSinkArgs,
    action: string,
    resource: pulumi.Output<string> | undefined,
    parent: pulumi.CustomResourceOptions,
  ): { fields: Record<string, unknown>; principal: pulumi.Output<string> | undefined } {
    if (args.credentials) {
      const { access_key_id, secret_access_key, session_token } = args.credentials;
      return { fields: { access_key_id, secret_access_key: pulumi.secret(secret_access_key), ...(session_token === undefined ? {} : { session_token: pulumi.secret(session_token) }) }, principal: undefined };
    }
    if (!resource) {
      throw new Error(`${this.declaredIn ? `${this.declaredIn}: ` : ""}destination "${this.declaredName}": an existing sink needs its ARN (arn) so a least-privilege IAM user can be created, or explicit credentials`);
    }
    const user = new aws.iam.User(`${name}-publisher`, { name: physical(name, 64), path: "/hookstream/" }, parent);
    new aws.iam.UserPolicy(`${name}-publisher`, { user: user.name, policy: sinkPolicy(action, resource) }, parent);
    const key = new aws.iam.AccessKey(`${name}-publisher`, { user: user.name }, parent);
    return { fields: { access_key_id: key.id, secret_access_key: pulumi.secret(key.secret) }, principal: user.arn };
  }
}
