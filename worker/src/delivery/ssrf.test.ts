import { describe, expect, it } from "vitest";
import { isBlockedHost, parseIpv6 } from "./ssrf.js";

const BLOCKED: readonly string[] = [
  // IPv4 ranges, edges included
  "127.0.0.1",
  "127.255.255.254",
  "10.0.0.1",
  "10.255.255.255",
  "172.16.0.1",
  "172.31.255.255",
  "192.168.0.1",
  "192.168.255.255",
  "169.254.169.254",
  "100.64.0.1",
  "100.127.255.255",
  "100.100.100.200",
  "0.0.0.0",
  "0.1.2.3",
  "224.0.0.1",
  "239.255.255.250",
  "240.0.0.1",
  "255.255.255.255",
  "198.18.0.1",
  // IPv6
  "::1",
  "[::1]",
  "::",
  "[::]",
  "0:0:0:0:0:0:0:1",
  "fe80::1",
  "[fe80::1ff:fe23:4567:890a]",
  "febf::1",
  "fc00::1",
  "fd00:ec2::254",
  "fdff:ffff::1",
  "ff02::1",
  "::7f00:1",
  // IPv4-mapped, dotted and hex forms
  "::ffff:10.0.0.1",
  "::ffff:a00:1",
  "[::ffff:a00:1]",
  "::ffff:127.0.0.1",
  "::ffff:7f00:1",
  "0:0:0:0:0:ffff:169.254.169.254",
  "::ffff:a9fe:a9fe",
  // NAT64 and 6to4 wrapping a private IPv4
  "64:ff9b::7f00:1",
  "2002:7f00:1::",
  // names
  "localhost",
  "LOCALHOST",
  "localhost.",
  "api.localhost",
  "a.b.localhost",
  "metadata",
  "metadata.google.internal",
  "METADATA.google.internal.",
  "instance-data",
  // shorthand IPv4, normalised as the URL parser does
  "2130706433",
  "0x7f.1",
  "0x7f000001",
  "017700000001",
  "127.1",
  "0",
  "0177.0.0.1",
  "127.0.0.%31",
  // unparsable
  "",
  "1.2.3.256",
  "::ffff:1.2.3.4.5",
  "1::2::3",
];

const ALLOWED: readonly string[] = [
  "example.com",
  "hooks.example.com",
  "93.184.216.34",
  "8.8.8.8",
  "1.1.1.1",
  "172.15.255.255",
  "172.32.0.1",
  "100.63.255.255",
  "100.128.0.1",
  "169.253.255.255",
  "192.169.0.1",
  "11.0.0.1",
  "223.255.255.255",
  "2606:4700:4700::1111",
  "[2606:4700:4700::1111]",
  "2001:4860:4860::8888",
  "::ffff:8.8.8.8",
  "::ffff:808:808",
  "64:ff9b::808:808",
  "2002:808:808::1",
  "2a00:1450:4001::1",
  "localhost.example.com",
  "mylocalhost",
  "metadata.example.com",
  "134744072", // 8.8.8.8 as a decimal
];

describe("isBlockedHost", () => {
  it.each(BLOCKED)("blocks %s", (host) => {
    expect(isBlockedHost(host)).toBe(true);
  });

  it.each(ALLOWED)("allows %s", (host) => {
    expect(isBlockedHost(host)).toBe(false);
  });
});

describe("isBlockedHost on URL.hostname", () => {
  const cases: ReadonlyArray<readonly [url: string, hostname: string, blocked: boolean]> = [
    ["http://2130706433/", "127.0.0.1", true],
    ["http://0x7f.1/", "127.0.0.1", true],
    ["http://017700000001/", "127.0.0.1", true],
    ["http://0x7f000001:8080/x", "127.0.0.1", true],
    ["http://127.1/", "127.0.0.1", true],
    ["http://0/", "0.0.0.0", true],
    ["http://0xa9.0xfe.0xa9.0xfe/latest/meta-data", "169.254.169.254", true],
    ["http://2852039166/", "169.254.169.254", true],
    ["http://[::ffff:10.0.0.1]/", "[::ffff:a00:1]", true],
    ["http://[0:0:0:0:0:ffff:127.0.0.1]/", "[::ffff:7f00:1]", true],
    ["http://[::127.0.0.1]/", "[::7f00:1]", true],
    ["http://LocalHost./", "localhost.", true],
    ["http://127.0.0.1./", "127.0.0.1", true],
    ["https://hooks.example.com/in", "hooks.example.com", false],
    ["http://134744072/", "8.8.8.8", false],
    ["http://[::ffff:8.8.8.8]/", "[::ffff:808:808]", false],
  ];

  it.each(cases)("%s → %s", (raw, hostname, blocked) => {
    const url = new URL(raw);
    expect(url.hostname).toBe(hostname);
    expect(isBlockedHost(url.hostname)).toBe(blocked);
  });
});

describe("parseIpv6", () => {
  it("expands compressed forms and embedded IPv4", () => {
    expect(parseIpv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("fe80::1:2")).toEqual([0xfe80, 0, 0, 0, 0, 0, 1, 2]);
    expect(parseIpv6("::ffff:10.0.0.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("rejects malformed addresses", () => {
    for (const bad of ["1:2:3", "1::2::3", "12345::", "1:2:3:4:5:6:7:8::", "::g", "1.2.3.4:5::"]) {
      expect(parseIpv6(bad), bad).toBeNull();
    }
  });
});
