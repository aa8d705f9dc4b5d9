import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** The Pulumi program on a mock monitor, its bundle under Miniflare, and wrangler's dry run; plain Node. */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // setMocks is process-wide state: one file at a time, each in its own process.
    pool: "forks",
    fileParallelism: false,
  },
});
