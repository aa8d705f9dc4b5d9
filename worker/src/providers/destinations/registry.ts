import type { DestinationType } from "../../model/types.js";
import { eventBridgeDestination } from "./eventbridge.js";
import { httpDestination } from "./http.js";
import { websocketDestination } from "./websocket.js";
import { kafkaDestination } from "./kafka.js";
import { pubsubDestination } from "./pubsub.js";
import { rabbitmqDestination } from "./rabbitmq.js";
import { s3Destination } from "./s3.js";
import { sqsDestination } from "./sqs.js";
import type { DeliveryResult } from "../../delivery/result.js";
import type { DestinationProvider } from "./types.js";

/**
 * Erases the config type so providers fit one table. Stored config arrives as `unknown`,
 * so it is parsed with the provider's own schema before the typed provider sees it.
 */
export function registerProvider<C>(provider: DestinationProvider<C>): DestinationProvider<unknown> {
  const { prepare } = provider;
  return {
    type: provider.type,
    configSchema: provider.configSchema,
    secretFields: provider.secretFields,
    ...(prepare === undefined ? {} : { prepare: async (config: unknown) => prepare(provider.configSchema.parse(config)) }),
    async deliver(payload, config, ctx) {
      const parsed = provider.configSchema.safeParse(config);
      if (!parsed.success) {
        return {
          kind: "permanent",
          error: `invalid ${provider.type} destination config`,
          status_code: null,
          response_body: null,
          latency_ms: 0,
        };
      }
      const result = await provider.deliver(payload, parsed.data, ctx);
      return redactResult(result, secretValues(provider.secretFields, parsed.data));
    },
  };
}

/** The values of a config's secret fields, plus the pieces of a JSON key that must never be shown. */
function secretValues(fields: readonly string[], config: unknown): string[] {
  const values: string[] = [];
  for (const name of fields) {
    const value = (config as Record<string, unknown>)[name];
    if (typeof value !== "string" || value.length < 4) continue;
    values.push(value);
    try {
      const inner = JSON.parse(value) as Record<string, unknown>;
      for (const key of ["private_key", "private_key_id"]) if (typeof inner[key] === "string") values.push(inner[key]);
    } catch {
      // not JSON
    }
  }
  return values;
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join("[redacted]");
  return out;
}

/** The last line of defence: no attempt error or recorded response body ever carries a secret value. */
export function redactResult(result: DeliveryResult, secrets: readonly string[]): DeliveryResult {
  if (secrets.length === 0) return result;
  const response_body = result.response_body === null ? null : redact(result.response_body, secrets);
  if (result.kind === "delivered") return { ...result, response_body };
  return { ...result, error: redact(result.error, secrets), response_body };
}

export const DESTINATION_PROVIDERS: Readonly<Partial<Record<DestinationType, DestinationProvider<unknown>>>> = {
  http: registerProvider(httpDestination),
  websocket: registerProvider(websocketDestination),
  sqs: registerProvider(sqsDestination),
  s3: registerProvider(s3Destination),
  eventbridge: registerProvider(eventBridgeDestination),
  pubsub: registerProvider(pubsubDestination),
  kafka: registerProvider(kafkaDestination),
  rabbitmq: registerProvider(rabbitmqDestination),
};

export function getProvider(type: DestinationType): DestinationProvider<unknown> | undefined {
  return DESTINATION_PROVIDERS[type];
}
