import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { DeclaredSourceSchema } from "../../worker/src/config/schema.js";
import type { TemplateId } from "../../worker/src/providers/sources/templates.js";
import { callerLocation } from "./declared-in.js";
import type { Declaration, Declared, InputFields } from "./types.js";

type SourceBody = Omit<z.input<typeof DeclaredSourceSchema>, "name" | "declared_in" | "template">;

export type SourceArgs = Declared & Omit<InputFields<SourceBody>, "description"> & {
  /** A provider template (stripe, github, shopify…): fills in the scheme, headers, tolerance and event id/type. */
  template?: TemplateId | null;
  /** Shorthand for `verification.secret` (the provider's signing secret); pass a secret Output. */
  secret?: pulumi.Input<string>;
  description?: pulumi.Input<string | null>;
};

/** A declared ingest endpoint. Its ingest URL is stable: the id derives from project + declared name. */
export class Source extends pulumi.ComponentResource implements Declaration {
  readonly kind = "source" as const;
  readonly declaredName: string;
  readonly declaredIn: string | undefined;
  readonly entry: Record<string, unknown>;

  constructor(name: string, args: SourceArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("hookstream:index:Source", name, {}, opts);
    const { name: declared, secret, verification, ...rest } = args as SourceArgs & { verification?: Record<string, unknown> | null };
    this.declaredName = declared ?? name;
    this.declaredIn = callerLocation();
    const withSecret = secret === undefined ? verification : { ...(verification ?? {}), secret };
    this.entry = { name: this.declaredName, ...rest, ...(withSecret === undefined ? {} : { verification: withSecret }), declared_in: this.declaredIn };
    this.registerOutputs({ declaredName: this.declaredName });
  }
}
