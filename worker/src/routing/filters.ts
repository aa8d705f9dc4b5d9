/**
 * Content filters: which events a connection lets through. Pure.
 *
 *   filtersSchema               zod schema for the stored and API form; its issues carry a path
 *                               (e.g. [1, "any", 0, "op"]) for a 400 that points at the problem.
 *   evaluateFilters(f, input)   → { matched: true }
 *                               | { matched: false, rule: { path, field, op, value }, reason }
 *                               with `path` like "filters[1].any[0]" and a human reason such as
 *                               `body.type is "invoice.paid", expected "checkout.session.completed"`.
 *
 * Shape: a list of rules `{ field, op, value? }` and groups `{ any: [...] }` / `{ all: [...] }`;
 * the top-level list means all. At most 50 rules in total, groups nested at most 3 deep,
 * `field` at most 256 characters, `in` at most 256 candidates. An empty list matches everything.
 *
 * Fields: `body`, `body.<path>`, `headers.<name>`, `query.<name>`. A body path splits on ".",
 * and a segment that is a non-negative integer indexes an array (`body.items.0.sku`); keys that
 * contain "." cannot be addressed. Everything after `headers.`/`query.` is one name, so
 * `query.filter.name` is the parameter "filter.name". Header names match case-insensitively,
 * query names exactly. Header and query values are strings.
 *
 * Type rules:
 *   missing   a field that does not resolve is missing, and missing is not null: null is a value
 *             (as in Hookdeck). A missing field matches only `neq` and `exists: false`.
 *   eq, neq   JSON equality: same type and value, arrays in order, objects by keys regardless of
 *             order, recursively; the one coercion is that a number equals a numeric string of the
 *             same value ("42" eq 42, "4.20" eq 4.2), because headers and query values are strings.
 *             Numeric strings follow JSON number syntax ("042" and " 42" are not numeric).
 *             Strings are case-sensitive, booleans are not coerced ("true" neq true). neq is not-eq.
 *   gt, gte, lt, lte   numbers, and numeric strings converted; anything else does not match.
 *   contains  on a string: substring, and the value must be a string; on an array: some element
 *             eq the value. Any other field type does not match.
 *   in        the value lists candidates; matches when the field eq one of them.
 *   exists    value true (default): the field is present, null included; false: it is missing.
 */
import { z } from "zod";

export const FILTER_OPS = ["eq", "neq", "contains", "gt", "gte", "lt", "lte", "exists", "in"] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export const FILTER_LIMITS = { maxRules: 50, maxDepth: 3, maxFieldLength: 256, maxCandidates: 256 } as const;

export interface FilterRule {
  field: string;
  op: FilterOp;
  value?: unknown;
}
export interface AnyGroup {
  any: FilterNode[];
}
export interface AllGroup {
  all: FilterNode[];
}
export type FilterNode = FilterRule | AnyGroup | AllGroup;
export type Filters = FilterNode[];

export interface FilterInput {
  body: unknown;
  headers: Record<string, string>;
  query: Record<string, string>;
}

export interface FailedRule {
  path: string;
  field: string;
  op: FilterOp;
  value?: unknown;
}

export type FilterResult = { matched: true } | { matched: false; rule: FailedRule; reason: string };

