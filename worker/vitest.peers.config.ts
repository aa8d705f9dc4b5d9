import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The sink destinations against real peers on 127.0.0.1 (moto, Pub/Sub emulator, RabbitMQ, the Kafka REST
 * contract fake), in Node. Peers come from scripts/test.sh (HOOKSTREAM_PEERS_FILE) or are started here.
 */
export default defineConfig({
  test: {
    name: "peers",
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["test/peers/**/*.test.ts"],
    environment: "node",
    globalSetup: ["../scripts/peers/global-setup.mjs"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
