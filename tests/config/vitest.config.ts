import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The config tooling (config:check, config:plan's diff, the CI workflow): plain Node, no gateway.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    name: "config",
    environment: "node",
    include: ["tests/config/**/*.test.ts"],
    // a config:check CLI run loads the Pulumi SDKs and tsc reads ~2 M lines of provider typings: slow on a small machine
    testTimeout: 300_000,
  },
});
