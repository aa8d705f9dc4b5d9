import jsonata from "jsonata";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { TRANSFORM_DEFAULTS, checkRegex, checkTransform, createTransformer, type TransformInput } from "./transform.js";

const compiledSources: string[] = [];
vi.mock("jsonata", async (importOriginal) => {
  const real = (await importOriginal<{ default: typeof jsonata }>()).default;
  const counting = (expr: string, options?: jsonata.JsonataOptions) => {
    compiledSources.push(expr);
    return real(expr, options);
  };
  return { default: counting };
});

const input: TransformInput = {
  body: { id: "evt_1", type: "invoice.paid", data: { amount: 1234, currency: "eur" }, items: [{ sku: "A-1", qty: 2 }, { sku: "B-2", qty: 1 }] },
  headers: { "content-type": "application/json", "x-shop": "acme" },
  query: { env: "prod" },
  metadata: { event_id: "evt_1", source_id: "src_1", received_at: 1_700_000_000_000 },
};

/** Tests about other bounds freeze the clock so a slow machine cannot turn them into timeouts. */
const frozenClock = () => 0;

/** Hang guard only: every bounded failure must come back well inside this. */
const GUARD_MS = 2000;

async function expectServing(t = createTransformer()): Promise<void> {
  await expect(t.run(`{ "id": body.id }`, input)).resolves.toEqual({ ok: true, output: { id: "evt_1" } });
}

describe("transform: happy paths", () => {
  const t = createTransformer();

  it("sees body, headers, query and metadata as top-level fields", async () => {
    const r = await t.run(`{ "id": body.id, "amount": body.data.amount / 100, "shop": headers."x-shop", "env": query.env, "event": metadata.event_id }`, input);
    expect(r).toEqual({ ok: true, output: { id: "evt_1", amount: 12.34, shop: "acme", env: "prod", event: "evt_1" } });
  });

  it("maps arrays and returns plain JSON", async () => {
    const r = await t.run(`{ "skus": body.items.sku, "total": $sum(body.items.qty), "lines": body.items.{ "sku": sku, "n": qty } }`, input);
    expect(r).toEqual({ ok: true, output: { skus: ["A-1", "B-2"], total: 3, lines: [{ sku: "A-1", n: 2 }, { sku: "B-2", n: 1 }] } });
    expect(r.ok && Object.getOwnPropertyNames(r.output as object)).toEqual(["skus", "total", "lines"]);
  });

  it("returns the body itself with $.body and rounds floats like $string does", async () => {
    expect(await t.run(`body`, input)).toEqual({ ok: true, output: input.body });
    expect(await t.run(`0.1 + 0.2`, input)).toEqual({ ok: true, output: 0.3 });
  });

  it("keeps working string, regex and sort functions", async () => {
    const r = await t.run(
      `{ "up": $uppercase(body.type), "parts": $split(body.type, "."), "m": $match(body.type, /in(v)oice/).groups, "r": $replace(body.type, /\\./, "_"), "c": $contains(body.type, /paid$/), "s": $sort(["b", "a"]), "d": $distinct([1, 1, "1", {"a": 1, "b": 2}, {"b": 2, "a": 1}]), "p": $pad("7", -3, "0") }`,
      input,
    );
    expect(r).toEqual({ ok: true, output: { up: "INVOICE.PAID", parts: ["invoice", "paid"], m: ["v"], r: "invoice_paid", c: true, s: ["a", "b"], d: [1, "1", { a: 1, b: 2 }], p: "007" } });
  });

  it("sorts with a comparator and orders with ^()", async () => {
    expect(await t.run(`$sort(body.items, function($a, $b) { $a.qty > $b.qty }).sku`, input)).toEqual({ ok: true, output: ["B-2", "A-1"] });
    expect(await t.run(`body.items^(qty).sku`, input)).toEqual({ ok: true, output: ["B-2", "A-1"] });
  });

  it("fails with a clear message when the expression yields nothing", async () => {
    expect(await t.run(`body.nope`, input)).toEqual({ ok: false, message: "transform produced no output (the expression evaluated to nothing)" });
  });

  it("turns JSONata errors into messages with code and position", async () => {
    expect(await t.run(`body.id + 1`, input)).toEqual({ ok: false, message: 'JSONata T2001 at position 9: The left side of the "+" operator must evaluate to a number' });
    expect(await t.run(`$error("nope")`, input)).toEqual({ ok: false, message: "JSONata D3137 at position 7: nope" });
    expect(await t.run(`{ "a": `, input)).toMatchObject({ ok: false, message: expect.stringMatching(/^JSONata S0\d{3} at position \d+: /) });
  });

  it("caches compiled expressions (LRU) instead of parsing on every run", async () => {
    const small = createTransformer({ cacheSize: 2 });
    const count = (src: string) => compiledSources.filter((s) => s === src).length;
    const a = `{ "cache": "a", "id": body.id }`;
    const b = `{ "cache": "b" }`;
    const c = `{ "cache": "c" }`;
    for (let i = 0; i < 5; i++) expect((await small.run(a, input)).ok).toBe(true);
    expect(count(a)).toBe(1);
    await small.run(b, input);
    await small.run(a, input);
    await small.run(c, input);
    await small.run(a, input);
    expect(count(a)).toBe(1);
    await small.run(b, input);
    expect(count(b)).toBe(2);
  });

  it("keeps concurrent runs of one cached expression independent", async () => {
    const expr = `{ "id": body.id, "n": $count(body.items) }`;
    const runs = await Promise.all(["a", "b", "c"].map((id, i) => t.run(expr, { ...input, body: { id, items: Array.from({ length: i }, () => 1) } })));
    expect(runs).toEqual([
      { ok: true, output: { id: "a", n: 0 } },
      { ok: true, output: { id: "b", n: 1 } },
      { ok: true, output: { id: "c", n: 2 } },
    ]);
  });
});

