import { describe, expect, it } from "vitest";
import { cidrContains, compileIpRules, decideIp, ipRuleListSchema, parseCidr, parseIp } from "./ip-rules.js";

const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString("hex");

describe("parseIp", () => {
  it("reads IPv4 and IPv6 in their usual spellings", () => {
    expect(parseIp("192.0.2.1")).toEqual({ version: 4, bytes: new Uint8Array([192, 0, 2, 1]) });
    expect(hex(parseIp("2001:db8::1")?.bytes)).toBe("20010db8000000000000000000000001");
    expect(hex(parseIp("::")?.bytes)).toBe("0".repeat(32));
    expect(hex(parseIp("[2001:DB8:0:0:0:0:0:1]")?.bytes)).toBe("20010db8000000000000000000000001");
    expect(hex(parseIp("fe80::1%eth0")?.bytes)).toBe("fe800000000000000000000000000001");
    expect(hex(parseIp("64:ff9b::192.0.2.33")?.bytes)).toBe("0064ff9b0000000000000000c0000221");
  });

  it("folds IPv4-mapped IPv6 into IPv4", () => {
    expect(parseIp("::ffff:192.0.2.1")).toEqual({ version: 4, bytes: new Uint8Array([192, 0, 2, 1]) });
    expect(parseIp("::FFFF:c000:0201")).toEqual({ version: 4, bytes: new Uint8Array([192, 0, 2, 1]) });
    expect(parseIp("0:0:0:0:0:ffff:192.0.2.1")?.version).toBe(4);
    expect(parseIp("::192.0.2.1")?.version).toBe(6);
  });

  it("refuses what is not an address", () => {
    for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "::ffff:1.2.3", "1.2.3.4::", ":1", "g::1", "localhost"]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });
});

describe("parseCidr", () => {
  it("clears host bits and treats a bare address as a single host", () => {
    expect(parseCidr("10.1.2.3/8")).toEqual({ version: 4, bytes: new Uint8Array([10, 0, 0, 0]), prefix: 8 });
    expect(parseCidr("192.0.2.7")?.prefix).toBe(32);
    expect(parseCidr("2001:db8::/32")?.prefix).toBe(32);
    expect(parseCidr("2001:db8::1")?.prefix).toBe(128);
    expect(parseCidr("0.0.0.0/0")?.prefix).toBe(0);
  });

  it("turns an IPv4-mapped range into its IPv4 range", () => {
    expect(parseCidr("::ffff:10.0.0.0/104")).toEqual({ version: 4, bytes: new Uint8Array([10, 0, 0, 0]), prefix: 8 });
  });

  it("refuses bad prefixes", () => {
    for (const bad of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "::/129", "10.0.0.0/8/8", "10.0.0.0/a"]) expect(parseCidr(bad), bad).toBeNull();
  });
});

describe("cidrContains", () => {
  it("compares the prefix bits, inside one family only", () => {
    const net = parseCidr("192.168.0.0/23")!;
    expect(cidrContains(net, parseIp("192.168.1.255")!)).toBe(true);
    expect(cidrContains(net, parseIp("192.168.2.0")!)).toBe(false);
    expect(cidrContains(parseCidr("::/0")!, parseIp("192.168.1.1")!)).toBe(false);
    expect(cidrContains(parseCidr("2001:db8:abcd::/47")!, parseIp("2001:db8:abcd:1::1")!)).toBe(true);
    expect(cidrContains(parseCidr("2001:db8:abcd::/48")!, parseIp("2001:db8:abce::1")!)).toBe(false);
  });
});

describe("decideIp", () => {
  it("allows everyone when there are no rules", () => {
    expect(decideIp("203.0.113.9", {})).toBe("allow");
    expect(decideIp(null, { allow: [], deny: null })).toBe("allow");
  });

  it("admits only the allow list when there is one", () => {
    const rules = { allow: ["203.0.113.0/24", "2001:db8::/32"] };
    expect(decideIp("203.0.113.9", rules)).toBe("allow");
    expect(decideIp("::ffff:203.0.113.9", rules)).toBe("allow");
    expect(decideIp("2001:db8::5", rules)).toBe("allow");
    expect(decideIp("198.51.100.1", rules)).toBe("deny");
  });

  it("lets the deny list win over the allow list", () => {
    const rules = { allow: ["10.0.0.0/8"], deny: ["10.6.6.0/24", "::ffff:10.7.7.7"] };
    expect(decideIp("10.1.1.1", rules)).toBe("allow");
    expect(decideIp("10.6.6.6", rules)).toBe("deny");
    expect(decideIp("10.7.7.7", rules)).toBe("deny");
    expect(decideIp("::ffff:10.6.6.6", rules)).toBe("deny");
    expect(decideIp("203.0.113.1", { deny: ["10.0.0.0/8"] })).toBe("allow");
  });

  it("denies a missing or unreadable client IP once any rule is set", () => {
    expect(decideIp(undefined, { deny: ["10.0.0.0/8"] })).toBe("deny");
    expect(decideIp("unknown", { allow: ["0.0.0.0/0"] })).toBe("deny");
  });

  it("compiles once and refuses lists that were never validated", () => {
    const decide = compileIpRules({ allow: ["192.0.2.0/24"] });
    expect(decide("192.0.2.1")).toBe("allow");
    expect(() => compileIpRules({ deny: ["10.0.0.0/8", "nonsense"] })).toThrow();
    expect(ipRuleListSchema.safeParse(["10.0.0.0/8", " 2001:db8::/32 "]).success).toBe(true);
    expect(ipRuleListSchema.safeParse(["10.0.0.0/8", "nonsense"]).success).toBe(false);
  });
});
