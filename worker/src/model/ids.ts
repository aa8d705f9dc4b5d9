/**
 * Prefixed, unguessable, time-sortable ids: `<prefix>_<12 hex ms time><20 hex random>`.
 * Sorting ids sorts by creation time, which makes them usable as list cursors.
 */
export const ID_PREFIXES = {
  organization: "org",
  environment: "env",
  apiKey: "key",
  source: "src",
  destination: "dst",
  connection: "con",
  event: "evt",
  delivery: "dlv",
  attempt: "att",
  deadLetter: "dlq",
  user: "usr",
  member: "mem",
  invitation: "inv",
  session: "ses",
  account: "acc",
  verification: "ver",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;
export type IdPrefix = (typeof ID_PREFIXES)[IdKind];

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function newId(kind: IdKind, now: number = Date.now()): string {
  const random = new Uint8Array(10);
  crypto.getRandomValues(random);
  return `${ID_PREFIXES[kind]}_${Math.floor(now).toString(16).padStart(12, "0")}${hex(random)}`;
}

const ID_PATTERN = /^[a-z]{3}_[0-9a-f]{32}$/;

/** A declared (config-managed) id is derived, not random, so it may be any 32 hex digits. */
export function isId(kind: IdKind, value: string): boolean {
  return value.startsWith(`${ID_PREFIXES[kind]}_`) && ID_PATTERN.test(value);
}
