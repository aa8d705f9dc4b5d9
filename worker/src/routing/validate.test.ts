import { describe, expect, it } from "vitest";
import { SCHEMA_LIMITS, checkSchema, validatePayload } from "./validate.js";

const order = {
  type: "object",
  required: ["id", "amount", "items"],
  properties: {
    id: { type: "string", pattern: "^ord_[a-z0-9]+$" },
    amount: { type: "integer", minimum: 0 },
    email: { type: "string", format: "email" },
    tags: { type: "array", items: { type: "string" }, uniqueItems: true },
    items: { type: "array", minItems: 1, items: { $ref: "#/$defs/item" } },
  },
  additionalProperties: false,
  $defs: { item: { type: "object", required: ["sku"], properties: { sku: { type: "string" }, qty: { type: "integer", minimum: 1 } } } },
};

const goodOrder = { id: "ord_1", amount: 1200, email: "a@example.com", tags: ["a", "b"], items: [{ sku: "A-1", qty: 2 }] };

describe("checkSchema: drafts", () => {
  it("defaults to 2020-12 when $schema is absent", () => {
    expect(checkSchema(order)).toEqual({ ok: true, draft: "2020-12" });
  });

  it("recognises 2020-12 and draft-07 URIs", () => {
    expect(checkSchema({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object" })).toEqual({ ok: true, draft: "2020-12" });
    expect(checkSchema({ $schema: "http://json-schema.org/draft-07/schema#", type: "object" })).toEqual({ ok: true, draft: "7" });
    expect(checkSchema({ $schema: "http://json-schema.org/draft-07/schema", type: "object" })).toEqual({ ok: true, draft: "7" });
  });

  it("refuses other $schema values", () => {
    for (const uri of ["http://json-schema.org/draft-04/schema#", "https://json-schema.org/draft/2019-09/schema", "https://example.com/my-meta", 7]) {
      expect(checkSchema({ $schema: uri })).toEqual({
        ok: false,
        message: `unsupported $schema ${JSON.stringify(uri)}: use "https://json-schema.org/draft/2020-12/schema" or "http://json-schema.org/draft-07/schema#"`,
      });
    }
  });

  it("accepts boolean schemas and refuses non-schemas", () => {
    expect(checkSchema(true)).toEqual({ ok: true, draft: "2020-12" });
    expect(checkSchema(42)).toEqual({ ok: false, message: "a schema must be a JSON object (or a boolean)" });
    expect(checkSchema([{ type: "string" }])).toEqual({ ok: false, message: "a schema must be a JSON object (or a boolean)" });
  });
});

describe("checkSchema: meta-schema validation", () => {
  it("rejects a misspelled type", () => {
    const r = checkSchema({ properties: { a: { type: "strin" } } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/^schema is not a valid draft 2020-12 schema: \/properties\/a\/type: /);
  });

  it("rejects wrong keyword types, duplicate required names and invalid regexes", () => {
    expect(checkSchema({ minimum: "3" })).toEqual({ ok: false, message: 'schema is not a valid draft 2020-12 schema: /minimum: Instance type "string" is invalid. Expected "number".' });
    expect(checkSchema({ required: ["a", "a"] })).toEqual({ ok: false, message: "schema is not a valid draft 2020-12 schema: /required: Duplicate items at indexes 0 and 1." });
    expect(checkSchema({ properties: { x: { pattern: "[" } } })).toEqual({ ok: false, message: 'schema is not a valid draft 2020-12 schema: /properties/x/pattern: String does not match format "regex".' });
    expect(checkSchema({ minLength: -1 })).toMatchObject({ ok: false });
    expect(checkSchema({ $anchor: "1bad" })).toMatchObject({ ok: false });
  });

  it("checks nested subschemas too (static recursion stands in for $dynamicRef)", () => {
    expect(checkSchema({ $defs: { a: { items: { properties: { b: { maxItems: 1.5 } } } } } })).toMatchObject({ ok: false, message: expect.stringContaining("/$defs/a/items/properties/b/maxItems") });
    expect(checkSchema({ anyOf: [{ not: { minProperties: "x" } }] })).toMatchObject({ ok: false, message: expect.stringContaining("/anyOf/0/not/minProperties") });
  });

  it("validates draft-07 schemas against the draft-07 meta-schema", () => {
    const d7 = "http://json-schema.org/draft-07/schema#";
    expect(checkSchema({ $schema: d7, exclusiveMinimum: true })).toMatchObject({ ok: false, message: expect.stringMatching(/^schema is not a valid draft 07 schema: \/exclusiveMinimum: /) });
    expect(checkSchema({ $schema: d7, items: [{ type: "string" }, { type: "number" }], additionalItems: false })).toEqual({ ok: true, draft: "7" });
    expect(checkSchema({ $schema: d7, definitions: { a: { type: "nope" } } })).toMatchObject({ ok: false });
  });
});

describe("checkSchema: bounds", () => {
  it("refuses schemas over 64 KB", () => {
    const big = { description: "x".repeat(SCHEMA_LIMITS.maxBytes) };
    expect(checkSchema(big)).toEqual({ ok: false, message: `schema is ${SCHEMA_LIMITS.maxBytes + 18} bytes; the limit is 64 KB` });
  });

  it("refuses schemas nested deeper than 64", () => {
    let deep: object = { type: "string" };
    for (let i = 0; i < 70; i++) deep = { not: deep };
    expect(checkSchema(deep)).toEqual({ ok: false, message: "schema nests deeper than 64 levels" });
    let ok: object = { type: "string" };
    for (let i = 0; i < 60; i++) ok = { not: ok };
    expect(checkSchema(ok)).toEqual({ ok: true, draft: "2020-12" });
  });

  it("refuses unresolved and remote $refs", () => {
    expect(checkSchema({ $ref: "#/$defs/nope" })).toEqual({ ok: false, message: 'unresolved $ref "#/$defs/nope" (only references inside the schema are supported)' });
    expect(checkSchema({ properties: { a: { $ref: "https://example.com/a.json" } } })).toEqual({
      ok: false,
      message: 'unresolved $ref "https://example.com/a.json" (only references inside the schema are supported)',
    });
  });

  it("accepts recursive and $id-based refs", () => {
    const tree = { $id: "https://example.com/tree", type: "object", properties: { children: { type: "array", items: { $ref: "#" } }, leaf: { $ref: "https://example.com/tree#/$defs/leaf" } }, $defs: { leaf: { type: "string" } } };
    expect(checkSchema(tree)).toEqual({ ok: true, draft: "2020-12" });
    expect(validatePayload(tree, { children: [{ children: [{ leaf: 1 }] }] })).toEqual({ valid: false, errors: [{ path: "/children/0/children/0/leaf", message: 'Instance type "number" is invalid. Expected "string".' }] });
  });

  it("refuses a schema whose $refs expand exponentially", () => {
    const defs: Record<string, object> = { d29: { type: "string" } };
    for (let i = 0; i < 29; i++) defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
    expect(checkSchema({ $defs: defs, $ref: "#/$defs/d0" })).toEqual({ ok: false, message: "schema expands to more than 20000 subschemas through $ref" });
  });

  it("refuses catastrophic patterns and pattern property names", () => {
    expect(checkSchema({ properties: { a: { type: "string", pattern: "^(a+)+$" } } })).toEqual({ ok: false, message: "pattern at /properties/a: regex rejected: nested quantifier in /^(a+)+$/" });
    expect(checkSchema({ patternProperties: { "(x|x)*y": { type: "string" } } })).toEqual({
      ok: false,
      message: "patternProperties at the root: regex rejected: overlapping alternatives inside a repeated group in /(x|x)*y/",
    });
  });

  it("refuses format url, whose validator in the library backtracks exponentially", () => {
    expect(checkSchema({ properties: { link: { type: "string", format: "url" } } })).toEqual({
      ok: false,
      message: 'format "url" at /properties/link is not supported (its validator backtracks catastrophically); use "uri"',
    });
  });

  it("refuses $dynamicRef, which the library does not implement", () => {
    expect(checkSchema({ $dynamicAnchor: "node", properties: { next: { $dynamicRef: "#node" } } })).toMatchObject({ ok: false, message: expect.stringContaining("$dynamicRef/$dynamicAnchor") });
  });
});

describe("validatePayload", () => {
  it("accepts a valid payload", () => {
    expect(validatePayload(order, goodOrder)).toEqual({ valid: true });
  });

  it("reports every problem with a JSON-pointer path, innermost cause only", () => {
    const r = validatePayload(order, { id: "x", amount: -1, email: "nope", tags: ["a", "a"], items: [{ sku: "A" }, { qty: 0 }], extra: true });
    expect(r).toEqual({
      valid: false,
      errors: [
        { path: "/id", message: "String does not match pattern." },
        { path: "/amount", message: "-1 is less than 0." },
        { path: "/email", message: 'String does not match format "email".' },
        { path: "/tags", message: "Duplicate items at indexes 0 and 1." },
        { path: "/items/1", message: 'Instance does not have required property "sku".' },
        { path: "/items/1/qty", message: "0 is less than 1." },
        { path: "", message: 'Property "extra" does not match additional properties schema.' },
      ],
    });
  });

  it("reports missing required properties at the object", () => {
    expect(validatePayload(order, { id: "ord_1", amount: 1 })).toEqual({ valid: false, errors: [{ path: "", message: 'Instance does not have required property "items".' }] });
  });

  it("validates formats (asserted, also under 2020-12)", () => {
    const s = { properties: { at: { format: "date-time" }, id: { format: "uuid" }, ip: { format: "ipv4" }, home: { format: "uri" }, day: { format: "date" } } };
    expect(validatePayload(s, { at: "2026-07-01T12:00:00Z", id: "0b6c1a50-1c6e-4b4a-9a7e-2f0e7c1d9b11", ip: "10.0.0.1", home: "https://example.com/x", day: "2026-02-28" })).toEqual({ valid: true });
    const r = validatePayload(s, { at: "yesterday", id: "nope", ip: "300.0.0.1", home: "not a uri", day: "2026-02-30" });
    expect(r.valid === false && r.errors.map((e) => e.path)).toEqual(["/at", "/id", "/ip", "/home", "/day"]);
  });

  it("supports 2020-12 keywords: prefixItems, dependentRequired, unevaluatedProperties", () => {
    const s = { prefixItems: [{ type: "string" }, { type: "number" }], items: false };
    expect(validatePayload(s, ["a", 1])).toEqual({ valid: true });
    expect(validatePayload(s, ["a", 1, 2]).valid).toBe(false);
    expect(validatePayload({ dependentRequired: { card: ["cvc"] } }, { card: "4242" })).toEqual({ valid: false, errors: [{ path: "", message: 'Instance has "card" but does not have "cvc".' }] });
    const closed = { allOf: [{ properties: { a: { type: "number" } } }], unevaluatedProperties: false };
    expect(validatePayload(closed, { a: 1 })).toEqual({ valid: true });
    expect(validatePayload(closed, { a: 1, b: 2 }).valid).toBe(false);
  });

  it("validates draft-07 semantics: tuple items, definitions, $ref siblings ignored", () => {
    const s = {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "array",
      items: [{ type: "string" }, { $ref: "#/definitions/positive" }],
      additionalItems: false,
      definitions: { positive: { type: "number", exclusiveMinimum: 0 } },
    };
    expect(validatePayload(s, ["a", 1])).toEqual({ valid: true });
    expect(validatePayload(s, ["a", 0])).toEqual({ valid: false, errors: [{ path: "/1", message: "0 is less than 0." }] });
    expect(validatePayload(s, ["a", 1, "extra"]).valid).toBe(false);
    const sibling = { $schema: "http://json-schema.org/draft-07/schema#", definitions: { s: { type: "string" } }, properties: { a: { $ref: "#/definitions/s", minLength: 5 } } };
    expect(validatePayload(sibling, { a: "ab" })).toEqual({ valid: true });
  });

  it("validates a raw string or scalar payload", () => {
    expect(validatePayload({ type: "string", maxLength: 3 }, "ping")).toEqual({ valid: false, errors: [{ path: "", message: "String is too long (4 > 3)." }] });
    expect(validatePayload(true, 1)).toEqual({ valid: true });
    expect(validatePayload(false, 1)).toEqual({ valid: false, errors: [{ path: "", message: "False boolean schema." }] });
  });

  it("reports an invalid schema as one error instead of throwing", () => {
    expect(validatePayload({ type: "strin" }, 1)).toMatchObject({ valid: false, errors: [{ path: "", message: expect.stringMatching(/^schema rejected: schema is not a valid draft 2020-12 schema/) }] });
  });

  it("does not touch the caller's schema object", () => {
    const s = structuredClone(order);
    const before = JSON.stringify(s);
    validatePayload(s, goodOrder);
    validatePayload(s, { id: 1 });
    expect(JSON.stringify(s)).toBe(before);
    expect(Object.getOwnPropertyNames(s)).toEqual(Object.getOwnPropertyNames(order));
    expect(Object.getOwnPropertyNames(s.properties.items.items)).toEqual(["$ref"]);
  });

  it("gives the same answer for equal schemas held in different objects", () => {
    const a = validatePayload(structuredClone(order), { id: "x" });
    const b = validatePayload(structuredClone(order), { id: "x" });
    expect(a).toEqual(b);
    expect(a.valid).toBe(false);
  });

  it("caps the number of errors", () => {
    const r = validatePayload({ type: "array", items: { type: "string" } }, Array.from({ length: 100 }, (_, i) => i));
    expect(r.valid === false && r.errors.length).toBe(SCHEMA_LIMITS.maxErrors);
  });
});

describe("validatePayload: bounds against hostile payloads", () => {
  it("bounds the regex work of a whole payload, not only each string (a quadratic pattern over many strings)", () => {
    const s = { properties: { notes: { type: "array", items: { type: "string", pattern: "a*b" } } } };
    const hostile = { notes: Array.from({ length: 30 }, () => "a".repeat(6_998) + "cb") };
    const r = validatePayload(s, hostile);
    expect(r).toMatchObject({ valid: false, errors: [{ path: "", message: expect.stringContaining("too much text to check against the schema's patterns") }] });
    expect(validatePayload(s, { notes: ["aab", "b"] })).toEqual({ valid: true });
    // Without a pattern, long strings cost nothing extra and are not refused.
    expect(validatePayload({ properties: { notes: { type: "array" } } }, hostile)).toEqual({ valid: true });
  });

  it("does not run a pattern on strings over 7 000 characters", () => {
    const s = { properties: { note: { type: "string", pattern: "^[a-z]+$" } } };
    expect(validatePayload(s, { note: "a".repeat(7_000) })).toEqual({ valid: true });
    expect(validatePayload(s, { note: "a".repeat(7_001) })).toEqual({ valid: false, errors: [{ path: "/note", message: "string longer than 7000 characters is not checked against a pattern" }] });
    expect(validatePayload(s, { note: "A" })).toEqual({ valid: false, errors: [{ path: "/note", message: "String does not match pattern." }] });
  });

  it("keeps pattern semantics for non-strings and combines with an existing allOf", () => {
    const s = { allOf: [{ minLength: 2 }], pattern: "^x" };
    expect(validatePayload(s, 5)).toEqual({ valid: true });
    expect(validatePayload(s, "xy")).toEqual({ valid: true });
    expect(validatePayload(s, "y").valid === false && validatePayload(s, "y")).toEqual({
      valid: false,
      errors: [
        { path: "", message: "String is too short (1 < 2)." },
        { path: "", message: "String does not match pattern." },
      ],
    });
  });

  it("does not run uniqueItems on arrays over 1 000 items", () => {
    const s = { uniqueItems: true };
    expect(validatePayload(s, Array.from({ length: 1000 }, (_, i) => i))).toEqual({ valid: true });
    expect(validatePayload(s, [1, 2, 1])).toEqual({ valid: false, errors: [{ path: "", message: "Duplicate items at indexes 0 and 2." }] });
    expect(validatePayload(s, Array.from({ length: 1001 }, (_, i) => i))).toEqual({ valid: false, errors: [{ path: "", message: "array longer than 1000 items is not checked for uniqueItems" }] });
  });

  it("refuses over-long property names when patternProperties apply", () => {
    const s = { patternProperties: { "^x-": { type: "string" } } };
    expect(validatePayload(s, { "x-a": "1" })).toEqual({ valid: true });
    expect(validatePayload(s, { nested: { ["y".repeat(1001)]: 1 } })).toEqual({
      valid: false,
      errors: [{ path: "/nested", message: "property name longer than 1000 characters is not checked against patternProperties" }],
    });
  });

  it("fails a payload nested too deeply for the validator, without throwing", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(validatePayload({ items: { $ref: "#" } }, deep)).toEqual({ valid: false, errors: [{ path: "", message: "payload is nested too deeply to validate" }] });
  });
});
