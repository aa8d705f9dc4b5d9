import type * as pulumi from "@pulumi/pulumi";

/** Every field (at any depth) may be a plain value, a promise or an Output. */
export type DeepInput<T> = T extends string | number | boolean | null | undefined
  ? pulumi.Input<T>
  : T extends readonly (infer U)[]
    ? pulumi.Input<DeepInput<U>[]>
    : T extends object
      ? pulumi.Input<{ [K in keyof T]: DeepInput<T[K]> }>
      : pulumi.Input<T>;

/** What every declaration shares. */
export interface Declared {
  /** The declared name: unique per kind, part of the resource's stable id. Default: the Pulumi resource name. */
  name?: string;
}

/** Something the Gateway compiles into one entry of the GatewayConfig. */
export interface Declaration {
  readonly kind: "source" | "destination" | "connection";
  readonly declaredName: string;
  readonly declaredIn: string | undefined;
  /** The config entry with Inputs still inside (resolved by the compiler). */
  readonly entry: Record<string, unknown>;
}

/** The fields of T, each a DeepInput (the object itself plain, so it can be extended). */
export type InputFields<T> = { [K in keyof T]: DeepInput<T[K]> };
