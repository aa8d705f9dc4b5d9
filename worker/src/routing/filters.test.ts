import { describe, expect, it } from "vitest";
import { FILTER_OPS, evaluateFilters, filtersSchema, type FilterInput, type Filters } from "./filters.js";

const stripe: FilterInput = {
  body: {
    type: "invoice.paid",
    livemode: false,
    amount: 4200,
    amount_text: "4200",
    note: null,
    tags: ["vip", "eu", 42],
    data: { object: { amount: 1999, currency: "eur", metadata: { plan: "pro" } } },
    items: [{ sku: "A-1", qty: 2 }, { sku: "B-2", qty: 1 }],
  },
  headers: { "content-type": "application/json", "x-event-type": "invoice.paid", "x-attempt": "3" },
  query: { env: "prod", "filter.name": "dotted" },
};

function run(filters: unknown, input: FilterInput = stripe) {
  return evaluateFilters(filtersSchema.parse(filters), input);
}

function matches(filters: unknown, input: FilterInput = stripe): boolean {
  return run(filters, input).matched;
}

function issues(filters: unknown) {
  const r = filtersSchema.safeParse(filters);
  if (r.success) throw new Error("expected the schema to reject");
  return r.error.issues.map((i) => ({ path: i.path, message: i.message }));
}

