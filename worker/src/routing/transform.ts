/**
 * JSONata transforms, bounded so that one tenant's expression cannot stall or exhaust the
 * isolate that also serves everyone's ingest. Pure: no I/O; the clock comes in as `now`.
 *
 *   checkTransform(expr)        create/update check: ≤ 10 KB, JSONata syntax, regex literals
 *                               pass checkRegex. `{ ok: false, message, position? }` → 400.
 *   createTransformer(opts)     `{ run(expr, input) }`; compiled expressions are cached (LRU).
 *                               `$` is `{ body, headers, query, metadata }`, so
 *                               `{ "id": body.id, "amount": body.data.amount / 100 }` works.
 *                               run() never throws: every failure is `{ ok: false, message }`,
 *                               meant to be recorded as a permanent (non-retryable) failure.
 *   checkRegex(source, flags)   the ReDoS check shared with JSON Schema `pattern`.
 *
 * Bounds (defaults) and how each is enforced:
 *   steps 50 000      jsonata's evaluate-entry hook, `Symbol.for("jsonata.__evaluate_entry")`
 *                     bound on the expression's environment (the string key '__evaluate_entry'
 *                     found in older snippets is never looked up by jsonata 2.2.2), counts one
 *                     step per evaluation; values handed to built-in functions, = != in or ~>
 *                     also cost one step per KiB, so a short loop over a big value is bounded.
 *                     Deployed Workers freeze Date.now()/performance.now() until I/O happens,
 *                     so there this budget, not the clock, is what stops a runaway loop.
 *   time 50 ms        the same hook compares `now()` with the run's start (effective in Node and
 *                     local workerd; see above for production).
 *   depth 200         entry/exit hooks track evaluation nesting (jsonata trampolines tail calls,
 *                     so `$f := function($x){ $f($x) }` is stopped by steps/time, not depth).
 *   values 4 MiB      the exit hook checks every string result, and sizes (JSON estimate, memoised
 *                     per object) every value that a built-in, = != in or ~> is about to walk, and
 *                     the result: `{"a": $x, "b": $x}` counts $x twice, so doubling loops stop
 *                     before serialising, comparing or cloning them could explode.
 *   sequences 10 000  jsonata's own `sequence` option: the range operator, sequences built by
 *                     mapping a path, $append (reading a longer input array as a whole is fine).
 *   output 1 MiB      UTF-8 size of the serialised result; the output is returned as plain JSON.
 *   functions         $pad width ≤ 10 000; $sort ≤ 10 000 items (native sort without a
 *                     comparator); $distinct is linear; $split ≤ 10 000 parts; $replace with a
 *                     string pattern ≤ 10 000 replacements; $eval source ≤ 10 KB.
 *   regex             every regex, literal or built by $eval, goes through jsonata's RegexEngine
 *                     option: the pattern must pass checkRegex and never runs on a string longer
 *                     than 10 000 characters. A hook cannot interrupt a backtracking regex, so
 *                     the pattern is judged before it runs.
 * Not enforced: CPU inside one native call between two hooks, only bounded by the caps above
 * (a regex that passes checkRegex is still O(n²) on 10 000 characters; jsonata's own merge sort
 * copies O(n) per comparison), memory of jsonata's frames, and a string one call builds before
 * the exit hook sees it (e.g. $string of a 4 MiB value). The cache lives in the transformer:
 * make one per isolate.
 */
import jsonata from "jsonata";

export const TRANSFORM_MAX_BYTES = 10 * 1024;

export const TRANSFORM_DEFAULTS = {
  timeoutMs: 50,
  maxDepth: 200,
  maxOutputBytes: 1024 * 1024,
  maxSteps: 50_000,
  maxValueBytes: 4 * 1024 * 1024,
  maxSequence: 10_000,
  maxPadWidth: 10_000,
  maxRegexInput: 7_000,
  /** Per run; ≈ 50 ms of worst-case regex work, which the frozen clock of a deployed Worker cannot stop. */
  maxRegexWork: 5_000,
  cacheSize: 256,
} as const;

export interface TransformInput {
  body: unknown;
  headers: Record<string, string>;
  query: Record<string, string>;
  metadata: Record<string, unknown>;
}

export type TransformResult = { ok: true; output: unknown } | { ok: false; message: string };
export type TransformCheck = { ok: true } | { ok: false; message: string; position?: number };

export interface TransformerOptions {
  timeoutMs?: number;
  maxDepth?: number;
  maxOutputBytes?: number;
  maxSteps?: number;
  maxValueBytes?: number;
  maxSequence?: number;
  cacheSize?: number;
  now?: () => number;
}

export interface Transformer {
  run(expr: string, input: TransformInput): Promise<TransformResult>;
}

