import { OpenAPIHono, z } from "@hono/zod-openapi";
import { AppError } from "../lib/errors.js";
import { handleIngest } from "../ingest/handler.js";
import { authenticate } from "./auth.js";
import { handleAuth } from "../auth/auth-routes.js";
import { invitationsApi, meApi, membersApi, orgApi } from "./members.js";
import type { AppEnv } from "./context.js";
import { onError } from "./errors.js";
import { ensureDeclaredConfig } from "../declared/sync.js";
import { FilterRuleDoc } from "./schemas.js";
import { sourcesApi, sourceTemplatesApi } from "./sources.js";
import { destinationsApi } from "./destinations.js";
import { connectionsApi } from "./connections.js";
import { attemptsApi, eventsApi } from "./events.js";
import { apiKeysApi, environmentsApi } from "./tenancy.js";

export const OPENAPI_INFO = { title: "hookstream API", version: "0.1.0" };

/**
 * The REST resources under /v1, all behind `authenticate` (API key or session, then the
 * permission table in auth/permissions.ts). Exported for the OpenAPI document and route tests.
 */
export function createApi() {
  const api = new OpenAPIHono<AppEnv>();
  api.use("*", authenticate);
  api.route("/sources", sourcesApi);
  api.route("/source-templates", sourceTemplatesApi);
  api.route("/destinations", destinationsApi);
  api.route("/connections", connectionsApi);
  api.route("/events", eventsApi);
  api.route("/delivery-attempts", attemptsApi);
  api.route("/environments", environmentsApi);
  api.route("/projects", environmentsApi);
  api.route("/api-keys", apiKeysApi);
  api.route("/org", orgApi);
  api.route("/members", membersApi);
  api.route("/invitations", invitationsApi);
  api.route("/me", meApi);
  return api;
}

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.onError(onError);
  app.notFound(() => {
    throw new AppError("not_found", "no such route");
  });

  // Before anything touches D1: the Worker's own migrations, then the declared config (declared/).
  app.use("*", async (c, next) => {
    await ensureDeclaredConfig(c.env);
    await next();
  });
  app.get("/healthz", async (c) => c.json({ ok: true, config: await ensureDeclaredConfig(c.env) }));
  // Better Auth (sign-up, sign-in, sign-out, change-password, get-session): see docs/accounts.md.
  app.on(["GET", "POST"], "/api/auth/*", handleAuth);
  app.all("/v1/ingest/:source_id", (c) => handleIngest(c.req.raw, c.env, c.executionCtx, c.req.param("source_id")));
  const api = createApi();
  api.openAPIRegistry.register("FilterRule", FilterRuleDoc);
  api.openAPIRegistry.registerComponent("securitySchemes", "apiKey", { type: "http", scheme: "bearer", description: "hs_live_… / hs_test_… project API key" });
  api.openAPIRegistry.registerComponent("securitySchemes", "session", {
    type: "apiKey", in: "cookie", name: "better-auth.session_token",
    description: "Better Auth session cookie from POST /api/auth/sign-in/email; pick the project with X-Hookstream-Project (and the org with X-Hookstream-Org)",
  });
  // Documented on the /v1 document (its server is /v1); served above, outside the API-key middleware.
  api.openAPIRegistry.registerPath({
    method: "post",
    path: "/ingest/{source_id}",
    tags: ["Ingest"],
    summary: "Receive a webhook (any method). Answers once the event is durable.",
    security: [],
    request: { params: z.object({ source_id: z.string().openapi({ param: { name: "source_id", in: "path" } }) }) },
    responses: { 202: { description: "accepted: `{ \"event_id\": \"evt_…\" }`" }, 404: { description: "unknown source" }, 413: { description: "body over the source's limit" } },
  });
  app.get("/v1/openapi.json", (c) =>
    c.json(api.getOpenAPI31Document({ openapi: "3.1.0", info: OPENAPI_INFO, servers: [{ url: "/v1" }], security: [{ apiKey: [] }, { session: [] }] })),
  );
  app.route("/v1", api);
  return app;
}
