import { createApp } from "./api/app.js";
import { sweep } from "./delivery/sweep.js";
import type { Env } from "./env.js";
import { syncOnSchedule } from "./declared/sync.js";

export { DeliveryScheduler } from "./delivery/scheduler.js";
export { SourceGuard } from "./ingest/source-guard.js";
export { WebSocketHub } from "./delivery/websocket-hub.js";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      (async () => {
        // A failed sync is recorded and retried; it must not stop the sweep.
        await syncOnSchedule(env).catch((err) => console.error("declared config sync failed", err));
        await sweep(env, Date.now());
      })(),
    );
  },
} satisfies ExportedHandler<Env>;