const ENTRY = Symbol.for("jsonata.__evaluate_entry");
const EXIT = Symbol.for("jsonata.__evaluate_exit");
const MAX_NESTING = 500;

/** A failure of ours, raised inside jsonata's evaluation and reported as is. */
class TransformLimit extends Error {}
class ValueTooBig extends TransformLimit {}

const CHARGE_SITE: unique symbol = Symbol("hookstream.chargeSite");
const MARKED: unique symbol = Symbol("hookstream.marked");
const RUN_STATE: unique symbol = Symbol("hookstream.runState");
const OPERAND = "operand";

interface ExprNode {
  type: string;
  value?: unknown;
  position?: number;
  arguments?: ExprNode[];
  procedure?: ExprNode;
  lhs?: unknown;
  rhs?: ExprNode;
  // Our marks on jsonata's AST nodes: symbol keys that jsonata never reads.
  [CHARGE_SITE]?: ExprNode | typeof OPERAND;
  [MARKED]?: true;
}

interface RunState {
  steps: number;
  depth: number;
  readonly start: number;
  /** Σ length² / 10 000 of the strings regexes ran on: a pattern can be quadratic in its input. */
  regexWork: number;
}

interface Frame {
  readonly base?: Frame;
  lookup(name: string | symbol): unknown;
  [RUN_STATE]?: RunState;
}

interface Focus {
  readonly environment: Frame;
  createSequence(): unknown[];
}

interface Compiled {
  evaluate(input: unknown): Promise<unknown>;
  assign(name: string | symbol, value: unknown): void;
  registerFunction(name: string, impl: (this: Focus, ...args: never[]) => unknown, signature: string): void;
  ast(): ExprNode;
}

interface BuiltinFunction {
  implementation: (this: Focus, ...args: unknown[]) => unknown;
}

type BuiltinName = "pad" | "sort" | "split" | "replace" | "eval";
type Builtins = Record<BuiltinName, BuiltinFunction>;

let builtins: Promise<Builtins> | undefined;

/** Our overrides wrap jsonata's own functions, which are only reachable by evaluating them. */
function loadBuiltins(): Promise<Builtins> {
  builtins ??= (jsonata('{"pad": $pad, "sort": $sort, "split": $split, "replace": $replace, "eval": $eval}').evaluate({}) as Promise<Builtins>);
  return builtins;
}

interface JsonataError {
  code: string;
  position?: number;
  message: string;
}

function isJsonataError(e: unknown): e is JsonataError {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string" && typeof (e as { message?: unknown }).message === "string";
}

function describeJsonataError(e: JsonataError): string {
  const at = typeof e.position === "number" ? ` at position ${e.position}` : "";
  return `JSONata ${e.code}${at}: ${e.message}`;
}

function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

function isJsonataFunction(v: object): boolean {
  return "_jsonata_lambda" in v || "_jsonata_function" in v;
}

// ---------------------------------------------------------------------------------------------
// checkRegex: a conservative ReDoS check. It parses the pattern and rejects the shapes that
// backtrack super-linearly: backreferences, a variable quantifier inside a repeated group
// (star height ≥ 2, e.g. (a+)+), repeated alternatives that can start alike or match empty
// (e.g. (a|aa)*), and two unbounded quantifiers in a row that can match the same text with
// everything between them matchable by both (e.g. a*a*b, .*foo.*bar). Approximations: case
// folding is ASCII only, \p{…} and v-mode classes count as "any character". It accepts patterns
// that stay O(n²) unanchored (\w+@\w+\.com), which is why regex input is also capped.
// ---------------------------------------------------------------------------------------------

type Range = readonly [number, number];
type Ranges = readonly Range[];

const MAX_CODE_POINT = 0x10ffff;
const ANY: Ranges = [[0, MAX_CODE_POINT]];
const NONE: Ranges = [];
const DIGIT: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: Ranges = normalize([
  [0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a],
  [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff],
]);
const LINE_TERMINATORS: Ranges = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];
const MAX_QUANTIFIER = 1000;
const LARGE_QUANTIFIER = 16;

function normalize(input: readonly Range[]): Ranges {
  const sorted = [...input].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function union(a: Ranges, b: Ranges): Ranges {
  return normalize([...a, ...b]);
}

function complement(a: Ranges): Ranges {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of a) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

function intersects(a: Ranges, b: Ranges): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as Range;
    const y = b[j] as Range;
    if (x[1] < y[0]) i++;
    else if (y[1] < x[0]) j++;
    else return true;
  }
  return false;
}

