import { randomHex, sha256Hex } from "../lib/crypto.js";

export type KeyMode = "live" | "test";
const KEY_PATTERN = /^hs_(live|test)_[0-9a-f]{64}$/;

export interface NewApiKey {
  plaintext: string;
  hash: string;
  prefix: string;
  last4: string;
}

export async function generateApiKey(mode: KeyMode): Promise<NewApiKey> {
  const plaintext = `hs_${mode}_${randomHex(32)}`;
  return { plaintext, hash: await sha256Hex(plaintext), prefix: `hs_${mode}_`, last4: plaintext.slice(-4) };
}

export function looksLikeApiKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

export function maskApiKey(prefix: string, last4: string): string {
  return `${prefix}…${last4}`;
}
