#!/usr/bin/env node
// `npm run build -w worker`: bundle src/index.ts into dist/index.js, the same shape wrangler
// uploads (ESM, platform neutral, workerd conditions, cloudflare:* and node:* left to the runtime).
// Exits non-zero on any build error.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const WORKER_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ENTRY = path.join(WORKER_DIR, "src", "index.ts");
export const OUTFILE = path.join(WORKER_DIR, "dist", "index.js");

/** How any bundle for workerd is built here (the bench's metered copy uses the same). */
export const WORKERD_BUNDLE_OPTIONS = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  external: ["cloudflare:*", "node:*"],
};

/** Build the bundle; resolves with esbuild's result, rejects on error. */
export async function build({ logLevel = "warning" } = {}) {
  return esbuild.build({
    ...WORKERD_BUNDLE_OPTIONS,
    entryPoints: [ENTRY],
    outfile: OUTFILE,
    minify: false,
    sourcemap: "external",
    legalComments: "none",
    logLevel,
  });
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const started = Date.now();
  try {
    await build();
    const kib = (fs.statSync(OUTFILE).size / 1024).toFixed(0);
    console.log(`built ${path.relative(process.cwd(), OUTFILE)} (${kib} KiB, ${Date.now() - started} ms)`);
  } catch (err) {
    // esbuild has already printed the diagnostics (logLevel "warning" includes errors).
    if (!err?.errors) console.error(err);
    process.exitCode = 1;
  }
}
