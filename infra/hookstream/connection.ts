import * as pulumi from "@pulumi/pulumi";
import type { Filters } from "../../worker/src/routing/filters.js";
import { callerLocation } from "./declared-in.js";
import type { Destination } from "./destination.js";
import type { Source } from "./source.js";
import type { Declaration, Declared } from "./types.js";

export interface ConnectionArgs extends Declared {
  /** A declared Source object (a reference to something undeclared does not compile). */
  source: Source;
  destination: Destination;
  /** All must match; rules `{ field, op, value }` and groups `{ any: [...] }` / `{ all: [...] }`. */
  filters?: Filters;
  /** JSONata over `{ body, headers, query, metadata }`. */
  transform?: pulumi.Input<string | null>;
  /** JSON Schema the (transformed) event must satisfy. */
  schema?: Record<string, unknown> | null;
  schema_mode?: "reject" | "warn";
  enabled?: boolean;
}

/** A declared route: source → destination with optional filters, transform and schema. */
export class Connection extends pulumi.ComponentResource implements Declaration {
  readonly kind = "connection" as const;
  readonly declaredName: string;
  readonly declaredIn: string | undefined;
  readonly entry: Record<string, unknown>;

  constructor(name: string, args: ConnectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookstream:index:Connection", name, {}, opts);
    const { name: declared, source, destination, ...rest } = args;
    this.declaredName = declared ?? name;
    this.declaredIn = callerLocation();
    this.entry = {
      name: this.declaredName,
      source: (source as Source | undefined)?.declaredName ?? source,
      destination: (destination as Destination | undefined)?.declaredName ?? destination,
      ...rest,
      declared_in: this.declaredIn,
    };
    this.registerOutputs({ declaredName: this.declaredName });
  }
}
