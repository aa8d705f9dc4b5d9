import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** Pure code, tested in plain Node in milliseconds. */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["src/**/*.test.ts"],
    exclude: ["**/*.workers.test.ts", "**/node_modules/**"],
    environment: "node",
  },
});
