import type { z } from "zod";
import type { DeliveryResult } from "../../delivery/result.js";
import type { Outbound } from "../../delivery/outbound.js";
import type { DestinationType } from "../../model/types.js";

/** The body of one delivery, resolved (R2 bodies already fetched). */
export interface DeliveryPayload {
  delivery_id: string;
  event_id: string;
  source_id: string;
  connection_id: string;
  destination_id: string;
  attempt_number: number;
  method: string;
  /** Original request headers (lower-case), already stripped of hop-by-hop and platform headers. */
  headers: Record<string, string>;
  query: Record<string, string>;
  body: Uint8Array;
  content_type: string | null;
}

export interface DeliverContext {
  /** The one door to the network: timeout, size cap, SSRF guard. */
  outbound: Outbound;
  now: () => number;
}

export interface DestinationProvider<C = unknown> {
  type: DestinationType;
  /** Validates `config` on create/update. Secret fields must be listed in `secretFields`. */
  configSchema: z.ZodType<C>;
  /** Config keys that are write-only: encrypted at rest, masked in output. */
  secretFields: readonly string[];
  /** Fills generated values (e.g. a signing secret) on create; returns the config to store. */
  prepare?(config: C): Promise<C>;
  deliver(payload: DeliveryPayload, config: C, ctx: DeliverContext): Promise<DeliveryResult>;
}