type ParsedField = { root: "body"; path: string[] } | { root: "headers" | "query"; name: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseField(field: string): ParsedField | string {
  if (field === "body") return { root: "body", path: [] };
  if (field.startsWith("body.")) {
    const path = field.slice(5).split(".");
    if (path.some((s) => s === "")) return "field has an empty path segment";
    return { root: "body", path };
  }
  for (const root of ["headers", "query"] as const) {
    if (field.startsWith(`${root}.`)) {
      const name = field.slice(root.length + 1);
      return name === "" ? `field needs a name after "${root}."` : { root, name };
    }
  }
  return `field must be body, body.<path>, headers.<name> or query.<name>`;
}

const NUMERIC = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

function asNumber(v: unknown): number | null {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "string" && NUMERIC.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

// --- schema -------------------------------------------------------------------------------

const NEEDS_VALUE: ReadonlySet<string> = new Set(["eq", "neq", "contains"]);
const NUMERIC_OPS: ReadonlySet<string> = new Set(["gt", "gte", "lt", "lte"]);

interface LooseNode {
  field?: string | undefined;
  op?: string | undefined;
  value?: unknown;
  any?: FilterNode[] | undefined;
  all?: FilterNode[] | undefined;
}

function checkNode(n: LooseNode, ctx: z.RefinementCtx): void {
  const issue = (message: string, path: (string | number)[] = []) => ctx.addIssue({ code: "custom", message, path });
  if (n.any !== undefined || n.all !== undefined) {
    if (n.any !== undefined && n.all !== undefined) return issue("a group has either any or all, not both");
    if (n.field !== undefined || n.op !== undefined || "value" in n) return issue("a group { any | all } cannot also have field, op or value");
    const key = n.any !== undefined ? "any" : "all";
    if ((n.any ?? n.all ?? []).length === 0) issue(`an ${key} group needs at least one condition`, [key]);
    return;
  }
  if (n.field === undefined) issue("field is required (or use a group { any: [...] } / { all: [...] })", ["field"]);
  else if (n.field.length > FILTER_LIMITS.maxFieldLength) issue(`field is longer than ${FILTER_LIMITS.maxFieldLength} characters`, ["field"]);
  else {
    const parsed = parseField(n.field);
    if (typeof parsed === "string") issue(parsed, ["field"]);
  }
  const ops = FILTER_OPS.join(", ");
  if (n.op === undefined) return issue(`op is required: one of ${ops}`, ["op"]);
  if (!(FILTER_OPS as readonly string[]).includes(n.op)) return issue(`op "${n.op}" is unknown: use one of ${ops}`, ["op"]);
  const op = n.op;
  const hasValue = "value" in n && n.value !== undefined;
  if (NEEDS_VALUE.has(op) && !hasValue) issue(`value is required for op "${op}"`, ["value"]);
  if (NUMERIC_OPS.has(op) && asNumber(n.value) === null) issue(`value for op "${op}" must be a number (or a numeric string)`, ["value"]);
  if (op === "exists" && hasValue && typeof n.value !== "boolean") {
    issue(`op "exists" takes an optional boolean value (true: must exist, false: must be absent)`, ["value"]);
  }
  if (op === "in") {
    if (!Array.isArray(n.value)) issue(`op "in" needs an array of candidates as value`, ["value"]);
    else if (n.value.length === 0) issue(`op "in" needs at least one candidate`, ["value"]);
    else if (n.value.length > FILTER_LIMITS.maxCandidates) issue(`op "in" takes at most ${FILTER_LIMITS.maxCandidates} candidates`, ["value"]);
  }
}

const nodeSchema: z.ZodType<FilterNode> = z
  .strictObject({
    field: z.string().optional(),
    op: z.string().optional(),
    value: z.unknown().optional(),
    get any() {
      return z.array(nodeSchema).optional();
    },
    get all() {
      return z.array(nodeSchema).optional();
    },
  })
  .superRefine(checkNode)
  .transform((n) => n as FilterNode);

function groupChildren(v: unknown): unknown[] | null {
  if (!isRecord(v)) return null;
  if (Array.isArray(v.any)) return v.any;
  if (Array.isArray(v.all)) return v.all;
  return null;
}

/** Counts and depth are checked on the raw input first, so parsing itself stays bounded. */
function checkBounds(list: unknown[], ctx: z.RefinementCtx): void {
  let rules = 0;
  const stack: { nodes: unknown[]; depth: number; path: (string | number)[] }[] = [{ nodes: list, depth: 0, path: [] }];
  while (stack.length) {
    const { nodes, depth, path } = stack.pop() as { nodes: unknown[]; depth: number; path: (string | number)[] };
    nodes.forEach((node, i) => {
      const kids = groupChildren(node);
      if (kids === null) {
        rules++;
        return;
      }
      const key = isRecord(node) && Array.isArray(node.any) ? "any" : "all";
      if (depth + 1 > FILTER_LIMITS.maxDepth) {
        ctx.addIssue({ code: "custom", message: `groups nest at most ${FILTER_LIMITS.maxDepth} deep`, path: [...path, i] });
        return;
      }
      stack.push({ nodes: kids, depth: depth + 1, path: [...path, i, key] });
    });
    if (rules > FILTER_LIMITS.maxRules) break;
  }
  if (rules > FILTER_LIMITS.maxRules) ctx.addIssue({ code: "custom", message: `filters hold at most ${FILTER_LIMITS.maxRules} rules`, path: [] });
}

export const filtersSchema: z.ZodType<Filters, unknown> = z.array(z.unknown()).superRefine(checkBounds).pipe(z.array(nodeSchema));

// --- evaluation -----------------------------------------------------------------------------

const MATCHED: FilterResult = { matched: true };

function show(v: unknown): string {
  if (v === undefined) return "missing";
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `a ${typeof v}`;
}

function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "string") return asNumber(b) === a;
  if (typeof a === "string" && typeof b === "number") return asNumber(a) === b;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEquals(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEquals(a[k], b[k]));
  }
  return false;
}

const INDEX = /^(0|[1-9]\d*)$/;