describe("filtersSchema", () => {
  it("accepts rules and nested groups and returns them as given", () => {
    const filters = [
      { field: "body.type", op: "eq", value: "invoice.paid" },
      { any: [{ field: "headers.x-attempt", op: "gte", value: 2 }, { all: [{ field: "query.env", op: "exists" }, { field: "body.tags", op: "contains", value: "vip" }] }] },
    ];
    expect(filtersSchema.parse(filters)).toEqual(filters);
  });

  it("lists exactly the nine operators", () => {
    expect(FILTER_OPS).toEqual(["eq", "neq", "contains", "gt", "gte", "lt", "lte", "exists", "in"]);
  });

  it("rejects an unknown op and points at it", () => {
    expect(issues([{ field: "body.a", op: "eq", value: 1 }, { field: "body.a", op: "equals", value: 1 }])).toEqual([
      { path: [1, "op"], message: 'op "equals" is unknown: use one of eq, neq, contains, gt, gte, lt, lte, exists, in' },
    ]);
  });

  it("requires value for eq, neq and contains, but not for exists", () => {
    expect(issues([{ field: "body.a", op: "eq" }])).toEqual([{ path: [0, "value"], message: 'value is required for op "eq"' }]);
    expect(issues([{ field: "body.a", op: "contains" }])[0]?.message).toBe('value is required for op "contains"');
    expect(filtersSchema.safeParse([{ field: "body.a", op: "exists" }]).success).toBe(true);
  });

  it("accepts null as an eq value (null is a value)", () => {
    expect(filtersSchema.safeParse([{ field: "body.a", op: "eq", value: null }]).success).toBe(true);
  });

  it("needs an array of candidates for in", () => {
    expect(issues([{ field: "body.a", op: "in", value: "a" }])).toEqual([{ path: [0, "value"], message: 'op "in" needs an array of candidates as value' }]);
    expect(issues([{ field: "body.a", op: "in", value: [] }])[0]?.message).toBe('op "in" needs at least one candidate');
    expect(issues([{ field: "body.a", op: "in", value: Array.from({ length: 257 }, (_, i) => i) }])[0]?.message).toBe('op "in" takes at most 256 candidates');
  });

  it("takes only a boolean value for exists", () => {
    expect(issues([{ field: "body.a", op: "exists", value: "yes" }])).toEqual([
      { path: [0, "value"], message: 'op "exists" takes an optional boolean value (true: must exist, false: must be absent)' },
    ]);
    expect(filtersSchema.safeParse([{ field: "body.a", op: "exists", value: false }]).success).toBe(true);
  });

  it("needs a number or numeric string for gt/gte/lt/lte", () => {
    expect(issues([{ field: "body.a", op: "gt", value: "ten" }])).toEqual([{ path: [0, "value"], message: 'value for op "gt" must be a number (or a numeric string)' }]);
    expect(issues([{ field: "body.a", op: "lte" }])[0]?.path).toEqual([0, "value"]);
    expect(filtersSchema.safeParse([{ field: "body.a", op: "lt", value: "10.5" }]).success).toBe(true);
  });

  it("accepts only body, headers and query roots", () => {
    expect(issues([{ field: "data.object.amount", op: "exists" }])).toEqual([
      { path: [0, "field"], message: "field must be body, body.<path>, headers.<name> or query.<name>" },
    ]);
    expect(issues([{ field: "bodyx.a", op: "exists" }])[0]?.path).toEqual([0, "field"]);
    expect(issues([{ field: "body..a", op: "exists" }])[0]?.message).toBe("field has an empty path segment");
    expect(issues([{ field: "headers.", op: "exists" }])[0]?.message).toBe('field needs a name after "headers."');
    expect(issues([{ field: "headers", op: "exists" }])[0]?.path).toEqual([0, "field"]);
    expect(filtersSchema.safeParse([{ field: "body", op: "eq", value: "ping" }]).success).toBe(true);
  });

  it("bounds field length to 256 characters", () => {
    expect(filtersSchema.safeParse([{ field: `body.${"a".repeat(251)}`, op: "exists" }]).success).toBe(true);
    expect(issues([{ field: `body.${"a".repeat(252)}`, op: "exists" }])).toEqual([{ path: [0, "field"], message: "field is longer than 256 characters" }]);
  });

  it("rejects malformed groups with a pointed message", () => {
    expect(issues([{ any: [{ field: "body.a", op: "exists" }], all: [{ field: "body.a", op: "exists" }] }])[0]?.message).toBe("a group has either any or all, not both");
    expect(issues([{ any: [{ field: "body.a", op: "exists" }], field: "body.b" }])[0]?.message).toBe("a group { any | all } cannot also have field, op or value");
    expect(issues([{ any: [] }])).toEqual([{ path: [0, "any"], message: "an any group needs at least one condition" }]);
    expect(issues([{ all: [{ field: "body.a", op: "nope" }] }])[0]?.path).toEqual([0, "all", 0, "op"]);
  });

  it("rejects unknown keys in a rule", () => {
    expect(issues([{ field: "body.a", op: "eq", value: 1, operator: "eq" }])[0]?.path).toEqual([0]);
  });

  it("requires a list at the top level", () => {
    expect(filtersSchema.safeParse({ field: "body.a", op: "exists" }).success).toBe(false);
    expect(filtersSchema.parse([])).toEqual([]);
  });

  it("allows groups nested 3 deep and rejects a 4th level", () => {
    const leaf = { field: "body.a", op: "exists" };
    expect(filtersSchema.safeParse([{ any: [{ all: [{ any: [leaf] }] }] }]).success).toBe(true);
    expect(issues([{ any: [{ all: [{ any: [{ all: [leaf] }] }] }] }])).toEqual([{ path: [0, "any", 0, "all", 0, "any", 0], message: "groups nest at most 3 deep" }]);
  });

  it("counts rules across groups: 50 pass, 51 fail", () => {
    const rule = { field: "body.a", op: "exists" };
    const fifty = [...Array.from({ length: 40 }, () => rule), { any: Array.from({ length: 10 }, () => rule) }];
    expect(filtersSchema.safeParse(fifty).success).toBe(true);
    expect(issues([...fifty, rule])).toEqual([{ path: [], message: "filters hold at most 50 rules" }]);
  });

  it("stays bounded on absurdly deep input (no stack overflow)", () => {
    let node: unknown = { field: "body.a", op: "exists" };
    for (let i = 0; i < 5000; i++) node = { any: [node] };
    const r = filtersSchema.safeParse([node]);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe("groups nest at most 3 deep");
  });
});

describe("evaluateFilters: results and explanations", () => {
  it("an empty list matches everything", () => {
    expect(run([])).toEqual({ matched: true });
  });

  it("explains the failing rule with its path, field, op, value and a human reason", () => {
    expect(run([{ field: "body.livemode", op: "exists" }, { field: "body.type", op: "eq", value: "checkout.session.completed" }])).toEqual({
      matched: false,
      rule: { path: "filters[1]", field: "body.type", op: "eq", value: "checkout.session.completed" },
      reason: 'body.type is "invoice.paid", expected "checkout.session.completed"',
    });
  });

  it("reports the first failing rule in order", () => {
    const r = run([{ field: "body.nope", op: "exists" }, { field: "body.type", op: "eq", value: "x" }]);
    expect(r.matched === false && r.rule.path).toBe("filters[0]");
  });

  it("reports a rule without value without a value key", () => {
    const r = run([{ field: "body.nope", op: "exists" }]);
    expect(r).toEqual({ matched: false, rule: { path: "filters[0]", field: "body.nope", op: "exists" }, reason: "body.nope is missing, expected it to exist" });
  });

  it("truncates long values in reasons", () => {
    const r = run([{ field: "body.long", op: "eq", value: "x" }], { ...stripe, body: { long: "y".repeat(500) } });
    expect(r.matched === false && r.reason.length).toBeLessThan(120);
    expect(r.matched === false && r.reason.endsWith('…, expected "x"')).toBe(true);
  });
});

