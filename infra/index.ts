/**
 * The Pulumi program that deploys hookstream into a Cloudflare account.
 *
 * Not built yet: it provisions D1, KV, R2, the Worker (esbuild bundle from worker/build.mjs)
 * with the bindings named in worker/src/bindings.ts, the DeliveryScheduler Durable Object
 * through the script's migrations, and the cron trigger that runs the delivery sweep.
 * Declared Source / Destination / Connection components arrive with the GitOps issue.
 */
export {};