function caseInsensitive(a: Ranges): Ranges {
  const extra: Range[] = [];
  for (const [lo, hi] of a) {
    const upperLo = Math.max(lo, 0x41);
    const upperHi = Math.min(hi, 0x5a);
    if (upperLo <= upperHi) extra.push([upperLo + 32, upperHi + 32]);
    const lowerLo = Math.max(lo, 0x61);
    const lowerHi = Math.min(hi, 0x7a);
    if (lowerLo <= lowerHi) extra.push([lowerLo - 32, lowerHi - 32]);
  }
  return extra.length ? union(a, extra) : a;
}

type Rx =
  | { k: "set"; set: Ranges }
  | { k: "seq"; items: Rx[] }
  | { k: "alt"; options: Rx[] }
  | { k: "rep"; body: Rx; min: number; max: number }
  | { k: "look"; body: Rx }
  | { k: "empty" };

class RegexRejected extends Error {}

class RegexParser {
  private pos = 0;
  private ignoreCase: boolean;
  private readonly dotAll: boolean;
  private readonly unicode: boolean;
  private readonly unicodeSets: boolean;

  constructor(private readonly src: string, flags: string) {
    this.ignoreCase = flags.includes("i");
    this.dotAll = flags.includes("s");
    this.unicodeSets = flags.includes("v");
    this.unicode = flags.includes("u") || this.unicodeSets;
  }

  parse(): Rx {
    const rx = this.alternation();
    if (this.pos < this.src.length) throw new RegexRejected("unsupported syntax");
    return rx;
  }

  private peek(offset = 0): string {
    return this.src.charAt(this.pos + offset);
  }

  private alternation(): Rx {
    const options = [this.sequence()];
    while (this.peek() === "|") {
      this.pos++;
      options.push(this.sequence());
    }
    return options.length === 1 ? (options[0] as Rx) : { k: "alt", options };
  }

  private sequence(): Rx {
    const items: Rx[] = [];
    while (this.pos < this.src.length && this.peek() !== "|" && this.peek() !== ")") {
      items.push(this.quantified(this.atom()));
    }
    return { k: "seq", items };
  }

