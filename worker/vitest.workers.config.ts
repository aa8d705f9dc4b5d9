import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** A fixed test key (base64 of 32 bytes); production reads ENCRYPTION_KEY from a secret. */
const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString("base64");

export default defineConfig(async () => {
  const migrations = await readD1Migrations(here("./migrations"));
  return {
    root: here("."),
    plugins: [
      cloudflareTest({
        wrangler: { configPath: here("./wrangler.jsonc") },
        miniflare: {
          // An extra, never-migrated D1: the Worker's self-migration is tested on it (declared-config.test.ts).
          d1Databases: { SCRATCH_DB: "scratch-db" },
          bindings: {
            ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
            BETTER_AUTH_SECRET: "test-better-auth-secret-0123456789abcdef",
            ALLOW_PRIVATE_DESTINATIONS: "true",
            TEST_MIGRATIONS: migrations,
          },
        },
      }),
    ],
    test: {
      include: ["test/integration/**/*.test.ts"],
      globalSetup: ["test/setup/receiver.ts", "test/setup/gate.ts"],
      setupFiles: ["test/setup/apply-migrations.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  };
});