function resolve(field: string, input: FilterInput): unknown {
  const parsed = parseField(field);
  if (typeof parsed === "string") return undefined;
  if (parsed.root === "body") {
    let cur: unknown = input.body;
    for (const seg of parsed.path) {
      if (Array.isArray(cur)) cur = INDEX.test(seg) ? cur[Number(seg)] : undefined;
      else if (isRecord(cur)) cur = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
      else return undefined;
      if (cur === undefined) return undefined;
    }
    return cur;
  }
  if (parsed.root === "query") return Object.hasOwn(input.query, parsed.name) ? input.query[parsed.name] : undefined;
  const lower = parsed.name.toLowerCase();
  if (Object.hasOwn(input.headers, lower)) return input.headers[lower];
  for (const [name, value] of Object.entries(input.headers)) if (name.toLowerCase() === lower) return value;
  return undefined;
}

const COMPARATORS: Record<"gt" | "gte" | "lt" | "lte", { symbol: string; test: (a: number, b: number) => boolean }> = {
  gt: { symbol: ">", test: (a, b) => a > b },
  gte: { symbol: ">=", test: (a, b) => a >= b },
  lt: { symbol: "<", test: (a, b) => a < b },
  lte: { symbol: "<=", test: (a, b) => a <= b },
};

/** null when the rule matches, else the reason it does not. */
function ruleMismatch(rule: FilterRule, actual: unknown): string | null {
  const { field, op, value } = rule;
  switch (op) {
    case "exists": {
      const mustExist = value !== false;
      if (mustExist === (actual !== undefined)) return null;
      return mustExist ? `${field} is missing, expected it to exist` : `${field} is ${show(actual)}, expected it to be absent`;
    }
    case "neq":
      return actual === undefined || !jsonEquals(actual, value) ? null : `${field} is ${show(actual)}, expected anything but ${show(value)}`;
    default:
      break;
  }
  if (actual === undefined) return `${field} is missing`;
  switch (op) {
    case "eq":
      return jsonEquals(actual, value) ? null : `${field} is ${show(actual)}, expected ${show(value)}`;
    case "in":
      return Array.isArray(value) && value.some((c) => jsonEquals(actual, c)) ? null : `${field} is ${show(actual)}, expected one of ${show(value)}`;
    case "contains":
      if (typeof actual === "string") {
        if (typeof value !== "string") return `${field} is a string, and contains on a string needs a string value (got ${show(value)})`;
        return actual.includes(value) ? null : `${field} is ${show(actual)}, which does not contain ${show(value)}`;
      }
      if (Array.isArray(actual)) {
        return actual.some((el) => jsonEquals(el, value)) ? null : `${field} is ${show(actual)}, which has no element equal to ${show(value)}`;
      }
      return `${field} is ${typeName(actual)}; contains applies to strings and arrays`;
    default: {
      const a = asNumber(actual);
      const b = asNumber(value);
      const cmp = COMPARATORS[op];
      if (a === null) return `${field} is ${show(actual)}, not a number`;
      if (b === null) return `${field} is compared with ${show(value)}, which is not a number`;
      return cmp.test(a, b) ? null : `${field} is ${show(actual)}, expected ${cmp.symbol} ${show(value)}`;
    }
  }
}

function evaluateNode(node: FilterNode, input: FilterInput, path: string): FilterResult {
  if ("any" in node) return evaluateAny(node.any, input, `${path}.any`);
  if ("all" in node) return evaluateAll(node.all, input, `${path}.all`);
  const reason = ruleMismatch(node, resolve(node.field, input));
  if (reason === null) return MATCHED;
  const rule: FailedRule = { path, field: node.field, op: node.op };
  if ("value" in node) rule.value = node.value;
  return { matched: false, rule, reason };
}

function evaluateAll(nodes: readonly FilterNode[], input: FilterInput, path: string): FilterResult {
  for (let i = 0; i < nodes.length; i++) {
    const result = evaluateNode(nodes[i] as FilterNode, input, `${path}[${i}]`);
    if (!result.matched) return result;
  }
  return MATCHED;
}

function evaluateAny(nodes: readonly FilterNode[], input: FilterInput, path: string): FilterResult {
  const misses: { rule: FailedRule; reason: string }[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const result = evaluateNode(nodes[i] as FilterNode, input, `${path}[${i}]`);
    if (result.matched) return MATCHED;
    misses.push(result);
  }
  const first = misses[0];
  if (!first) return MATCHED;
  if (misses.length === 1) return { matched: false, rule: first.rule, reason: first.reason };
  return { matched: false, rule: first.rule, reason: `none of the ${misses.length} conditions in ${path} matched: ${misses.map((m) => m.reason).join("; ")}` };
}

/** Filters parsed by filtersSchema; the top-level list means all. */
export function evaluateFilters(filters: Filters, input: FilterInput): FilterResult {
  return evaluateAll(filters, input, "filters");
}
