import { z } from "zod";

/** 4 bytes for IPv4, 16 for IPv6; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is folded into IPv4. */
export interface IpAddress {
  version: 4 | 6;
  bytes: Uint8Array;
}

export interface Cidr extends IpAddress {
  prefix: number;
}

export type IpDecision = "allow" | "deny";

export interface IpRules {
  allow?: readonly string[] | null | undefined;
  deny?: readonly string[] | null | undefined;
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    // Leading zeros are refused: some parsers read them as octal.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseGroups(text: string): number[] | null {
  if (text === "") return [];
  const groups: number[] = [];
  const parts = text.split(":");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (!v4) return null;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
      groups.push(Number.parseInt(part, 16));
    }
  }
  return groups;
}

function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return null;
  // An IPv4 tail is only allowed at the very end.
  if (halves.length === 2 && halves[0]!.includes(".")) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

export function parseIp(input: string): IpAddress | null {
  let text = input.trim();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  if (!text.includes(":")) {
    const v4 = parseIpv4(text);
    return v4 && { version: 4, bytes: v4 };
  }
  const v6 = parseIpv6(text);
  if (!v6) return null;
  return isV4Mapped(v6) ? { version: 4, bytes: v6.slice(12) } : { version: 6, bytes: v6 };
}

function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). Host bits are cleared. */
export function parseCidr(input: string): Cidr | null {
  const text = input.trim();
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? null : text.slice(slash + 1);
  const isV6Text = addressText.includes(":");
  let bytes: Uint8Array | null = null;
  if (isV6Text) bytes = parseIpv6(addressText.replace(/^\[(.*)\]$/, "$1"));
  else bytes = parseIpv4(addressText);
  if (!bytes) return null;

  const max = bytes.length * 8;
  let prefix = max;
  if (prefixText !== null) {
    if (!/^\d{1,3}$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > max) return null;
  }
  if (bytes.length === 16 && isV4Mapped(bytes) && prefix >= 96) {
    return { version: 4, bytes: masked(bytes.slice(12), prefix - 96), prefix: prefix - 96 };
  }
  return { version: bytes.length === 4 ? 4 : 6, bytes: masked(bytes, prefix), prefix };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.version !== ip.version) return false;
  const candidate = masked(ip.bytes, cidr.prefix);
  for (let i = 0; i < candidate.length; i++) if (candidate[i] !== cidr.bytes[i]) return false;
  return true;
}

export const MAX_IP_RULES = 1000;

/** For `ip_allowlist` / `ip_denylist` on create and update. */
export const ipRuleListSchema = z
  .array(z.string().trim().max(64).refine((v) => parseCidr(v) !== null, "must be an IPv4 or IPv6 address or CIDR"))
  .max(MAX_IP_RULES);

function compileList(list: readonly string[] | null | undefined): Cidr[] {
  return (list ?? []).map((entry) => {
    const cidr = parseCidr(entry);
    // Lists are validated on save; skipping a bad deny entry would open the door.
    if (!cidr) throw new Error(`invalid IP rule: ${entry}`);
    return cidr;
  });
}

/**
 * Compiles the lists once (keep the result with the cached source). The deny list wins; a
 * non-empty allow list admits only its ranges; with any rule set, a missing or unparsable
 * client IP (`CF-Connecting-IP`) is denied.
 */
export function compileIpRules(rules: IpRules): (ip: string | null | undefined) => IpDecision {
  const allow = compileList(rules.allow);
  const deny = compileList(rules.deny);
  if (allow.length === 0 && deny.length === 0) return () => "allow";
  return (ipText) => {
    const ip = ipText ? parseIp(ipText) : null;
    if (!ip) return "deny";
    if (deny.some((c) => cidrContains(c, ip))) return "deny";
    if (allow.length > 0 && !allow.some((c) => cidrContains(c, ip))) return "deny";
    return "allow";
  };
}

export function decideIp(ip: string | null | undefined, rules: IpRules): IpDecision {
  return compileIpRules(rules)(ip);
}
