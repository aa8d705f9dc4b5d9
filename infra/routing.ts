/**
 * The declared routing: the file a pull request edits. Every declaration becomes a row the
 * Worker manages (read-only in the API and dashboard, with this file:line in the 409).
 * `npm run config:check` checks it without cloud access; `npm run config:plan` shows what changes.
 */
import * as pulumi from "@pulumi/pulumi";
import { Connection, Destination, Source } from "./hookstream/index.js";

export function declareRouting() {
  const secrets = new pulumi.Config("hookstream");

  // ---- sources: each gets a stable ingest URL (stack output `ingestUrls`)
  const stripe = new Source("stripe", {
    template: "stripe",
    secret: secrets.requireSecret("stripeWebhookSecret"),
    description: "Stripe account webhooks",
    dedup: { window_seconds: 3600 },
  });
  const github = new Source("github", {
    template: "github",
    secret: secrets.requireSecret("githubWebhookSecret"),
    rate_limit: { per_second: 50, burst: 100 },
  });

  // ---- destinations
  const fulfilment = new Destination("fulfilment", {
    type: "http",
    config: { url: "https://fulfilment.example.com/hooks/stripe", timeout_ms: 10_000 },
    retry_policy: { strategy: "exponential", max_retries: 8, interval_seconds: 30 },
  });
  // An SQS queue created on AWS, with an IAM user that may only sqs:SendMessage to it.
  const orders = new Destination("orders-queue", {
    type: "sqs",
    queue: { create: { messageRetentionSeconds: 1_209_600 } },
  });
  // A Pub/Sub topic created on GCP, with a service account that may only publish to it.
  const ciEvents = new Destination("ci-events", {
    type: "pubsub",
    topic: { create: {} },
    ordered: true,
  });

  // ---- connections
  const connections = [
    new Connection("paid-orders", {
      source: stripe,
      destination: orders,
      filters: [{ field: "body.type", op: "eq", value: "checkout.session.completed" }],
      transform: '{ "order": body.data.object.id, "amount": body.data.object.amount_total / 100, "currency": body.data.object.currency }',
    }),
    new Connection("stripe-to-fulfilment", {
      source: stripe,
      destination: fulfilment,
      filters: [{ field: "body.type", op: "in", value: ["checkout.session.completed", "charge.refunded"] }],
    }),
    new Connection("github-pushes", {
      source: github,
      destination: ciEvents,
      filters: [{ field: "headers.x-github-event", op: "eq", value: "push" }, { field: "body.ref", op: "eq", value: "refs/heads/main" }],
      transform: '{ "repo": body.repository.full_name, "sha": body.after, "pusher": body.pusher.name }',
    }),
  ];

  return { sources: [stripe, github], destinations: [fulfilment, orders, ciEvents], connections };
}
