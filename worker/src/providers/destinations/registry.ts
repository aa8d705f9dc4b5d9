import type { DestinationType } from "../../model/types.js";
import { httpDestination } from "./http.js";
import { websocketDestination } from "./websocket.js";
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
      return provider.deliver(payload, parsed.data, ctx);
    },
  };
}

export const DESTINATION_PROVIDERS: Readonly<Partial<Record<DestinationType, DestinationProvider<unknown>>>> = {
  http: registerProvider(httpDestination),
  websocket: registerProvider(websocketDestination),
};

export function getProvider(type: DestinationType): DestinationProvider<unknown> | undefined {
  return DESTINATION_PROVIDERS[type];
}
