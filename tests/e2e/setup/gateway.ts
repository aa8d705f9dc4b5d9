// Vitest globalSetup for the e2e suite: one local gateway (wrangler dev) with a fresh state dir
// and two tenants (users who signed up through the API, each with an API key), shared by every
// e2e test file through `inject("gateway")`. Emails go to a local Resend stand-in (mailbox.ts).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { freePort, prepareState, signUpTenant, startGateway, type Gateway } from "../../../scripts/lib/gateway.mjs";
import { startMailbox, type Mailbox } from "./mailbox.js";

export interface E2ETenant {
  api_key: string;
  org_id: string;
  env_id: string;
  email: string;
  password: string;
}

export interface E2EGateway {
  baseUrl: string;
  stateDir: string;
  /** wrangler dev output, kept for debugging failures */
  logFile: string;
  tenantA: E2ETenant;
  tenantB: E2ETenant;
  /** Base URL of the Resend stand-in the gateway sends emails to (see mailbox.ts). */
  mailboxUrl: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    gateway: E2EGateway;
  }
}

const tenant = (t: E2ETenant): E2ETenant => ({ api_key: t.api_key, org_id: t.org_id, env_id: t.env_id, email: t.email, password: t.password });
const password = () => `pw-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;

export default async function setup(project: TestProject) {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "hookstream-e2e-"));
  const stateDir = path.join(tmp, "state");
  const logFile = path.join(tmp, "wrangler.log");
  let gateway: Gateway | undefined;
  let mailbox: Mailbox | undefined;

  const teardown = async () => {
    await gateway?.stop();
    gateway = undefined;
    await mailbox?.close();
    mailbox = undefined;
    if (process.env.HOOKSTREAM_E2E_KEEP) {
      console.log(`[e2e] kept ${tmp} (HOOKSTREAM_E2E_KEEP)`);
    } else {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  };

  try {
    const port = await freePort();
    await prepareState(stateDir);
    mailbox = await startMailbox();
    gateway = await startGateway({ port, stateDir, log: logFile, vars: { RESEND_API_KEY: "re_e2e_key", RESEND_BASE_URL: mailbox.url } });
    const tenantA = tenant(await signUpTenant(gateway.baseUrl, { email: "tenant-a@e2e.test", password: password(), name: "Tenant A", orgName: "Tenant A", keyName: "e2e-a" }));
    const tenantB = tenant(await signUpTenant(gateway.baseUrl, { email: "tenant-b@e2e.test", password: password(), name: "Tenant B", orgName: "Tenant B", keyName: "e2e-b" }));
    project.provide("gateway", { baseUrl: gateway.baseUrl, stateDir, logFile, tenantA, tenantB, mailboxUrl: mailbox.url });
  } catch (err) {
    await teardown();
    throw err;
  }

  return teardown;
}