  private quantified(atom: Rx): Rx {
    let min: number;
    let max: number;
    const c = this.peek();
    if (c === "*") [min, max] = [0, Infinity];
    else if (c === "+") [min, max] = [1, Infinity];
    else if (c === "?") [min, max] = [0, 1];
    else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos, this.pos + 24));
      if (!m) return atom;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      this.pos += m[0].length - 1;
    } else return atom;
    this.pos++;
    if (this.peek() === "?") this.pos++;
    if (min > MAX_QUANTIFIER || (max !== Infinity && max > MAX_QUANTIFIER)) {
      throw new RegexRejected(`quantifier bound larger than ${MAX_QUANTIFIER}`);
    }
    return { k: "rep", body: atom, min, max };
  }

  private atom(): Rx {
    const c = this.peek();
    switch (c) {
      case "^":
      case "$":
        this.pos++;
        return { k: "empty" };
      case ".":
        this.pos++;
        return { k: "set", set: this.dotAll ? ANY : complement(LINE_TERMINATORS) };
      case "[":
        return { k: "set", set: this.charClass() };
      case "(":
        return this.group();
      case "\\":
        return this.escape();
      default:
        return { k: "set", set: this.literal(this.codePoint()) };
    }
  }

  private codePoint(): number {
    const cp = this.unicode ? (this.src.codePointAt(this.pos) ?? 0) : this.src.charCodeAt(this.pos);
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private literal(cp: number): Ranges {
    const set: Ranges = [[cp, cp]];
    return this.ignoreCase ? caseInsensitive(set) : set;
  }

  private group(): Rx {
    this.pos++;
    let look = false;
    const savedIgnoreCase = this.ignoreCase;
    if (this.peek() === "?") {
      const next = this.peek(1);
      if (next === ":") this.pos += 2;
      else if (next === "=" || next === "!") {
        look = true;
        this.pos += 2;
      } else if (next === "<" && (this.peek(2) === "=" || this.peek(2) === "!")) {
        look = true;
        this.pos += 3;
      } else if (next === "<") {
        const end = this.src.indexOf(">", this.pos);
        if (end < 0) throw new RegexRejected("unsupported syntax");
        this.pos = end + 1;
      } else {
        const m = /^\?([imsx]*)(-[imsx]*)?:/.exec(this.src.slice(this.pos, this.pos + 16));
        if (!m) throw new RegexRejected("unsupported syntax");
        // Modifier groups may switch case folding on; assuming it on only widens overlaps.
        if (m[0].includes("i")) this.ignoreCase = true;
        this.pos += m[0].length;
      }
    }
    const body = this.alternation();
    if (this.peek() !== ")") throw new RegexRejected("unsupported syntax");
    this.pos++;
    this.ignoreCase = savedIgnoreCase;
    return look ? { k: "look", body } : body;
  }

  private escape(): Rx {
    this.pos++;
    const c = this.peek();
    if (c === "b" || c === "B") {
      this.pos++;
      return { k: "empty" };
    }
    if (/[1-9]/.test(c)) throw new RegexRejected("backreference");
    if (c === "k" && (this.unicode || this.peek(1) === "<")) throw new RegexRejected("backreference");
    return { k: "set", set: this.escapeSet(false) };
  }

  /** The escape after the backslash, as a set; `inClass` turns \b into backspace. */
  private escapeSet(inClass: boolean): Ranges {
    const c = this.peek();
    this.pos++;
    switch (c) {
      case "d": return DIGIT;
      case "D": return complement(DIGIT);
      case "w": return this.ignoreCase ? caseInsensitive(WORD) : WORD;
      case "W": return complement(WORD);
      case "s": return SPACE;
      case "S": return complement(SPACE);
      case "n": return [[0x0a, 0x0a]];
      case "r": return [[0x0d, 0x0d]];
      case "t": return [[0x09, 0x09]];
      case "v": return [[0x0b, 0x0b]];
      case "f": return [[0x0c, 0x0c]];
      case "0": return [[0, 0]];
      case "b": return inClass ? [[0x08, 0x08]] : NONE;
      case "c": {
        const letter = this.src.charCodeAt(this.pos);
        this.pos++;
        return [[letter % 32, letter % 32]];
      }
      case "x": {
        const hex = this.src.slice(this.pos, this.pos + 2);
        this.pos += 2;
        return this.literal(parseInt(hex, 16) || 0);
      }
      case "u": {
        if (this.peek() === "{") {
          const end = this.src.indexOf("}", this.pos);
          const cp = parseInt(this.src.slice(this.pos + 1, end), 16) || 0;
          this.pos = end + 1;
          return this.literal(cp);
        }
        const hex = this.src.slice(this.pos, this.pos + 4);
        this.pos += 4;
        return this.literal(parseInt(hex, 16) || 0);
      }
      case "p":
      case "P":
        if (this.peek() === "{") this.pos = this.src.indexOf("}", this.pos) + 1;
        return ANY;
      default:
        this.pos--;
        return this.literal(this.codePoint());
    }
  }

  private charClass(): Ranges {
    this.pos++;
    const negated = this.peek() === "^";
    if (negated) this.pos++;
    if (this.unicodeSets) {
      this.skipNestedClass();
      return ANY;
    }
    let set: Ranges = NONE;
    while (this.pos < this.src.length && this.peek() !== "]") {
      const lo = this.classAtom();
      if (this.peek() === "-" && this.peek(1) !== "]" && this.pos + 1 < this.src.length) {
        this.pos++;
        const hi = this.classAtom();
        const single = (r: Ranges) => (r.length === 1 && (r[0] as Range)[0] === (r[0] as Range)[1] ? (r[0] as Range)[0] : null);
        const a = single(lo);
        const b = single(hi);
        set = a !== null && b !== null ? union(set, [[a, b]]) : union(union(union(set, lo), hi), [[0x2d, 0x2d]]);
      } else set = union(set, lo);
    }
    if (this.peek() !== "]") throw new RegexRejected("unsupported syntax");
    this.pos++;
    if (this.ignoreCase) set = caseInsensitive(set);
    return negated ? complement(set) : set;
  }

  private classAtom(): Ranges {
    if (this.peek() === "\\") {
      this.pos++;
      return this.escapeSet(true);
    }
    const cp = this.codePoint();
    return [[cp, cp]];
  }

  private skipNestedClass(): void {
    let depth = 1;
    while (this.pos < this.src.length && depth > 0) {
      const c = this.peek();
      if (c === "\\") this.pos += 2;
      else {
        if (c === "[") depth++;
        else if (c === "]") depth--;
        this.pos++;
      }
    }
    if (depth !== 0) throw new RegexRejected("unsupported syntax");
  }
}

function minLength(rx: Rx): number {
  switch (rx.k) {
    case "set": return 1;
    case "seq": return rx.items.reduce((n, i) => n + minLength(i), 0);
    case "alt": return Math.min(...rx.options.map(minLength));
    case "rep": return rx.min * minLength(rx.body);
    default: return 0;
  }
}

function charsOf(rx: Rx): Ranges {
  switch (rx.k) {
    case "set": return rx.set;
    case "seq": return rx.items.reduce((s, i) => union(s, charsOf(i)), NONE);
    case "alt": return rx.options.reduce((s, o) => union(s, charsOf(o)), NONE);
    case "rep": return charsOf(rx.body);
    default: return NONE;
  }
}

