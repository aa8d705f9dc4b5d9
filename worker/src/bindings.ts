/**
 * Binding names, in one place: infra imports this to wire the deployed Worker, and a test
 * checks that wrangler.jsonc agrees.
 */
export const BINDINGS = {
  db: "DB",
  kv: "KV",
  bodies: "BODIES",
  deliveryScheduler: "DELIVERY_SCHEDULER",
  sourceGuard: "SOURCE_GUARD",
  websocketHub: "WEBSOCKET_HUB",
  encryptionKey: "ENCRYPTION_KEY",
  betterAuthSecret: "BETTER_AUTH_SECRET",
  resendApiKey: "RESEND_API_KEY",
  resendBaseUrl: "RESEND_BASE_URL",
  notifyFrom: "NOTIFY_FROM",
  allowPrivateDestinations: "ALLOW_PRIVATE_DESTINATIONS",
  publicUrl: "PUBLIC_URL",
  gatewayConfig: "GATEWAY_CONFIG",
  gatewaySecrets: "GATEWAY_SECRETS",
} as const;

/** Secret bindings (never in wrangler.jsonc vars): infra sets them as secret_text. */
export const SECRET_BINDINGS = [BINDINGS.encryptionKey, BINDINGS.betterAuthSecret, BINDINGS.resendApiKey, BINDINGS.gatewaySecrets] as const;

export const DURABLE_OBJECT_CLASSES = { deliveryScheduler: "DeliveryScheduler", sourceGuard: "SourceGuard", websocketHub: "WebSocketHub" } as const;
