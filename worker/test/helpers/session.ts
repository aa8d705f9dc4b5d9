import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { hex32, ORIGIN, request, type ApiResponse, type RequestOptions } from "./api.js";

export interface SignedIn {
  email: string;
  password: string;
  user_id: string;
  /** `name=value` of the Better Auth session cookie. */
  cookie: string;
  /** The organization and project sign-up provisioned. */
  org_id: string;
  env_id: string;
}

export const uniqueEmail = (prefix = "user") => `${prefix}-${hex32().slice(0, 12)}@example.com`;

const randomIp = () => `10.${[0, 0, 0].map(() => Math.floor(Math.random() * 250) + 1).join(".")}`;

/**
 * POST to Better Auth as a browser on our origin would. Each call comes from its own client
 * IP unless `ip` is given, so the per-IP attempt limit only bites where a test means it to.
 */
export async function authPost(path: string, json: unknown, cookie?: string, ip = randomIp()): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", origin: ORIGIN, "cf-connecting-ip": ip };
  if (cookie) headers.cookie = cookie;
  return SELF.fetch(`${ORIGIN}/api/auth${path}`, { method: "POST", headers, body: JSON.stringify(json) });
}

export function sessionCookie(res: Response): string {
  const setCookie = res.headers.getAll("set-cookie").find((c: string) => c.includes("session_token="));
  if (!setCookie) throw new Error(`no session cookie in ${res.status} response`);
  return setCookie.split(";")[0]!;
}

export async function signIn(email: string, password: string): Promise<string> {
  const res = await authPost("/sign-in/email", { email, password });
  if (res.status !== 200) expect.fail(`sign-in: ${res.status} ${await res.text()}`);
  return sessionCookie(res);
}

/** Signs a new user up and in; returns their session and the org + project sign-up created. */
export async function signUp(opts: { email?: string; password?: string; name?: string } = {}): Promise<SignedIn> {
  const email = opts.email ?? uniqueEmail();
  const password = opts.password ?? `pw-${hex32()}`;
  const up = await authPost("/sign-up/email", { email, password, name: opts.name ?? "Test User" });
  if (up.status !== 200) expect.fail(`sign-up: ${up.status} ${await up.text()}`);
  const cookie = await signIn(email, password);
  const me = await request<{ user: { id: string }; organizations: { id: string }[] }>("GET", "/v1/me", { headers: { cookie } });
  if (me.status !== 200) expect.fail(`GET /v1/me: ${me.status} ${me.text}`);
  const org_id = me.body.organizations[0]!.id;
  const envs = await request<{ data: { id: string }[] }>("GET", "/v1/environments", { headers: { cookie, "x-hookstream-org": org_id } });
  return { email, password, user_id: me.body.user.id, cookie, org_id, env_id: envs.body.data[0]!.id };
}

/** A client acting with a session cookie, optionally on a chosen project/org; writes carry our Origin. */
export function sessionClient(cookie: string, choose: { project?: string; org?: string } = {}) {
  const headers = (method: string, extra?: Record<string, string>) => ({
    cookie,
    ...(method === "GET" || method === "HEAD" ? {} : { origin: ORIGIN }),
    ...(choose.project ? { "x-hookstream-project": choose.project } : {}),
    ...(choose.org ? { "x-hookstream-org": choose.org } : {}),
    ...extra,
  });
  const send = <T>(method: string, path: string, opts: Omit<RequestOptions, "key"> = {}): Promise<ApiResponse<T>> =>
    request<T>(method, path, { ...opts, headers: headers(method, opts.headers) });
  return {
    get: <T = unknown>(path: string) => send<T>("GET", path),
    delete: <T = unknown>(path: string) => send<T>("DELETE", path),
    post: <T = unknown>(path: string, json?: unknown) => send<T>("POST", path, { json }),
    patch: <T = unknown>(path: string, json?: unknown) => send<T>("PATCH", path, { json }),
    request: send,
  };
}

export type SessionClient = ReturnType<typeof sessionClient>;