function firstChars(rx: Rx): Ranges {
  switch (rx.k) {
    case "set": return rx.set;
    case "seq": {
      let s: Ranges = NONE;
      for (const item of rx.items) {
        s = union(s, firstChars(item));
        if (minLength(item) > 0) break;
      }
      return s;
    }
    case "alt": return rx.options.reduce((s, o) => union(s, firstChars(o)), NONE);
    case "rep": return firstChars(rx.body);
    default: return NONE;
  }
}

function children(rx: Rx): Rx[] {
  switch (rx.k) {
    case "seq": return rx.items;
    case "alt": return rx.options;
    case "rep":
    case "look": return [rx.body];
    default: return [];
  }
}

function* descendants(rx: Rx): Generator<Rx> {
  for (const child of children(rx)) {
    yield child;
    yield* descendants(child);
  }
}

function isLargeRep(rx: Rx): boolean {
  return rx.k === "rep" && (rx.max === Infinity || rx.max > LARGE_QUANTIFIER);
}

function hasLargeRep(rx: Rx): boolean {
  if (isLargeRep(rx)) return true;
  for (const d of descendants(rx)) if (isLargeRep(d)) return true;
  return false;
}

function flatten(rx: Rx, out: Rx[] = []): Rx[] {
  if (rx.k === "seq") for (const item of rx.items) flatten(item, out);
  else out.push(rx);
  return out;
}

function ambiguity(rx: Rx): string | null {
  if (rx.k === "rep" && rx.max > 1) {
    for (const inner of descendants(rx.body)) {
      if (inner.k === "rep" && inner.min !== inner.max && (isLargeRep(rx) || isLargeRep(inner))) return "nested quantifier";
    }
    if (isLargeRep(rx)) {
      for (const alt of [rx.body, ...descendants(rx.body)]) {
        if (alt.k !== "alt") continue;
        if (alt.options.some((o) => minLength(o) === 0)) return "alternative that can match empty text inside a repeated group";
        const firsts = alt.options.map(firstChars);
        for (let i = 0; i < firsts.length; i++) {
          for (let j = i + 1; j < firsts.length; j++) {
            if (intersects(firsts[i] as Ranges, firsts[j] as Ranges)) return "overlapping alternatives inside a repeated group";
          }
        }
      }
    }
  }
  if (rx.k === "seq") {
    const items = flatten(rx);
    for (let i = 0; i < items.length; i++) {
      const a = items[i] as Rx;
      if (!hasLargeRep(a)) continue;
      const aChars = charsOf(a);
      const between: Ranges[] = [];
      for (let j = i + 1; j < items.length; j++) {
        const b = items[j] as Rx;
        const bChars = charsOf(b);
        if (hasLargeRep(b) && intersects(aChars, bChars) && between.every((x) => intersects(x, bChars))) {
          return "adjacent quantifiers that can match the same text";
        }
        if (minLength(b) === 0) continue;
        if (!intersects(bChars, aChars)) break;
        between.push(bChars);
      }
    }
  }
  for (const child of children(rx)) {
    const reason = ambiguity(child);
    if (reason) return reason;
  }
  return null;
}

export type RegexCheck = { ok: true } | { ok: false; message: string };

const regexVerdicts = new Map<string, RegexCheck>();
const REGEX_VERDICT_CACHE = 512;

/** Judges a pattern before it may run; `message` reads "regex rejected: <reason> in /<source>/". */
export function checkRegex(source: string, flags = ""): RegexCheck {
  const key = `${flags}/${source}`;
  const cached = regexVerdicts.get(key);
  if (cached) return cached;
  let verdict: RegexCheck;
  try {
    new RegExp(source, flags.replace(/[^dgimsuvy]/g, ""));
    const reason = ambiguity(new RegexParser(source, flags).parse());
    verdict = reason ? { ok: false, message: `regex rejected: ${reason} in /${source}/` } : { ok: true };
  } catch (e) {
    const reason = e instanceof RegexRejected ? e.message : "invalid pattern";
    verdict = { ok: false, message: `regex rejected: ${reason} in /${source}/` };
  }
  if (regexVerdicts.size >= REGEX_VERDICT_CACHE) regexVerdicts.clear();
  regexVerdicts.set(key, verdict);
  return verdict;
}

function guardedRegexEngine(maxInput: number, charge: (chars: number) => void): RegExpConstructor {
  class GuardedRegExp {
    lastIndex = 0;
    readonly #re: RegExp;
    constructor(pattern: RegExp | string, flags?: string) {
      const re = typeof pattern === "string" ? new RegExp(pattern, flags) : pattern;
      const verdict = checkRegex(re.source, re.flags);
      if (!verdict.ok) throw new TransformLimit(verdict.message);
      this.#re = new RegExp(re.source, re.flags);
    }
    exec(s: string): RegExpExecArray | null {
      if (s.length > maxInput) throw new TransformLimit(`regex input longer than ${maxInput} characters`);
      charge(s.length - this.lastIndex);
      this.#re.lastIndex = this.lastIndex;
      const m = this.#re.exec(s);
      this.lastIndex = this.#re.lastIndex;
      return m;
    }
  }
  return GuardedRegExp as unknown as RegExpConstructor;
}