describe("checkTransform", () => {
  it("accepts a valid expression", () => {
    expect(checkTransform(`{ "id": body.id }`)).toEqual({ ok: true });
  });

  it("points at a syntax error", () => {
    expect(checkTransform(`$sum(1,`)).toEqual({ ok: false, message: 'JSONata S0203 at position 7: Expected ")" before end of expression', position: 7 });
  });

  it("rejects empty and oversized expressions", () => {
    expect(checkTransform("  ")).toEqual({ ok: false, message: "transform is empty" });
    expect(checkTransform(`"${"x".repeat(10 * 1024)}"`)).toEqual({ ok: false, message: "transform is 10242 bytes; the limit is 10 KiB" });
    expect(checkTransform(`"${"x".repeat(10 * 1024 - 2)}"`)).toEqual({ ok: true });
  });

  it("rejects a catastrophic regex literal at create time, with its position", () => {
    expect(checkTransform(`$match(body.text, /(a+)+$/)`)).toEqual({ ok: false, message: "regex rejected: nested quantifier in /(a+)+$/", position: 26 });
  });
});

describe("checkRegex", () => {
  it.each([
    ["(a+)+$", "nested quantifier"],
    ["(.*)*", "nested quantifier"],
    ["(\\w+\\s?)+$", "nested quantifier"],
    ["(a|a)*$", "overlapping alternatives inside a repeated group"],
    ["(a|aa)+", "overlapping alternatives inside a repeated group"],
    ["(a|)*b", "alternative that can match empty text inside a repeated group"],
    ["a*a*b", "adjacent quantifiers that can match the same text"],
    [".*foo.*bar", "adjacent quantifiers that can match the same text"],
    ["\\s*\\s*\\s*x", "adjacent quantifiers that can match the same text"],
    ["[a-z]+\\d*[a-z]+", "adjacent quantifiers that can match the same text"],
    ["A+a+", "adjacent quantifiers that can match the same text", "i"],
    ["^(a+)\\1$", "backreference"],
    ["(?<x>a)\\k<x>", "backreference"],
    ["a{2000}", "quantifier bound larger than 1000"],
    ["(", "invalid pattern"],
  ])("rejects %s (%s)", (source, reason, flags = "") => {
    expect(checkRegex(source, flags)).toEqual({ ok: false, message: `regex rejected: ${reason} in /${source}/` });
  });

  it.each([
    "^\\w+@\\w+\\.com$",
    "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$",
    "@(.+)$",
    "\\s+",
    "(foo|bar)+",
    "(\\d{4})-(\\d{2})-(\\d{2})",
    "(\\d{1,3}\\.){3}\\d{1,3}",
    "^(\\d+)\\.(\\d+)$",
    "[^,]*,.*",
    "x*y*z*",
    "A+b+",
    "(?<year>\\d{4})",
    "\\p{L}+",
  ])("accepts %s", (source) => {
    expect(checkRegex(source, source.includes("\\p") ? "u" : "")).toEqual({ ok: true });
  });
});

