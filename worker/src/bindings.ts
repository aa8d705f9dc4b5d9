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
  allowPrivateDestinations: "ALLOW_PRIVATE_DESTINATIONS",
  publicUrl: "PUBLIC_URL",
} as const;

export const DURABLE_OBJECT_CLASSES = { deliveryScheduler: "DeliveryScheduler", sourceGuard: "SourceGuard", websocketHub: "WebSocketHub" } as const;