// ---------------------------------------------------------------------------------------------
// checkTransform
// ---------------------------------------------------------------------------------------------

type Parsed = { ok: true; expression: Compiled } | { ok: false; message: string; position?: number };

function findUnsafeRegex(ast: unknown): { message: string; position?: number } | null {
  const seen = new Set<object>();
  const stack: unknown[] = [ast];
  while (stack.length) {
    const node = stack.pop();
    if (!isRecord(node) || seen.has(node)) continue;
    seen.add(node);
    if (node.type === "regex" && node.value instanceof RegExp) {
      const verdict = checkRegex(node.value.source, node.value.flags);
      if (!verdict.ok) return typeof node.position === "number" ? { message: verdict.message, position: node.position } : { message: verdict.message };
    }
    for (const value of Object.values(node)) if (typeof value === "object") stack.push(value);
  }
  return null;
}

function parse(expr: string, options?: jsonata.JsonataOptions): Parsed {
  if (typeof expr !== "string" || expr.trim() === "") return { ok: false, message: "transform is empty" };
  const bytes = utf8Length(expr);
  if (bytes > TRANSFORM_MAX_BYTES) return { ok: false, message: `transform is ${bytes} bytes; the limit is ${formatBytes(TRANSFORM_MAX_BYTES)}` };
  let expression: Compiled;
  try {
    expression = jsonata(expr, options) as unknown as Compiled;
  } catch (e) {
    if (isJsonataError(e)) {
      const message = describeJsonataError(e);
      return typeof e.position === "number" ? { ok: false, message, position: e.position } : { ok: false, message };
    }
    return { ok: false, message: "transform could not be parsed" };
  }
  const unsafe = findUnsafeRegex(expression.ast());
  if (unsafe) return { ok: false, ...unsafe };
  return { ok: true, expression };
}

/** Create/update check: syntax, size and regex literals. Does not evaluate anything. */
export function checkTransform(expr: string): TransformCheck {
  const parsed = parse(expr);
  return parsed.ok ? { ok: true } : parsed;
}

// ---------------------------------------------------------------------------------------------
// createTransformer
// ---------------------------------------------------------------------------------------------

/** Expanded JSON size of values, memoised per object so shared references are cheap to size. */
class SizeMeter {
  private readonly objects = new WeakMap<object, number>();
  private readonly arrays = new WeakMap<object, { length: number; size: number }>();

  constructor(private readonly limit: number) {}

  measure(v: unknown, depth = 0): number {
    switch (typeof v) {
      case "string":
        if (v.length > this.limit) throw this.tooBig();
        return v.length + 2;
      case "number":
        return 8;
      case "boolean":
        return 5;
      case "object":
        break;
      default:
        return 0;
    }
    if (v === null) return 4;
    if (depth > MAX_NESTING) throw new TransformLimit(`transform value nested deeper than ${MAX_NESTING} levels`);
    if (Array.isArray(v)) {
      const known = this.arrays.get(v);
      if (known && known.length === v.length) return known.size;
      let size = 2;
      for (const item of v) {
        size += this.measure(item, depth + 1) + 1;
        if (size > this.limit) throw this.tooBig();
      }
      this.arrays.set(v, { length: v.length, size });
      return size;
    }
    if (isJsonataFunction(v)) return 0;
    const known = this.objects.get(v);
    if (known !== undefined) return known;
    let size = 2;
    for (const [key, item] of Object.entries(v)) {
      size += key.length + 4 + this.measure(item, depth + 1);
      if (size > this.limit) throw this.tooBig();
    }
    this.objects.set(v, size);
    return size;
  }

  private tooBig(): ValueTooBig {
    return new ValueTooBig(`transform intermediate value exceeds ${formatBytes(this.limit)}`);
  }
}

const CHARGED_OPERATORS = new Set(["=", "!=", "in"]);