describe("jsonata 2.2.2 evaluate hooks", () => {
  it("are looked up by Symbol.for, never by the string key copied around", async () => {
    const expr = jsonata(`1 + 2`);
    const byString = vi.fn();
    const bySymbol = vi.fn();
    expr.assign("__evaluate_entry", byString);
    (expr.assign as (name: string | symbol, value: unknown) => void)(Symbol.for("jsonata.__evaluate_entry"), bySymbol);
    expect(await expr.evaluate({})).toBe(3);
    expect(byString).not.toHaveBeenCalled();
    expect(bySymbol).toHaveBeenCalled();
  });
});

describe("transform bounds: each fails fast with a clear message and the isolate keeps serving", () => {
  // A loop that the hooks do not stop spins on microtasks, where no test timeout can fire. These
  // finite probes fail the suite first if the hooks or the regex guard ever stop working.
  beforeAll(async () => {
    const t = createTransformer({ maxSteps: 100, now: frozenClock });
    expect(await t.run(`$sum([1..1000].($ * 2))`, input)).toEqual({ ok: false, message: "transform exceeded 100 evaluation steps" });
    expect(await t.run(`$eval("$match('ab', /(a+)+b/)")`, input)).toEqual({ ok: false, message: "regex rejected: nested quantifier in /(a+)+b/" });
  });

  it("infinite (tail) recursion times out", { timeout: GUARD_MS }, async () => {
    const t = createTransformer({ maxSteps: Infinity });
    expect(await t.run(`($f := function($x){ $f($x) }; $f(1))`, input)).toEqual({ ok: false, message: "transform timed out after 50 ms" });
    await expectServing(t);
  });

  it("infinite recursion also stops on the step budget (the bound that holds where clocks are frozen)", { timeout: GUARD_MS }, async () => {
    const frozen = createTransformer({ now: frozenClock });
    expect(await frozen.run(`($f := function($x){ $f($x) }; $f(1))`, input)).toEqual({ ok: false, message: `transform exceeded ${TRANSFORM_DEFAULTS.maxSteps} evaluation steps` });
    await expectServing(frozen);
  });

  it("the time bound follows the injected clock", async () => {
    let clock = 0;
    const t = createTransformer({ timeoutMs: 10, maxSteps: Infinity, now: () => (clock += 1) });
    expect(await t.run(`$sum([1..100].($ * 2))`, input)).toEqual({ ok: false, message: "transform timed out after 10 ms" });
  });

  it("deep (non-tail) recursion stops at the depth bound", { timeout: GUARD_MS }, async () => {
    const t = createTransformer();
    expect(await t.run(`($f := function($x){ 1 + $f($x) }; $f(1))`, input)).toEqual({ ok: false, message: "transform recursion deeper than 200" });
    expect(await t.run(`($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(20))`, input)).toEqual({ ok: true, output: 20 });
    await expectServing(t);
  });

  it("a huge $pad is refused before allocating", { timeout: GUARD_MS }, async () => {
    const t = createTransformer();
    expect(await t.run(`$pad("x", 1e9)`, input)).toEqual({ ok: false, message: "$pad width 1000000000 exceeds the limit of 10000" });
    expect(await t.run(`$pad("x", -1e9, "#")`, input)).toEqual({ ok: false, message: "$pad width -1000000000 exceeds the limit of 10000" });
    expect(await t.run(`$length($pad("x", 10000))`, input)).toEqual({ ok: true, output: 10000 });
    await expectServing(t);
  });

  it("a ReDoS pattern is refused before it runs", { timeout: GUARD_MS }, async () => {
    const t = createTransformer();
    expect(await t.run(`$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a+)+$/)`, input)).toEqual({ ok: false, message: "regex rejected: nested quantifier in /(a+)+$/" });
    expect(await t.run(`$replace(body.type, /(x|x)*y/, "-")`, input)).toEqual({ ok: false, message: "regex rejected: overlapping alternatives inside a repeated group in /(x|x)*y/" });
    expect(await t.run(`$split(body.type, /\\w*\\w*\\./)`, input)).toEqual({ ok: false, message: "regex rejected: adjacent quantifiers that can match the same text in /\\w*\\w*\\./" });
    expect(await t.run(`$contains(body.type, /(a*)*b/)`, input)).toEqual({ ok: false, message: "regex rejected: nested quantifier in /(a*)*b/" });
    await expectServing(t);
  });

  it("a regex built at run time by $eval is checked too", { timeout: GUARD_MS }, async () => {
    const t = createTransformer();
    expect(await t.run(`$eval("$match('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /(a|aa)+$/)")`, input)).toEqual({
      ok: false,
      message: "regex rejected: overlapping alternatives inside a repeated group in /(a|aa)+$/",
    });
    await expectServing(t);
  });

  it("regex work is budgeted per run (length²), so a quadratic pattern in a loop stops even with a frozen clock", { timeout: GUARD_MS }, async () => {
    const frozen = createTransformer({ now: () => 0 });
    const s = "a".repeat(6998) + "c";
    const r = await frozen.run(`($s := body.s; $count([1..10000].($match($s, /a*b/))))`, { ...input, body: { s } });
    expect(r).toEqual({ ok: false, message: "transform regex work exceeds its budget (5000 units of length²/10 000)" });
    expect(await frozen.run(`$count([1..50].($match("abc", /b/)))`, input)).toEqual({ ok: true, output: 50 });
  });

  it("a regex never runs on more than 7 000 characters", { timeout: GUARD_MS }, async () => {
    const t = createTransformer();
    expect(await t.run(`$contains($pad("", 7000, "a") & "a", /b/)`, input)).toEqual({ ok: false, message: "regex input longer than 7000 characters" });
    expect(await t.run(`$contains($pad("", 7000, "a"), /b/)`, input)).toEqual({ ok: true, output: false });
    expect(await t.run(`$contains($pad("", 20000, "a") & "b", "b")`, input)).toEqual({ ok: false, message: "$pad width 20000 exceeds the limit of 10000" });
  });

  it("a huge range is refused by the sequence bound", { timeout: GUARD_MS }, async () => {
    const t = createTransformer();
    expect(await t.run(`[1..100000000]`, input)).toEqual({ ok: false, message: "transform sequence longer than 10000 items" });
    expect(await t.run(`$count([1..10001])`, input)).toEqual({ ok: false, message: "transform sequence longer than 10000 items" });
    expect(await t.run(`$count([1..10000])`, input)).toEqual({ ok: true, output: 10000 });
    await expectServing(t);
  });

  it("a long loop stops on time, or on steps when the clock does not move", { timeout: GUARD_MS }, async () => {
    const loop = `$sum([1..1000].($sum([1..1000].($ * 2))))`;
    expect(await createTransformer({ maxSteps: Infinity }).run(loop, input)).toEqual({ ok: false, message: "transform timed out after 50 ms" });
    expect(await createTransformer({ maxSteps: 10_000, now: frozenClock }).run(loop, input)).toEqual({ ok: false, message: "transform exceeded 10000 evaluation steps" });
    await expectServing();
  });

  it("charges big values handed to built-ins against the step budget", async () => {
    const big = { ...input, body: { blob: "x".repeat(100 * 1024) } };
    const t = createTransformer({ maxSteps: 2_000, now: frozenClock });
    const loop = `$count([1..50].$length($string($$.body)))`;
    expect(await t.run(loop, big)).toEqual({ ok: false, message: "transform exceeded 2000 evaluation steps" });
    expect(await t.run(loop, input)).toEqual({ ok: true, output: 50 });
  });

  it("doubling a string or sharing an object stops at the value bound", { timeout: GUARD_MS }, async () => {
    const t = createTransformer();
    expect(await t.run(`$reduce([1..40], function($acc, $i) { $acc & $acc }, "x")`, input)).toEqual({ ok: false, message: "transform intermediate value exceeds 4 MiB" });
    expect(await t.run(`$string($reduce([1..40], function($acc, $i) { { "a": $acc, "b": $acc } }, body))`, input)).toEqual({
      ok: false,
      message: "transform intermediate value exceeds 4 MiB",
    });
    expect(await t.run(`$reduce([1..40], function($acc, $i) { { "a": $acc, "b": $acc } }, body)`, input)).toEqual({ ok: false, message: "transform output exceeds 1 MiB" });
    expect(await t.run(`$reduce([1..40], function($acc, $i) { { "a": $acc, "b": $acc } }, body) = {}`, input)).toEqual({
      ok: false,
      message: "transform intermediate value exceeds 4 MiB",
    });
    expect(await t.run(`$reduce([1..40], function($acc, $i) { { "a": $acc, "b": $acc } }, body) ~> | $ | { "x": 1 } |`, input)).toEqual({
      ok: false,
      message: "transform intermediate value exceeds 4 MiB",
    });
    await expectServing(t);
  });

  it("bounds the serialized output", async () => {
    expect(await createTransformer({ now: frozenClock }).run(`$join([1..3000].$pad("", 400, "x"))`, input)).toEqual({ ok: false, message: "transform output exceeds 1 MiB" });
    const small = createTransformer({ maxOutputBytes: 1024 });
    expect(await small.run(`$pad("", 1024, "x")`, input)).toEqual({ ok: false, message: "transform output exceeds 1 KiB" });
    expect(await small.run(`$pad("", 1022, "x")`, input)).toMatchObject({ ok: true });
    expect(await small.run(`$pad("", 400, "é")`, input)).toMatchObject({ ok: true });
    expect(await small.run(`$pad("", 600, "é")`, input)).toEqual({ ok: false, message: "transform output exceeds 1 KiB" });
  });

  it("caps $split and $replace, which would otherwise allocate per match", async () => {
    const t = createTransformer();
    expect(await t.run(`$split($pad("", 10000, ",") & ",", ",")`, input)).toEqual({ ok: false, message: "$split produced more than 10000 parts" });
    expect(await t.run(`$count($split($pad("", 9999, ","), ","))`, input)).toEqual({ ok: true, output: 10000 });
    expect(await t.run(`$replace($pad("", 10000, ",") & ",", ",", "ab")`, input)).toEqual({ ok: false, message: "$replace would make more than 10000 replacements" });
    expect(await t.run(`$replace($pad("", 10000, ",") & ",", ",", "ab", 3)`, input)).toMatchObject({ ok: true });
  });

  it("keeps $distinct linear", { timeout: GUARD_MS }, async () => {
    expect(await createTransformer({ now: frozenClock, maxSteps: 200_000 }).run(`$distinct([1..10000].($ % 7))`, input)).toEqual({ ok: true, output: [1, 2, 3, 4, 5, 6, 0] });
  });

  it("caps the source given to $eval", async () => {
    expect(await createTransformer().run(`$eval($pad("", 10000, " ") & $pad("", 241, " ") & "1")`, input)).toEqual({ ok: false, message: "$eval source exceeds 10 KiB" });
    expect(await createTransformer().run(`$eval("1 + 1")`, input)).toEqual({ ok: true, output: 2 });
  });

  it("reads long input arrays, but bounds what is built from them and what $sort takes", { timeout: GUARD_MS }, async () => {
    const t = createTransformer({ now: frozenClock, maxSteps: 200_000 });
    const long = { ...input, body: { nums: Array.from({ length: 20_000 }, (_, i) => 20_000 - i) } };
    expect(await t.run(`$count(body.nums)`, long)).toEqual({ ok: true, output: 20_000 });
    expect(await t.run(`body.nums.($ * 2)`, long)).toEqual({ ok: false, message: "transform sequence longer than 10000 items" });
    expect(await t.run(`$sort(body.nums)`, long)).toEqual({ ok: false, message: "$sort of 20000 items exceeds the limit of 10000" });
    expect(await t.run(`$sort(body.nums[$ <= 10000])[0]`, long)).toEqual({ ok: true, output: 1 });
  });

  it("never throws, even on a cyclic input", async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const r = await createTransformer().run(`metadata`, { ...input, metadata: cyclic });
    expect(r).toEqual({ ok: false, message: "transform value nested deeper than 500 levels" });
  });

  it("one run's failure does not affect a concurrent one", { timeout: GUARD_MS }, async () => {
    const t = createTransformer();
    const [loop, ok, pad] = await Promise.all([t.run(`($f := function($x){ $f($x) }; $f(1))`, input), t.run(`{ "id": body.id }`, input), t.run(`$pad("x", 1e9)`, input)]);
    expect(loop.ok).toBe(false);
    expect(ok).toEqual({ ok: true, output: { id: "evt_1" } });
    expect(pad.ok).toBe(false);
  });
});