describe("eq / neq type rules", () => {
  it("compares strings exactly (case-sensitive)", () => {
    expect(matches([{ field: "body.type", op: "eq", value: "invoice.paid" }])).toBe(true);
    expect(matches([{ field: "body.type", op: "eq", value: "Invoice.paid" }])).toBe(false);
  });

  it("a number equals a numeric string of the same value, both ways", () => {
    expect(matches([{ field: "body.amount", op: "eq", value: "4200" }])).toBe(true);
    expect(matches([{ field: "body.amount_text", op: "eq", value: 4200 }])).toBe(true);
    expect(matches([{ field: "headers.x-attempt", op: "eq", value: 3 }])).toBe(true);
    expect(matches([{ field: "body.amount", op: "eq", value: "4200.0" }])).toBe(true);
    expect(matches([{ field: "body.x", op: "eq", value: 4.2 }], { ...stripe, body: { x: "4.20" } })).toBe(true);
  });

  it("numeric strings follow JSON syntax: no leading zeros, spaces or hex", () => {
    for (const s of ["04200", " 4200", "4200 ", "0x1068", "4,200", ""]) {
      expect(matches([{ field: "body.x", op: "eq", value: 4200 }], { ...stripe, body: { x: s } })).toBe(false);
    }
  });

  it("does not coerce booleans or compare numeric strings with each other numerically", () => {
    expect(matches([{ field: "body.livemode", op: "eq", value: "false" }])).toBe(false);
    expect(matches([{ field: "body.livemode", op: "eq", value: false }])).toBe(true);
    expect(matches([{ field: "body.x", op: "eq", value: "1.0" }], { ...stripe, body: { x: "1" } })).toBe(false);
  });

  it("null is a value: null eq null, missing is not null", () => {
    expect(matches([{ field: "body.note", op: "eq", value: null }])).toBe(true);
    expect(run([{ field: "body.absent", op: "eq", value: null }])).toEqual({
      matched: false,
      rule: { path: "filters[0]", field: "body.absent", op: "eq", value: null },
      reason: "body.absent is missing",
    });
  });

  it("compares objects deeply regardless of key order, arrays in order", () => {
    expect(matches([{ field: "body.data.object.metadata", op: "eq", value: { plan: "pro" } }])).toBe(true);
    expect(matches([{ field: "body.items.0", op: "eq", value: { qty: 2, sku: "A-1" } }])).toBe(true);
    expect(matches([{ field: "body.items.0", op: "eq", value: { sku: "A-1" } }])).toBe(false);
    expect(matches([{ field: "body.tags", op: "eq", value: ["vip", "eu", 42] }])).toBe(true);
    expect(matches([{ field: "body.tags", op: "eq", value: ["eu", "vip", 42] }])).toBe(false);
    expect(matches([{ field: "body.tags", op: "eq", value: ["vip", "eu", "42"] }])).toBe(true);
  });

  it("neq is exactly not-eq, so a missing field matches neq", () => {
    expect(matches([{ field: "body.type", op: "neq", value: "invoice.created" }])).toBe(true);
    expect(matches([{ field: "body.absent", op: "neq", value: "x" }])).toBe(true);
    expect(run([{ field: "body.amount", op: "neq", value: "4200" }])).toMatchObject({ matched: false, reason: 'body.amount is 4200, expected anything but "4200"' });
  });
});

