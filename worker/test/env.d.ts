import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../src/env.js";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      /** Read by vitest.workers.config.ts, applied by test/setup/apply-migrations.ts. */
      TEST_MIGRATIONS: D1Migration[];
      /** A D1 no setup migrates: self-migration tests reset and use it. */
      SCRATCH_DB: D1Database;
    }
  }
}

declare module "vitest" {
  interface ProvidedContext {
    /** Base URL of the node:http receiver started by test/setup/receiver.ts. */
    receiverUrl: string;
    /** Base URL of the flow-control receiver started by test/setup/gate.ts. */
    gateUrl: string;
  }
}
