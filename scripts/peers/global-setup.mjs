// vitest globalSetup: uses the peers scripts/test.sh started (HOOKSTREAM_PEERS_FILE), else starts its own and stops them after.
import fs from "node:fs";
import { startPeers, stopPeers } from "./peers.mjs";

export default async function setup(project) {
  const file = process.env.HOOKSTREAM_PEERS_FILE;
  if (file && fs.existsSync(file)) {
    project.provide("peers", JSON.parse(fs.readFileSync(file, "utf8")));
    return undefined;
  }
  const state = await startPeers();
  project.provide("peers", state);
  return () => stopPeers(state);
}
