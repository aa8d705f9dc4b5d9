import { beforeAll, describe, expect, it } from "vitest";
import type { CompileLocallyResult } from "../hookstream/local.js";
import { all, compileExample, only } from "./helpers.js";

let r: CompileLocallyResult;
let config: { destinations: { name: string; config: Record<string, unknown> }[] };
let secrets: Record<string, string>;
beforeAll(async () => {
  r = await compileExample({ program: "infra/test/fixtures/sinks.ts" });
  expect(r.issues).toEqual([]);
  config = JSON.parse(r.bindings!.GATEWAY_CONFIG);
  secrets = JSON.parse(r.bindings!.GATEWAY_SECRETS);
});
const dest = (name: string) => config.destinations.find((d) => d.name === name)!.config;
/** The inline policy of the IAM user created for a destination. */
function policyOf(name: string) {
  const user = r.resources.find((x) => x.type === "aws:iam/user:User" && x.name === `${name}-publisher`)!;
  const policy = r.resources.find((x) => x.type === "aws:iam/userPolicy:UserPolicy" && x.inputs.user === user.state.name)!;
  return JSON.parse(policy.inputs.policy);
}
const allow = (action: string, resource: string) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: [action], Resource: [resource] }] });

describe("sinks", () => {
  it("S3: creates the bucket; the IAM user may only s3:PutObject into it", () => {
    const bucket = only(r.resources, "aws:s3/bucket:Bucket");
    expect(bucket.inputs.bucket).toBe("hookstream-dev-archive");
    expect(policyOf("archive")).toEqual(allow("s3:PutObject", `${bucket.state.arn}/*`));
    expect(dest("archive")).toMatchObject({ bucket: "hookstream-dev-archive", region: "us-east-1", key_template: "{source}/{event_id}.json" });
    expect(secrets["destinations/archive/config.secret_access_key"]).toMatch(/^[0-9a-f]{40}$/);
  });

  it("EventBridge: creates the bus; the IAM user may only events:PutEvents on it", () => {
    const bus = only(r.resources, "aws:cloudwatch/eventBus:EventBus");
    expect(policyOf("bus")).toEqual(allow("events:PutEvents", bus.state.arn));
    expect(dest("bus")).toMatchObject({ event_bus_name: "hookstream-dev-bus", region: "eu-west-1" });
  });

  it("an existing queue (resource or URL + ARN) gets a user for exactly its ARN", () => {
    expect(policyOf("legacy")).toEqual(allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:already-there"));
    expect(policyOf("by-url")).toEqual(allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:other"));
    expect(dest("by-url").queue_url).toBe("https://sqs.us-east-1.amazonaws.com/123456789012/other");
    // Only the one queue resource declared by the program itself; nothing created for references.
    expect(all(r.resources, "aws:sqs/queue:Queue").map((q) => q.name)).toEqual(["existing"]);
  });

  it("explicit credentials: no IAM user, the secret key still only in GATEWAY_SECRETS", () => {
    expect(r.resources.some((x) => x.name === "keyed-publisher")).toBe(false);
    expect(dest("keyed")).toEqual({ queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/keyed", region: "us-east-1", access_key_id: "AKIAEXPLICIT00000000" });
    expect(secrets["destinations/keyed/config.secret_access_key"]).toBe("explicit-secret-key-0000");
    expect(r.bindings!.GATEWAY_CONFIG).not.toContain("explicit-secret-key-0000");
  });

  it("an existing topic: a service account with publisher on exactly that topic", () => {
    const member = only(r.resources, "gcp:pubsub/topicIAMMember:TopicIAMMember");
    expect(member.inputs).toMatchObject({ topic: "projects/other-project/topics/existing-topic", role: "roles/pubsub.publisher", project: "other-project" });
    expect(all(r.resources, "gcp:pubsub/topic:Topic")).toHaveLength(0);
    expect(dest("topic")).toEqual({ project_id: "other-project", topic: "existing-topic" });
    expect(JSON.parse(secrets["destinations/topic/config.service_account_json"]!).client_email).toMatch(/@other-project\.iam\.gserviceaccount\.com$/);
  });

  it("one access key per created IAM user (S3, EventBridge, two referenced queues)", () => {
    expect(all(r.resources, "aws:iam/accessKey:AccessKey")).toHaveLength(4);
  });
});
