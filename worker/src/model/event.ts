/** The request as received at an ingest URL, the unit the routing core works on. */
export interface ReceivedRequest {
  method: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  query: Record<string, string>;
  /** Raw body bytes as text (utf8) or base64 when not valid UTF-8. */
  body: string;
  body_encoding: "utf8" | "base64";
}

/** A connection's delivery-time steps, snapshotted into the message when it is routed. */
export interface MessageRoute {
  transform: string | null;
  schema: object | null;
  schema_mode: "reject" | "warn";
}

/** What a destination receives for one delivery. Built by routing, carried by the scheduler. */
export interface OutboundMessage {
  /** Stable across retries: the Standard Webhooks `webhook-id`. */
  delivery_id: string;
  event_id: string;
  source_id: string;
  connection_id: string;
  destination_id: string;
  org_id: string;
  env_id: string;
  received_at: number;
  method: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  /** Inline body, or null when it lives in R2 under `body_r2_key`. */
  body: string | null;
  body_encoding: "utf8" | "base64";
  body_r2_key: string | null;
  /** Transform and schema of the connection; null when it has neither. */
  route: MessageRoute | null;
}