describe("contains", () => {
  it("is a case-sensitive substring test on strings", () => {
    expect(matches([{ field: "body.type", op: "contains", value: "paid" }])).toBe(true);
    expect(matches([{ field: "body.type", op: "contains", value: "PAID" }])).toBe(false);
    expect(run([{ field: "body.type", op: "contains", value: "refund" }])).toMatchObject({ reason: 'body.type is "invoice.paid", which does not contain "refund"' });
  });

  it("needs a string value on a string field", () => {
    expect(run([{ field: "body.amount_text", op: "contains", value: 42 }])).toMatchObject({
      matched: false,
      reason: "body.amount_text is a string, and contains on a string needs a string value (got 42)",
    });
  });

  it("is element equality on arrays (with the eq rules)", () => {
    expect(matches([{ field: "body.tags", op: "contains", value: "eu" }])).toBe(true);
    expect(matches([{ field: "body.tags", op: "contains", value: "42" }])).toBe(true);
    expect(matches([{ field: "body.items", op: "contains", value: { sku: "B-2", qty: 1 } }])).toBe(true);
    expect(matches([{ field: "body.tags", op: "contains", value: "e" }])).toBe(false);
  });

  it("does not match other types, and says why", () => {
    expect(run([{ field: "body.data", op: "contains", value: "object" }])).toMatchObject({ matched: false, reason: "body.data is an object; contains applies to strings and arrays" });
    expect(run([{ field: "body.amount", op: "contains", value: "42" }])).toMatchObject({ matched: false, reason: "body.amount is a number; contains applies to strings and arrays" });
    expect(run([{ field: "body.absent", op: "contains", value: "x" }])).toMatchObject({ matched: false, reason: "body.absent is missing" });
  });
});

describe("gt / gte / lt / lte", () => {
  it("compare numbers at the boundaries", () => {
    expect(matches([{ field: "body.amount", op: "gt", value: 4199 }])).toBe(true);
    expect(matches([{ field: "body.amount", op: "gt", value: 4200 }])).toBe(false);
    expect(matches([{ field: "body.amount", op: "gte", value: 4200 }])).toBe(true);
    expect(matches([{ field: "body.amount", op: "lt", value: 4200 }])).toBe(false);
    expect(matches([{ field: "body.amount", op: "lte", value: 4200 }])).toBe(true);
    expect(matches([{ field: "body.amount", op: "lt", value: 4200.5 }])).toBe(true);
  });

  it("convert numeric strings on either side (headers are strings)", () => {
    expect(matches([{ field: "headers.x-attempt", op: "gte", value: 3 }])).toBe(true);
    expect(matches([{ field: "headers.x-attempt", op: "gt", value: "2.5" }])).toBe(true);
    expect(run([{ field: "headers.x-attempt", op: "lt", value: 3 }])).toMatchObject({ reason: 'headers.x-attempt is "3", expected < 3' });
  });

  it("do not match non-numbers, and say so", () => {
    expect(run([{ field: "body.type", op: "gt", value: 1 }])).toMatchObject({ matched: false, reason: 'body.type is "invoice.paid", not a number' });
    expect(run([{ field: "body.livemode", op: "lt", value: 1 }])).toMatchObject({ matched: false, reason: "body.livemode is false, not a number" });
    expect(run([{ field: "body.note", op: "gte", value: 0 }])).toMatchObject({ matched: false, reason: "body.note is null, not a number" });
    expect(run([{ field: "body.absent", op: "lte", value: 1 }])).toMatchObject({ matched: false, reason: "body.absent is missing" });
  });

  it("do not treat ISO dates as numbers", () => {
    expect(matches([{ field: "body.at", op: "gt", value: 0 }], { ...stripe, body: { at: "2026-01-01T00:00:00Z" } })).toBe(false);
  });
});

describe("in", () => {
  it("matches when the field equals one candidate", () => {
    expect(matches([{ field: "body.type", op: "in", value: ["invoice.created", "invoice.paid"] }])).toBe(true);
    expect(matches([{ field: "body.amount", op: "in", value: ["4200", 1] }])).toBe(true);
    expect(matches([{ field: "body.note", op: "in", value: [null] }])).toBe(true);
    expect(matches([{ field: "body.tags", op: "in", value: [["vip", "eu", 42]] }])).toBe(true);
  });

  it("explains a miss and does not match a missing field", () => {
    expect(run([{ field: "body.type", op: "in", value: ["a", "b"] }])).toMatchObject({ reason: 'body.type is "invoice.paid", expected one of ["a","b"]' });
    expect(matches([{ field: "body.absent", op: "in", value: [null] }])).toBe(false);
  });
});

describe("exists", () => {
  it("true (or no value): present, null included", () => {
    expect(matches([{ field: "body.note", op: "exists" }])).toBe(true);
    expect(matches([{ field: "body.note", op: "exists", value: true }])).toBe(true);
    expect(matches([{ field: "body.absent", op: "exists" }])).toBe(false);
  });

  it("false: must be absent", () => {
    expect(matches([{ field: "body.absent", op: "exists", value: false }])).toBe(true);
    expect(run([{ field: "body.note", op: "exists", value: false }])).toMatchObject({ matched: false, reason: "body.note is null, expected it to be absent" });
  });
});

