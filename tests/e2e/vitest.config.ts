import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// End-to-end tests: a real `wrangler dev` gateway (started once by setup/gateway.ts) driven over HTTP.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    name: "e2e",
    environment: "node",
    include: ["tests/e2e/**/*.test.ts"],
    globalSetup: ["tests/e2e/setup/gateway.ts", "scripts/peers/global-setup.mjs"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