/** Same number rounding as jsonata's $string, so 0.1 + 0.2 comes out as 0.3. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isInteger(value)) return Number(value.toPrecision(15));
  return value;
}

function isArrayOf(arr: readonly unknown[], type: "number" | "string"): boolean {
  return arr.every((x) => typeof x === type);
}

export function createTransformer(opts: TransformerOptions = {}): Transformer {
  const timeoutMs = opts.timeoutMs ?? TRANSFORM_DEFAULTS.timeoutMs;
  const maxDepth = opts.maxDepth ?? TRANSFORM_DEFAULTS.maxDepth;
  const maxOutputBytes = opts.maxOutputBytes ?? TRANSFORM_DEFAULTS.maxOutputBytes;
  const maxSteps = opts.maxSteps ?? TRANSFORM_DEFAULTS.maxSteps;
  const maxValueBytes = opts.maxValueBytes ?? TRANSFORM_DEFAULTS.maxValueBytes;
  const maxSequence = opts.maxSequence ?? TRANSFORM_DEFAULTS.maxSequence;
  const cacheSize = opts.cacheSize ?? TRANSFORM_DEFAULTS.cacheSize;
  const now = opts.now ?? Date.now;
  const { maxPadWidth, maxRegexInput } = TRANSFORM_DEFAULTS;

  const cache = new Map<string, Parsed>();
  const meter = new SizeMeter(maxValueBytes);
  /** The run whose node is being evaluated; regex calls happen inside it, so they are charged to it. */
  let current: RunState | null = null;
  const regexEngine = guardedRegexEngine(maxRegexInput, (chars) => {
    if (!current) return;
    current.regexWork += (chars * chars) / 10_000;
    if (current.regexWork > TRANSFORM_DEFAULTS.maxRegexWork) {
      throw new TransformLimit(`transform regex work exceeds its budget (${TRANSFORM_DEFAULTS.maxRegexWork} units of length²/10 000)`);
    }
  });

  /** One state per evaluation, kept on jsonata's per-evaluation base frame. */
  function stateOf(env: Frame): RunState {
    const base = env.base ?? env;
    return (base[RUN_STATE] ??= { steps: 0, depth: 0, start: now(), regexWork: 0 });
  }

  /** Values that built-ins, comparisons and `~>` walk natively get sized and charged on exit. */
  function markChargeSites(expr: ExprNode): void {
    if (expr[MARKED]) return;
    expr[MARKED] = true;
    if (expr.type === "function" && expr.arguments) {
      for (const arg of expr.arguments) arg[CHARGE_SITE] = expr;
    } else if ((expr.type === "binary" && typeof expr.value === "string" && CHARGED_OPERATORS.has(expr.value)) || expr.type === "apply") {
      if (isRecord(expr.lhs)) (expr.lhs as unknown as ExprNode)[CHARGE_SITE] = OPERAND;
      if (expr.type === "binary" && expr.rhs) expr.rhs[CHARGE_SITE] = OPERAND;
    }
  }

  function callsLambda(call: ExprNode, env: Frame): boolean {
    const proc = call.procedure;
    if (proc?.type !== "variable" || typeof proc.value !== "string") return false;
    const fn = env.lookup(proc.value);
    return isRecord(fn) && "_jsonata_lambda" in fn;
  }

  function checkSteps(state: RunState): void {
    if (state.steps > maxSteps) throw new TransformLimit(`transform exceeded ${maxSteps} evaluation steps`);
  }

  function onEntry(expr: ExprNode, _input: unknown, env: Frame): void {
    const state = stateOf(env);
    current = state;
    state.steps++;
    checkSteps(state);
    if (++state.depth > maxDepth) throw new TransformLimit(`transform recursion deeper than ${maxDepth}`);
    if (now() - state.start > timeoutMs) throw new TransformLimit(`transform timed out after ${timeoutMs} ms`);
    markChargeSites(expr);
  }

  function onExit(expr: ExprNode, _input: unknown, env: Frame, result: unknown): void {
    const state = stateOf(env);
    state.depth--;
    if (typeof result === "string") meter.measure(result);
    const site = expr[CHARGE_SITE];
    if (site === undefined || (site !== OPERAND && callsLambda(site, env))) return;
    const size = meter.measure(result);
    if (size >= 1024) {
      state.steps += Math.floor(size / 1024);
      checkSteps(state);
    }
  }

  function install(expression: Compiled, fns: Builtins): void {
    expression.assign(ENTRY, onEntry);
    expression.assign(EXIT, onExit);
    expression.registerFunction("pad", function (this: Focus, str: string | undefined, width: number, char?: string) {
      if (Math.abs(Math.trunc(width)) > maxPadWidth) throw new TransformLimit(`$pad width ${width} exceeds the limit of ${maxPadWidth}`);
      return fns.pad.implementation.call(this, str, width, char);
    }, "<s-ns?:s>");
    expression.registerFunction("sort", function (this: Focus, arr: unknown[] | undefined, comparator?: unknown) {
      if (arr === undefined || arr.length <= 1) return arr;
      if (arr.length > maxSequence) throw new TransformLimit(`$sort of ${arr.length} items exceeds the limit of ${maxSequence}`);
      if (comparator === undefined && (isArrayOf(arr, "number") || isArrayOf(arr, "string"))) {
        return [...(arr as (number | string)[])].sort((a, b) => (a > b ? 1 : a < b ? -1 : 0));
      }
      return fns.sort.implementation.call(this, arr, comparator);
    }, "<af?:a>");
    expression.registerFunction("distinct", function (this: Focus, arr: unknown) {
      if (!Array.isArray(arr) || arr.length <= 1) return arr;
      const out = (arr as { sequence?: boolean }).sequence === true ? this.createSequence() : [];
      const seen = new Set<unknown>();
      for (const item of arr) {
        const key = typeof item === "string" ? `s:${item}` : isRecord(item) && !isJsonataFunction(item) ? `j:${canonicalKey(item)}` : item;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(item);
      }
      return out;
    }, "<x:x>");
    expression.registerFunction("split", async function (this: Focus, str: string | undefined, separator: unknown, limit?: number) {
      if (limit !== undefined && limit <= maxSequence) return fns.split.implementation.call(this, str, separator, limit);
      const parts = await fns.split.implementation.call(this, str, separator, maxSequence + 1);
      if (Array.isArray(parts) && parts.length > maxSequence) throw new TransformLimit(`$split produced more than ${maxSequence} parts`);
      return parts;
    }, "<s-(sf)n?:a<s>>");
    expression.registerFunction("replace", function (this: Focus, str: string | undefined, pattern: unknown, replacement: unknown, limit?: number) {
      if (typeof str === "string" && typeof pattern === "string" && pattern !== "" && (limit === undefined || limit > maxSequence)) {
        let count = 0;
        for (let at = str.indexOf(pattern); at !== -1 && count <= maxSequence; at = str.indexOf(pattern, at + pattern.length)) count++;
        if (count > maxSequence) throw new TransformLimit(`$replace would make more than ${maxSequence} replacements`);
      }
      return fns.replace.implementation.call(this, str, pattern, replacement, limit);
    }, "<s-(sf)(sf)n?:s>");
    expression.registerFunction("eval", function (this: Focus, source: string | undefined, context?: unknown) {
      if (typeof source === "string" && utf8Length(source) > TRANSFORM_MAX_BYTES) {
        throw new TransformLimit(`$eval source exceeds ${formatBytes(TRANSFORM_MAX_BYTES)}`);
      }
      return fns.eval.implementation.call(this, source, context);
    }, "<sx?:x>");
  }

  function compiled(expr: string, fns: Builtins): Parsed {
    const hit = cache.get(expr);
    if (hit) {
      cache.delete(expr);
      cache.set(expr, hit);
      return hit;
    }
    const parsed = parse(expr, { RegexEngine: regexEngine, sequence: maxSequence });
    if (parsed.ok) install(parsed.expression, fns);
    cache.set(expr, parsed);
    if (cache.size > cacheSize) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    return parsed;
  }

  function describe(e: unknown): string {
    if (e instanceof TransformLimit) return e.message;
    // $eval wraps errors raised inside the evaluated text; ours should read the same either way.
    if (isJsonataError(e) && e.code === "D3121" && "error" in e && e.error instanceof TransformLimit) return e.error.message;
    if (isJsonataError(e)) {
      if (e.code === "D2015" || e.code === "D2014") return `transform sequence longer than ${maxSequence} items`;
      return describeJsonataError(e);
    }
    if (e instanceof Error) return `transform failed: ${e.message}`;
    return "transform failed";
  }

  return {
    async run(expr, input) {
      try {
        const parsed = compiled(expr, await loadBuiltins());
        if (!parsed.ok) return { ok: false, message: parsed.message };
        const root = { body: input.body, headers: input.headers, query: input.query, metadata: input.metadata };
        const value = await parsed.expression.evaluate(root);
        try {
          meter.measure(value);
        } catch (e) {
          if (e instanceof ValueTooBig) return { ok: false, message: `transform output exceeds ${formatBytes(maxOutputBytes)}` };
          throw e;
        }
        const json = value === undefined ? undefined : JSON.stringify(value, jsonReplacer);
        if (json === undefined) return { ok: false, message: "transform produced no output (the expression evaluated to nothing)" };
        if (utf8Length(json) > maxOutputBytes) return { ok: false, message: `transform output exceeds ${formatBytes(maxOutputBytes)}` };
        return { ok: true, output: JSON.parse(json) as unknown };
      } catch (e) {
        return { ok: false, message: describe(e) };
      }
    },
  };
}

function canonicalKey(v: Record<string, unknown>): string {
  return JSON.stringify(v, (_key, value: unknown) => {
    if (isRecord(value) && !Array.isArray(value)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(value).sort()) sorted[k] = value[k];
      return sorted;
    }
    return value;
  });
}
