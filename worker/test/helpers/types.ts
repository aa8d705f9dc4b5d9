import type { z } from "@hono/zod-openapi";
import type {
  ApiKeySchema, AttemptSchema, CircuitSchema, ConnectionSchema, DeadLetterSchema, DestinationSchema, EnvironmentSchema, EventSchema,
  EventSummarySchema, SourceSchema,
} from "../../src/api/schemas.js";

/** Response types, inferred from the API's own schemas. */
export type Source = z.infer<typeof SourceSchema>;
export type Destination = z.infer<typeof DestinationSchema>;
export type Connection = z.infer<typeof ConnectionSchema>;
export type EventSummary = z.infer<typeof EventSummarySchema>;
export type Event = z.infer<typeof EventSchema>;
export type Attempt = z.infer<typeof AttemptSchema>;
export type Circuit = z.infer<typeof CircuitSchema>;
export type DeadLetter = z.infer<typeof DeadLetterSchema>;
export type Environment = z.infer<typeof EnvironmentSchema>;
export type ApiKey = z.infer<typeof ApiKeySchema>;
export type CreatedApiKey = ApiKey & { key: string };
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
