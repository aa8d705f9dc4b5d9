/**
 * The Pulumi program that deploys hookstream into a Cloudflare account: the platform from the
 * stack config (Pulumi.<stack>.yaml), the routing declared in routing.ts. A default-exported
 * function, so the same program can be compiled more than once in one process (compileLocally).
 */
import { Gateway, readPlatformConfig } from "./hookstream/index.js";
import { declareRouting } from "./routing.js";

export default async function program() {
  const platform = readPlatformConfig();
  const routing = declareRouting();
  const gateway = new Gateway("hookstream", { ...platform, ...routing });

  const sinks = Object.fromEntries(
    routing.destinations.flatMap((d) => (d.sink ? [[d.declaredName, { type: d.sink.kind, name: d.sink.name, arn: d.sink.arn, created: d.sink.created }]] : [])),
  );
  return {
    ingestUrls: gateway.ingestUrls,
    apiUrl: gateway.apiUrl,
    dashboardUrl: gateway.dashboardUrl,
    sinks,
    workerName: gateway.script.scriptName,
    d1DatabaseId: gateway.database.uuid,
    durableObjectMigrationTag: gateway.durableObjectMigrationTag,
  };
}
