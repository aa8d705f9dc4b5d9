// Vitest globalSetup for the e2e suite: one local gateway (wrangler dev) with a fresh state dir
// and two seeded tenants, shared by every e2e test file through `inject("gateway")`.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { freePort, prepareState, seedTenant, startGateway, type Gateway } from "../../../scripts/lib/gateway.mjs";

export interface E2ETenant {
  api_key: string;
  org_id: string;
  env_id: string;
}

export interface E2EGateway {
  baseUrl: string;
  stateDir: string;
  /** wrangler dev output, kept for debugging failures */
  logFile: string;
  tenantA: E2ETenant;
  tenantB: E2ETenant;
}

declare module "vitest" {
  export interface ProvidedContext {
    gateway: E2EGateway;
  }
}

const tenant = (t: E2ETenant): E2ETenant => ({ api_key: t.api_key, org_id: t.org_id, env_id: t.env_id });

export default async function setup(project: TestProject) {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "hookstream-e2e-"));
  const stateDir = path.join(tmp, "state");
  const logFile = path.join(tmp, "wrangler.log");
  let gateway: Gateway | undefined;

  const teardown = async () => {
    await gateway?.stop();
    gateway = undefined;
    if (process.env.HOOKSTREAM_E2E_KEEP) {
      console.log(`[e2e] kept ${tmp} (HOOKSTREAM_E2E_KEEP)`);
    } else {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  };

  try {
    const port = await freePort();
    await prepareState(stateDir);
    const tenantA = tenant(await seedTenant(stateDir, { orgName: "Tenant A", envName: "test", keyName: "e2e-a" }));
    const tenantB = tenant(await seedTenant(stateDir, { orgName: "Tenant B", envName: "test", keyName: "e2e-b" }));
    gateway = await startGateway({ port, stateDir, log: logFile });
    project.provide("gateway", { baseUrl: gateway.baseUrl, stateDir, logFile, tenantA, tenantB });
  } catch (err) {
    await teardown();
    throw err;
  }

  return teardown;
}
