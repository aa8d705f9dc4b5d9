type Ipv4Range = readonly [base: string, prefix: number];
type Ipv6Range = readonly [base: string, prefix: number];

const BLOCKED_IPV4: readonly Ipv4Range[] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // TEST-NET-1
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // TEST-NET-2
  ["203.0.113.0", 24], // TEST-NET-3
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

const BLOCKED_IPV6: readonly Ipv6Range[] = [
  ["::", 96], // unspecified, loopback, deprecated IPv4-compatible
  ["100::", 64], // discard-only
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique-local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // deprecated site-local
  ["ff00::", 8], // multicast
];

/** IPv6 prefixes that carry an IPv4 address in their low 32 bits; the IPv4 address decides. */
const EMBEDS_IPV4_LOW32: readonly Ipv6Range[] = [
  ["::ffff:0:0", 96], // IPv4-mapped
  ["64:ff9b::", 96], // NAT64
];

const BLOCKED_NAMES: ReadonlySet<string> = new Set([
  "localhost",
  "metadata",
  "metadata.google.internal",
  "instance-data",
  "instance-data.ec2.internal",
]);

const BLOCKED_NAME_SUFFIXES: readonly string[] = [".localhost"];

export function parseIpv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** Parses a textual IPv6 address (no brackets, no zone) into 8 groups of 16 bits. */
export function parseIpv6(text: string): number[] | null {
  if (!/^[0-9a-f:.]+$/i.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;

  const toGroups = (part: string): number[] | null => {
    if (part === "") return [];
    const groups: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? "";
      if (piece.includes(".")) {
        if (i !== pieces.length - 1) return null;
        const v4 = parseIpv4(piece);
        if (v4 === null) return null;
        groups.push(Math.floor(v4 / 0x10000), v4 % 0x10000);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(piece)) return null;
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };

  const head = toGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? toGroups(halves[1] ?? "") : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

interface ParsedIpv4Range {
  base: number;
  prefix: number;
}
interface ParsedIpv6Range {
  base: number[];
  prefix: number;
}

function compileIpv4([text, prefix]: Ipv4Range): ParsedIpv4Range {
  const base = parseIpv4(text);
  if (base === null) throw new Error(`bad IPv4 range ${text}`);
  return { base, prefix };
}

function compileIpv6([text, prefix]: Ipv6Range): ParsedIpv6Range {
  const base = parseIpv6(text);
  if (base === null) throw new Error(`bad IPv6 range ${text}`);
  return { base, prefix };
}

function ipv4InRange(address: number, { base, prefix }: ParsedIpv4Range): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(address / size) === Math.floor(base / size);
}

function ipv6InRange(groups: readonly number[], { base, prefix }: ParsedIpv6Range): boolean {
  let remaining = prefix;
  for (let i = 0; i < 8 && remaining > 0; i++) {
    const bits = Math.min(16, remaining);
    const mask = (0xffff << (16 - bits)) & 0xffff;
    if (((groups[i] ?? 0) & mask) !== ((base[i] ?? 0) & mask)) return false;
    remaining -= bits;
  }
  return true;
}

const IPV4_TABLE = BLOCKED_IPV4.map(compileIpv4);
const IPV6_TABLE = BLOCKED_IPV6.map(compileIpv6);
const EMBEDS_LOW32_TABLE = EMBEDS_IPV4_LOW32.map(compileIpv6);
const SIX_TO_FOUR = compileIpv6(["2002::", 16]);

function isBlockedIpv4(address: number): boolean {
  return IPV4_TABLE.some((range) => ipv4InRange(address, range));
}

function isBlockedIpv6(groups: readonly number[]): boolean {
  if (EMBEDS_LOW32_TABLE.some((range) => ipv6InRange(groups, range))) {
    return isBlockedIpv4((groups[6] ?? 0) * 0x10000 + (groups[7] ?? 0));
  }
  if (ipv6InRange(groups, SIX_TO_FOUR)) {
    // 6to4 carries the IPv4 address in bits 16..47.
    return isBlockedIpv4((groups[1] ?? 0) * 0x10000 + (groups[2] ?? 0));
  }
  return IPV6_TABLE.some((range) => ipv6InRange(groups, range));
}

/**
 * Whether an outbound request to `hostname` must be refused: loopback, private, link-local,
 * CGNAT, multicast/reserved addresses, cloud metadata names and `localhost`.
 * Accepts `URL.hostname` (IPv6 in brackets) as well as raw literals; IPv4 shorthand such as
 * `2130706433` or `0x7f.1` is normalised with the WHATWG URL parser, as `fetch` would.
 * Names are not resolved: a public name pointing at a private address is not caught here.
 */
export function isBlockedHost(hostname: string): boolean {
  let host = hostname.trim().toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "") return true;

  if (host.includes(":")) {
    const groups = parseIpv6(host);
    return groups === null || isBlockedIpv6(groups);
  }

  let normalised: string;
  try {
    normalised = new URL(`http://${host}/`).hostname;
  } catch {
    // fetch could not reach a host the URL parser rejects either; refuse rather than guess.
    return true;
  }
  if (normalised.endsWith(".")) normalised = normalised.slice(0, -1);

  const v4 = parseIpv4(normalised);
  if (v4 !== null) return isBlockedIpv4(v4);

  return BLOCKED_NAMES.has(normalised) || BLOCKED_NAME_SUFFIXES.some((suffix) => normalised.endsWith(suffix));
}
