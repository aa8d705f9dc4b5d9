import { createApp } from "./api/app.js";
import { sweep } from "./delivery/sweep.js";
import type { Env } from "./env.js";

export { DeliveryScheduler } from "./delivery/scheduler.js";
export { SourceGuard } from "./ingest/source-guard.js";
export { WebSocketHub } from "./delivery/websocket-hub.js";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweep(env, Date.now()));
  },
} satisfies ExportedHandler<Env>;