describe("field resolution", () => {
  it("matches header names case-insensitively, whatever the case of the stored names", () => {
    expect(matches([{ field: "headers.X-Event-Type", op: "eq", value: "invoice.paid" }])).toBe(true);
    expect(matches([{ field: "headers.x-event-type", op: "eq", value: "invoice.paid" }], { ...stripe, headers: { "X-Event-TYPE": "invoice.paid" } })).toBe(true);
    expect(matches([{ field: "headers.x-missing", op: "exists", value: false }])).toBe(true);
  });

  it("matches query names exactly; the rest after query. is one name", () => {
    expect(matches([{ field: "query.env", op: "eq", value: "prod" }])).toBe(true);
    expect(matches([{ field: "query.ENV", op: "exists" }])).toBe(false);
    expect(matches([{ field: "query.filter.name", op: "eq", value: "dotted" }])).toBe(true);
  });

  it("indexes arrays with numeric segments", () => {
    expect(matches([{ field: "body.items.0.sku", op: "eq", value: "A-1" }])).toBe(true);
    expect(matches([{ field: "body.items.1.qty", op: "lt", value: 2 }])).toBe(true);
    expect(run([{ field: "body.items.5.sku", op: "eq", value: "A-1" }])).toMatchObject({ reason: "body.items.5.sku is missing" });
    expect(matches([{ field: "body.items.01.sku", op: "exists" }])).toBe(false);
    expect(matches([{ field: "body.items.sku", op: "exists" }])).toBe(false);
    expect(matches([{ field: "body.1", op: "eq", value: "b" }], { ...stripe, body: ["a", "b"] })).toBe(true);
  });

  it("reads numeric keys of objects as keys", () => {
    expect(matches([{ field: "body.codes.404", op: "eq", value: "not found" }], { ...stripe, body: { codes: { "404": "not found" } } })).toBe(true);
  });

  it("filters a raw (non-JSON) body through the body field", () => {
    const raw = { ...stripe, body: "ping" };
    expect(matches([{ field: "body", op: "eq", value: "ping" }], raw)).toBe(true);
    expect(matches([{ field: "body", op: "contains", value: "in" }], raw)).toBe(true);
    expect(matches([{ field: "body.type", op: "exists" }], raw)).toBe(false);
  });

  it("never reads inherited properties", () => {
    expect(matches([{ field: "body.constructor", op: "exists" }])).toBe(false);
    expect(matches([{ field: "body.tags.length", op: "exists" }])).toBe(false);
    expect(matches([{ field: "body.type.length", op: "exists" }])).toBe(false);
    expect(matches([{ field: "headers.constructor", op: "exists" }])).toBe(false);
    expect(matches([{ field: "query.toString", op: "exists" }])).toBe(false);
  });
});

describe("groups", () => {
  const either: Filters = [
    { field: "body.livemode", op: "eq", value: false },
    { any: [{ field: "body.type", op: "eq", value: "invoice.created" }, { field: "body.type", op: "eq", value: "invoice.finalized" }] },
  ];

  it("any matches when one alternative does", () => {
    expect(matches([{ any: [{ field: "body.type", op: "eq", value: "x" }, { field: "body.type", op: "eq", value: "invoice.paid" }] }])).toBe(true);
  });

  it("a failed any reports its first alternative and lists every reason", () => {
    expect(run(either)).toEqual({
      matched: false,
      rule: { path: "filters[1].any[0]", field: "body.type", op: "eq", value: "invoice.created" },
      reason: 'none of the 2 conditions in filters[1].any matched: body.type is "invoice.paid", expected "invoice.created"; body.type is "invoice.paid", expected "invoice.finalized"',
    });
  });

  it("all inside any, and the nested path of the failing rule", () => {
    const filters = [{ all: [{ field: "body.amount", op: "gt", value: 0 }, { any: [{ all: [{ field: "query.env", op: "eq", value: "test" }] }] }] }];
    expect(run(filters)).toEqual({
      matched: false,
      rule: { path: "filters[0].all[1].any[0].all[0]", field: "query.env", op: "eq", value: "test" },
      reason: 'query.env is "prod", expected "test"',
    });
    expect(matches([{ any: [{ all: [{ field: "query.env", op: "eq", value: "prod" }, { field: "body.items.0.qty", op: "eq", value: 2 }] }, { field: "body.x", op: "exists" }] }])).toBe(true);
  });
});
