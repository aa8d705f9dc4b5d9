import { decryptSecret } from "../lib/crypto.js";
import type { CircuitBreakerPolicy, DestinationType, RetryPolicy } from "../model/types.js";
import type { DestinationRow } from "../db/repositories/destinations.js";
import { getProvider } from "../providers/destinations/registry.js";
import type { DestinationProvider } from "../providers/destinations/types.js";
import type { FlowControl } from "./flow-control.js";

export interface LoadedDestination {
  id: string;
  enabled: boolean;
  provider: DestinationProvider<unknown>;
  /** Full config, secrets decrypted: lives only in the scheduler's memory. */
  config: unknown;
  retry_policy: RetryPolicy;
  circuit_breaker: CircuitBreakerPolicy;
  flow: FlowControl;
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
    flow: { per_second: row.rate_limit_per_second, max_in_flight: row.max_in_flight, ordered: row.ordered },
  };
}
