import { inject } from "vitest";
import { expectStatus, type Client } from "./api.js";
import type { Connection, Destination, Source } from "./types.js";

/** A fresh name per call: each test gets its own receiver behaviour and request log. */
export function uniqueName(prefix = "r"): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

export function receiverUrl(name: string): string {
  return `${inject("receiverUrl")}/hook/${name}`;
}

export interface ReceiverBehaviour {
  status: number;
  body?: string;
  body_bytes?: number;
  headers?: Record<string, string>;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body_base64: string;
}

export async function setReceiver(name: string, behaviour: ReceiverBehaviour): Promise<void> {
  const res = await fetch(`${inject("receiverUrl")}/_control/${name}`, { method: "PUT", body: JSON.stringify(behaviour) });
  if (res.status !== 204) throw new Error(`receiver control failed: ${res.status}`);
}

export async function receivedBy(name: string): Promise<ReceivedRequest[]> {
  const res = await fetch(`${inject("receiverUrl")}/_control/${name}`);
  return ((await res.json()) as { requests: ReceivedRequest[] }).requests;
}

export async function createSource(api: Client, overrides: Record<string, unknown> = {}) {
  const res = await api.post<Source>("/v1/sources", { name: uniqueName("source-"), ...overrides });
  expectStatus(res, 201);
  return res.body;
}

export async function createDestination(api: Client, overrides: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  const res = await api.post<Destination>("/v1/destinations", {
    name: uniqueName("dest-"),
    type: "http",
    config: { url: receiverUrl(uniqueName()), ...config },
    ...overrides,
  });
  expectStatus(res, 201);
  return res.body;
}

export async function createConnection(api: Client, source_id: string, destination_id: string, overrides: Record<string, unknown> = {}) {
  const res = await api.post<Connection>("/v1/connections", { source_id, destination_id, ...overrides });
  expectStatus(res, 201);
  return res.body;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
