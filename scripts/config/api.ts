/** A small client for the gateway's REST API as config:plan uses it, with errors a CI log can act on. */
import { ConfigToolError } from "./stack-config.js";

export class ApiError extends ConfigToolError {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  list<T>(path: string, max?: number): Promise<T[]>;
}

const TIMEOUT_MS = 20_000;

export function apiClient(baseUrl: string, apiKey: string, fetchImpl: typeof fetch = fetch): ApiClient {
  // The stack output `apiUrl` ends in /v1; the base URL works too.
  const base = baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "");
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new ConfigToolError(`--against ${baseUrl}: not a URL (give the gateway's base URL, e.g. https://hookstream.acme.workers.dev)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigToolError(`--against ${baseUrl}: not an http(s) URL`);

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response | undefined;
    // A GET that timed out is asked once more (reads are safe to repeat); nothing else is retried.
    for (let attempt = 1; !res; attempt++) {
      try {
        res = await fetchImpl(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${apiKey}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (err) {
        if (method === "GET" && attempt === 1 && (err as Error).name === "TimeoutError") continue;
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (err as Error).name ?? String(err);
        throw new ApiError(`cannot reach the gateway at ${base} (${method} ${path}: ${why})`, null);
      }
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (a proxy's error page): reported below
    }
    if (res.ok && json !== null) return json as T;
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
    const detail = error ? `${error.code}: ${error.message}` : `${text.slice(0, 200) || "(empty body)"}`;
    if (res.status === 401) {
      throw new ApiError(`the gateway at ${base} refused the API key (401 ${detail}); give a project API key (hs_…) with --api-key or HOOKSTREAM_API_KEY`, 401);
    }
    if (res.status === 403) throw new ApiError(`the API key may not ${method} ${path} (403 ${detail}); config:plan needs a key that can read sources, destinations, connections and events and run the dry run`, 403);
    if (res.ok) throw new ApiError(`${method} ${path}: the gateway answered ${res.status} with a body that is not JSON`, res.status);
    throw new ApiError(`${method} ${path}: HTTP ${res.status} ${detail}`, res.status);
  }

  return {
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body),
    async list<T>(path: string, max = Number.POSITIVE_INFINITY) {
      const out: T[] = [];
      let cursor: string | null = null;
      do {
        const limit = Math.min(250, max - out.length);
        const sep = path.includes("?") ? "&" : "?";
        const page: { data: T[]; next_cursor: string | null } = await request("GET", `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        out.push(...page.data);
        cursor = page.next_cursor;
      } while (cursor && out.length < max);
      return out;
    },
  };
}
