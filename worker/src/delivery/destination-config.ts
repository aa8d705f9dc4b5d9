import { decryptSecret } from "../lib/crypto.js";
import type { CircuitBreakerPolicy, DestinationType, RetryPolicy } from "../model/types.js";
import type { DestinationRow } from "../db/repositories/destinations.js";
import { getProvider } from "../providers/destinations/registry.js";
import type { DestinationProvider } from "../providers/destinations/types.js";

export interface LoadedDestination {
  id: string;
  enabled: boolean;
  provider: DestinationProvider<unknown>;
  /** Full config, secrets decrypted: lives only in the scheduler's memory. */
  config: unknown;
  retry_policy: RetryPolicy;
  circuit_breaker: CircuitBreakerPolicy;
}

export async function loadDestinationConfig(row: DestinationRow, encryptionKey: string): Promise<LoadedDestination> {
  const provider = getProvider(row.type as DestinationType);
  if (!provider) throw new Error(`no provider for destination type ${row.type}`);
  const visible = JSON.parse(row.config) as Record<string, unknown>;
  const secrets = row.secrets ? (JSON.parse(await decryptSecret(encryptionKey, row.secrets)) as Record<string, unknown>) : {};
  return {
    id: row.id,
    enabled: row.enabled,
    provider,
    config: { ...visible, ...secrets },
    retry_policy: JSON.parse(row.retry_policy) as RetryPolicy,
    circuit_breaker: JSON.parse(row.circuit_breaker) as CircuitBreakerPolicy,
  };
}
