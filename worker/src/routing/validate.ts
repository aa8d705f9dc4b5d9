/**
 * JSON Schema validation of payloads with @cfworker/json-schema, an interpreting validator:
 * it runs inside workerd, where ajv's compile() is refused (no code generation from strings).
 * Pure; validators are cached per schema text (LRU, 256) and per schema object, so do not mutate
 * a schema object after handing it in. The library annotates the schemas it loads; it only ever
 * sees private copies.
 *
 *   checkSchema(schema)          create/update check → { ok: true, draft } | { ok: false, message }.
 *                                Drafts: 2020-12 (also when `$schema` is absent) and draft-07;
 *                                any other `$schema` is refused. The schema must be valid against
 *                                its draft's meta-schema (validated with the same library; the
 *                                2020-12 meta-schema is bundled with static refs since the library
 *                                has no $dynamicRef), ≤ 64 KB, nested ≤ 64 deep, every $ref local and
 *                                resolvable, ≤ 20 000 subschemas once $refs are expanded.
 *   validatePayload(schema, v)   → { valid: true } | { valid: false, errors: [{ path, message }] }
 *                                `path` is a JSON pointer into the payload ("" is the root); at most
 *                                20 errors, innermost first. Never throws.
 *
 * The payload comes from whoever calls the ingest URL, so validation is bounded too:
 *   - `pattern` and `patternProperties` regexes must pass checkRegex (see transform.ts); `pattern`
 *     only runs on strings up to 10 000 characters (longer ones fail validation) and property
 *     names longer than 1 000 characters fail when the schema has patternProperties.
 *   - `uniqueItems` (quadratic in the library) only runs on arrays up to 1 000 items.
 *   - format "url" is refused: the library's url regex backtracks exponentially (1.3 s on 34
 *     characters); use "uri". Other formats are asserted as the library does (date-time, date,
 *     time, duration, email, hostname, ipv4, ipv6, uri, uri-reference, uri-template, uuid, regex,
 *     json-pointer, relative-json-pointer), also under 2020-12 where the spec makes format an
 *     annotation by default.
 *   - a payload nested too deeply for the validator's recursion fails with a message.
 * Not bounded: a pattern that passes checkRegex is still O(n²) on a 10 000-character string.
 */
import { Validator, dereference, schemaArrayKeyword, schemaKeyword, schemaMapKeyword, type OutputUnit, type Schema } from "@cfworker/json-schema";
import { checkRegex } from "./transform.js";

export const SCHEMA_LIMITS = {
  maxBytes: 64 * 1024,
  maxDepth: 64,
  maxExpandedSubschemas: 20_000,
  maxRequired: 1_000,
  maxPatternInput: 7_000,
  /** Σ length²/10 000 over the payload's strings when the schema has a pattern (≈ 50 ms of worst-case regex work). */
  maxPatternWork: 5_000,
  maxUniqueItems: 1_000,
  maxPatternPropertyName: 1_000,
  maxErrors: 20,
  fullReportNodes: 10_000,
  cacheSize: 256,
} as const;

export type SchemaDraft = "2020-12" | "7";
export type SchemaCheck = { ok: true; draft: SchemaDraft } | { ok: false; message: string };
export interface SchemaError {
  path: string;
  message: string;
}
export type ValidationResult = { valid: true } | { valid: false; errors: SchemaError[] };

const DRAFTS: Record<string, SchemaDraft> = {
  "https://json-schema.org/draft/2020-12/schema": "2020-12",
  "https://json-schema.org/draft/2020-12/schema#": "2020-12",
  "http://json-schema.org/draft-07/schema": "7",
  "http://json-schema.org/draft-07/schema#": "7",
  "https://json-schema.org/draft-07/schema": "7",
  "https://json-schema.org/draft-07/schema#": "7",
};

const GUARD = "hookstream: bound on input size";

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// --- meta-schemas ---------------------------------------------------------------------------

const SIMPLE_TYPES = { enum: ["array", "boolean", "integer", "null", "number", "object", "string"] };
const STRING_ARRAY = { type: "array", items: { type: "string" }, uniqueItems: true, default: [] };

const DRAFT_07_META: Schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "http://json-schema.org/draft-07/schema#",
  definitions: {
    schemaArray: { type: "array", minItems: 1, items: { $ref: "#" } },
    nonNegativeInteger: { type: "integer", minimum: 0 },
    nonNegativeIntegerDefault0: { allOf: [{ $ref: "#/definitions/nonNegativeInteger" }, { default: 0 }] },
    simpleTypes: SIMPLE_TYPES,
    stringArray: STRING_ARRAY,
  },
  type: ["object", "boolean"],
  properties: {
    $id: { type: "string", format: "uri-reference" },
    $schema: { type: "string", format: "uri" },
    $ref: { type: "string", format: "uri-reference" },
    $comment: { type: "string" },
    title: { type: "string" },
    description: { type: "string" },
    default: true,
    readOnly: { type: "boolean" },
    writeOnly: { type: "boolean" },
    examples: { type: "array", items: true },
    multipleOf: { type: "number", exclusiveMinimum: 0 },
    maximum: { type: "number" },
    exclusiveMaximum: { type: "number" },
    minimum: { type: "number" },
    exclusiveMinimum: { type: "number" },
    maxLength: { $ref: "#/definitions/nonNegativeInteger" },
    minLength: { $ref: "#/definitions/nonNegativeIntegerDefault0" },
    pattern: { type: "string", format: "regex" },
    additionalItems: { $ref: "#" },
    items: { anyOf: [{ $ref: "#" }, { $ref: "#/definitions/schemaArray" }] },
    maxItems: { $ref: "#/definitions/nonNegativeInteger" },
    minItems: { $ref: "#/definitions/nonNegativeIntegerDefault0" },
    uniqueItems: { type: "boolean" },
    contains: { $ref: "#" },
    maxProperties: { $ref: "#/definitions/nonNegativeInteger" },
    minProperties: { $ref: "#/definitions/nonNegativeIntegerDefault0" },
    required: { $ref: "#/definitions/stringArray" },
    additionalProperties: { $ref: "#" },
    definitions: { type: "object", additionalProperties: { $ref: "#" } },
    properties: { type: "object", additionalProperties: { $ref: "#" } },
    patternProperties: { type: "object", additionalProperties: { $ref: "#" }, propertyNames: { format: "regex" } },
    dependencies: { type: "object", additionalProperties: { anyOf: [{ $ref: "#" }, { $ref: "#/definitions/stringArray" }] } },
    propertyNames: { $ref: "#" },
    const: true,
    enum: { type: "array", items: true },
    type: {
      anyOf: [{ $ref: "#/definitions/simpleTypes" }, { type: "array", items: { $ref: "#/definitions/simpleTypes" }, minItems: 1, uniqueItems: true }],
    },
    format: { type: "string" },
    contentMediaType: { type: "string" },
    contentEncoding: { type: "string" },
    if: { $ref: "#" },
    then: { $ref: "#" },
    else: { $ref: "#" },
    allOf: { $ref: "#/definitions/schemaArray" },
    anyOf: { $ref: "#/definitions/schemaArray" },
    oneOf: { $ref: "#/definitions/schemaArray" },
    not: { $ref: "#" },
  },
};

/** The 2020-12 vocabularies (core, applicator, unevaluated, validation, meta-data, format-annotation, content) in one document. */
const DRAFT_2020_12_META: Schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://json-schema.org/draft/2020-12/schema",
  $defs: {
    schemaArray: { type: "array", minItems: 1, items: { $ref: "#" } },
    nonNegativeInteger: { type: "integer", minimum: 0 },
    nonNegativeIntegerDefault0: { $ref: "#/$defs/nonNegativeInteger", default: 0 },
    simpleTypes: SIMPLE_TYPES,
    stringArray: STRING_ARRAY,
    anchorString: { type: "string", pattern: "^[A-Za-z_][-A-Za-z0-9._]*$" },
    uriString: { type: "string", format: "uri" },
    uriReferenceString: { type: "string", format: "uri-reference" },
    schemaMap: { type: "object", additionalProperties: { $ref: "#" } },
  },
  type: ["object", "boolean"],
  properties: {
    $id: { $ref: "#/$defs/uriReferenceString", pattern: "^[^#]*#?$" },
    $schema: { $ref: "#/$defs/uriString" },
    $ref: { $ref: "#/$defs/uriReferenceString" },
    $anchor: { $ref: "#/$defs/anchorString" },
    $dynamicRef: { $ref: "#/$defs/uriReferenceString" },
    $dynamicAnchor: { $ref: "#/$defs/anchorString" },
    $vocabulary: { type: "object", propertyNames: { $ref: "#/$defs/uriString" }, additionalProperties: { type: "boolean" } },
    $comment: { type: "string" },
    $defs: { $ref: "#/$defs/schemaMap" },
    prefixItems: { $ref: "#/$defs/schemaArray" },
    items: { $ref: "#" },
    contains: { $ref: "#" },
    additionalProperties: { $ref: "#" },
    properties: { $ref: "#/$defs/schemaMap" },
    patternProperties: { $ref: "#/$defs/schemaMap", propertyNames: { format: "regex" } },
    dependentSchemas: { $ref: "#/$defs/schemaMap" },
    propertyNames: { $ref: "#" },
    if: { $ref: "#" },
    then: { $ref: "#" },
    else: { $ref: "#" },
    allOf: { $ref: "#/$defs/schemaArray" },
    anyOf: { $ref: "#/$defs/schemaArray" },
    oneOf: { $ref: "#/$defs/schemaArray" },
    not: { $ref: "#" },
    unevaluatedItems: { $ref: "#" },
    unevaluatedProperties: { $ref: "#" },
    type: {
      anyOf: [{ $ref: "#/$defs/simpleTypes" }, { type: "array", items: { $ref: "#/$defs/simpleTypes" }, minItems: 1, uniqueItems: true }],
    },
    const: true,
    enum: { type: "array", items: true },
    multipleOf: { type: "number", exclusiveMinimum: 0 },
    maximum: { type: "number" },
    exclusiveMaximum: { type: "number" },
    minimum: { type: "number" },
    exclusiveMinimum: { type: "number" },
    maxLength: { $ref: "#/$defs/nonNegativeInteger" },
    minLength: { $ref: "#/$defs/nonNegativeIntegerDefault0" },
    pattern: { type: "string", format: "regex" },
    maxItems: { $ref: "#/$defs/nonNegativeInteger" },
    minItems: { $ref: "#/$defs/nonNegativeIntegerDefault0" },
    uniqueItems: { type: "boolean" },
    maxContains: { $ref: "#/$defs/nonNegativeInteger" },
    minContains: { $ref: "#/$defs/nonNegativeInteger" },
    maxProperties: { $ref: "#/$defs/nonNegativeInteger" },
    minProperties: { $ref: "#/$defs/nonNegativeIntegerDefault0" },
    required: { $ref: "#/$defs/stringArray" },
    dependentRequired: { type: "object", additionalProperties: { $ref: "#/$defs/stringArray" } },
    title: { type: "string" },
    description: { type: "string" },
    default: true,
    deprecated: { type: "boolean" },
    readOnly: { type: "boolean" },
    writeOnly: { type: "boolean" },
    examples: { type: "array", items: true },
    format: { type: "string" },
    contentEncoding: { type: "string" },
    contentMediaType: { type: "string" },
    contentSchema: { $ref: "#" },
    definitions: { $ref: "#/$defs/schemaMap" },
    dependencies: { type: "object", additionalProperties: { anyOf: [{ $ref: "#" }, { $ref: "#/$defs/stringArray" }] } },
    $recursiveAnchor: { type: "boolean" },
    $recursiveRef: { $ref: "#/$defs/uriReferenceString" },
  },
};

const metaValidators = new Map<SchemaDraft, Validator>();

function metaValidator(draft: SchemaDraft): Validator {
  let v = metaValidators.get(draft);
  if (!v) {
    v = new Validator(draft === "7" ? DRAFT_07_META : DRAFT_2020_12_META, draft, false);
    metaValidators.set(draft, v);
  }
  return v;
}

// --- walking subschemas ---------------------------------------------------------------------

function encodeSegment(s: string): string {
  return s.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** The subschemas of a schema object, as [pointer segment(s), subschema], in the keywords the library evaluates. */
function subschemas(node: Json): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [key, sub] of Object.entries(node)) {
    const at = encodeSegment(key);
    if (Array.isArray(sub)) {
      if (schemaArrayKeyword[key]) sub.forEach((s, i) => out.push([`${at}/${i}`, s]));
    } else if (schemaMapKeyword[key] || key === "dependencies") {
      if (isObject(sub)) for (const [name, s] of Object.entries(sub)) out.push([`${at}/${encodeSegment(name)}`, s]);
    } else if (schemaKeyword[key] || key === "contentSchema") out.push([at, sub]);
  }
  return out;
}

/** Calls `visit` on every subschema, children before parents; stops descending past maxDepth + 1. */
function walkSchemas(node: unknown, pointer: string, depth: number, visit: (node: Json, pointer: string, depth: number) => void): void {
  if (!isObject(node)) return;
  if (depth <= SCHEMA_LIMITS.maxDepth) {
    for (const [at, sub] of subschemas(node)) walkSchemas(sub, `${pointer}/${at}`, depth + 1, visit);
  }
  visit(node, pointer, depth);
}

interface Findings {
  problem: string | null;
  tooDeep: boolean;
  usesPatternProperties: boolean;
  usesPattern: boolean;
}

function inspect(schema: unknown): Findings {
  const found: Findings = { problem: null, tooDeep: false, usesPatternProperties: false, usesPattern: false };
  const note = (message: string) => {
    found.problem ??= message;
  };
  walkSchemas(schema, "", 0, (node, pointer, depth) => {
    if (depth > SCHEMA_LIMITS.maxDepth) found.tooDeep = true;
    const at = pointer === "" ? "the root" : pointer;
    if (typeof node.pattern === "string") {
      found.usesPattern = true;
      const verdict = checkRegex(node.pattern, "u");
      if (!verdict.ok) note(`pattern at ${at}: ${verdict.message}`);
    }
    if (isObject(node.patternProperties)) {
      found.usesPatternProperties = true;
      for (const key of Object.keys(node.patternProperties)) {
        const verdict = checkRegex(key, "u");
        if (!verdict.ok) note(`patternProperties at ${at}: ${verdict.message}`);
      }
    }
    if (node.format === "url") note(`format "url" at ${at} is not supported (its validator backtracks catastrophically); use "uri"`);
    if ("$dynamicRef" in node || "$dynamicAnchor" in node) note(`$dynamicRef/$dynamicAnchor at ${at} are not supported`);
    if (Array.isArray(node.required) && node.required.length > SCHEMA_LIMITS.maxRequired) {
      note(`required at ${at} lists more than ${SCHEMA_LIMITS.maxRequired} properties`);
    }
  });
  return found;
}

/** Local $refs must resolve, and expanding them must stay small (no "billion laughs" via $defs). */
function checkRefs(root: Schema, lookup: Record<string, Schema | boolean>): string | null {
  const memo = new Map<object, number>();
  const onStack = new Set<object>();
  let unresolved: string | null = null;
  const limit = SCHEMA_LIMITS.maxExpandedSubschemas;
  const size = (node: unknown): number => {
    if (!isObject(node)) return 1;
    const known = memo.get(node);
    if (known !== undefined) return known;
    if (onStack.has(node)) return 1;
    onStack.add(node);
    let total = 1;
    for (const [, kid] of subschemas(node)) {
      total += size(kid);
      if (total > limit) break;
    }
    if (typeof node.$ref === "string" && total <= limit) {
      const abs = (node as { __absolute_ref__?: string }).__absolute_ref__ ?? node.$ref;
      const target = lookup[abs];
      if (target === undefined) unresolved ??= node.$ref;
      else total += size(target);
    }
    onStack.delete(node);
    memo.set(node, total);
    return total;
  };
  const total = size(root);
  if (unresolved !== null) return `unresolved $ref "${unresolved}" (only references inside the schema are supported)`;
  if (total > limit) return `schema expands to more than ${limit} subschemas through $ref`;
  return null;
}

// --- checkSchema ----------------------------------------------------------------------------

/**
 * The library reports wrappers ("Property "a" does not match schema.") next to their causes; keep
 * the causes. An `if` wrapper's causes sit under its sibling then/else, and a `false` schema's
 * "False boolean schema." says less than its parent (e.g. additionalProperties), so it gives way.
 */
function leafErrors(errors: readonly OutputUnit[]): OutputUnit[] {
  const useful = errors.filter((e) => e.keyword !== "false");
  const leaves = useful.filter((e) => {
    const base = e.keyword === "if" ? e.keywordLocation.slice(0, -"/if".length) : e.keywordLocation;
    return !useful.some((f) => f !== e && f.keywordLocation.startsWith(`${base}/`));
  });
  return leaves.length ? leaves : errors.slice(0, 1);
}

function pointerOf(location: string): string {
  return location.startsWith("#") ? location.slice(1) : location;
}

type Compiled =
  | { ok: true; draft: SchemaDraft; quick: Validator; full: Validator; guarded: Json | boolean; usesPatternProperties: boolean; usesPattern: boolean }
  | { ok: false; message: string };

function compile(schema: unknown, text: string): Compiled {
  if (typeof schema === "boolean") {
    return { ok: true, draft: "2020-12", quick: new Validator(schema, "2020-12", true), full: new Validator(schema, "2020-12", false), guarded: schema, usesPatternProperties: false, usesPattern: false };
  }
  if (!isObject(schema)) return { ok: false, message: "a schema must be a JSON object (or a boolean)" };
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > SCHEMA_LIMITS.maxBytes) return { ok: false, message: `schema is ${bytes} bytes; the limit is ${SCHEMA_LIMITS.maxBytes / 1024} KB` };
  let draft: SchemaDraft = "2020-12";
  if (schema.$schema !== undefined) {
    const known = typeof schema.$schema === "string" ? DRAFTS[schema.$schema] : undefined;
    if (!known) {
      return { ok: false, message: `unsupported $schema ${JSON.stringify(schema.$schema)}: use "https://json-schema.org/draft/2020-12/schema" or "http://json-schema.org/draft-07/schema#"` };
    }
    draft = known;
  }
  const findings = inspect(schema);
  if (findings.tooDeep) return { ok: false, message: `schema nests deeper than ${SCHEMA_LIMITS.maxDepth} levels` };
  const meta = metaValidator(draft).validate(schema);
  if (!meta.valid) {
    const detail = leafErrors(meta.errors)
      .slice(0, 3)
      .map((e) => `${pointerOf(e.instanceLocation) || "/"}: ${e.error}`)
      .join("; ");
    return { ok: false, message: `schema is not a valid draft ${draft === "7" ? "07" : draft} schema: ${detail}` };
  }
  if (findings.problem) return { ok: false, message: findings.problem };
  try {
    const probe = JSON.parse(text) as Schema;
    const refProblem = checkRefs(probe, dereference(probe));
    if (refProblem) return { ok: false, message: refProblem };
    const guarded = JSON.parse(text) as Json;
    addGuards(guarded);
    const quick = new Validator(guarded as Schema, draft, true);
    const full = new Validator(guarded as Schema, draft, false);
    return { ok: true, draft, quick, full, guarded, usesPatternProperties: findings.usesPatternProperties, usesPattern: findings.usesPattern };
  } catch (e) {
    return { ok: false, message: `schema could not be loaded: ${e instanceof Error ? e.message.split("\n")[0] : "unknown error"}` };
  }
}

/**
 * Moves `pattern` and `uniqueItems` behind an if/then on the input size, so an oversized string
 * or array fails on maxLength/maxItems instead of reaching the regex or the quadratic check.
 */
function addGuards(schema: Json): void {
  walkSchemas(schema, "", 0, (node) => {
    const guards: Json[] = [];
    if (typeof node.pattern === "string") {
      const L = SCHEMA_LIMITS.maxPatternInput;
      guards.push({ if: { maxLength: L }, then: { pattern: node.pattern }, else: { $comment: GUARD, maxLength: L } });
      delete node.pattern;
    }
    if (node.uniqueItems === true) {
      const U = SCHEMA_LIMITS.maxUniqueItems;
      guards.push({ if: { maxItems: U }, then: { uniqueItems: true }, else: { $comment: GUARD, maxItems: U } });
      delete node.uniqueItems;
    }
    if (guards.length) node.allOf = Array.isArray(node.allOf) ? [...(node.allOf as unknown[]), ...guards] : guards;
  });
}

/** Create/update check. A schema that passes here compiles in validatePayload. */
export function checkSchema(schema: unknown): SchemaCheck {
  const entry = compiledFor(schema);
  return entry.ok ? { ok: true, draft: entry.draft } : { ok: false, message: entry.message };
}

// --- validatePayload ------------------------------------------------------------------------

const byObject = new WeakMap<object, Compiled>();
const byText = new Map<string, Compiled>();

function compiledFor(schema: unknown): Compiled {
  const key = typeof schema === "object" && schema !== null ? schema : null;
  const known = key ? byObject.get(key) : undefined;
  if (known) return known;
  let text: string;
  try {
    text = JSON.stringify(schema) ?? "null";
  } catch {
    return { ok: false, message: "a schema must be JSON" };
  }
  let entry = byText.get(text);
  if (entry) {
    byText.delete(text);
  } else {
    try {
      entry = compile(schema, text);
    } catch (e) {
      entry = { ok: false, message: e instanceof RangeError ? "schema is nested too deeply" : "schema could not be loaded" };
    }
  }
  byText.set(text, entry);
  if (byText.size > SCHEMA_LIMITS.cacheSize) {
    const oldest = byText.keys().next();
    if (!oldest.done) byText.delete(oldest.value);
  }
  if (key) byObject.set(key, entry);
  return entry;
}

function nodeAt(root: unknown, location: string): unknown {
  let cur = root;
  for (const raw of pointerOf(location).split("/").slice(1)) {
    let seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    try {
      seg = decodeURIComponent(seg);
    } catch {
      // keep the raw segment
    }
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

function describeError(e: OutputUnit, guarded: Json | boolean): SchemaError {
  const path = pointerOf(e.instanceLocation);
  if (e.keyword === "maxLength" || e.keyword === "maxItems") {
    const parent = nodeAt(guarded, e.keywordLocation.slice(0, e.keywordLocation.lastIndexOf("/")));
    if (isObject(parent) && parent.$comment === GUARD) {
      return e.keyword === "maxLength"
        ? { path, message: `string longer than ${SCHEMA_LIMITS.maxPatternInput} characters is not checked against a pattern` }
        : { path, message: `array longer than ${SCHEMA_LIMITS.maxUniqueItems} items is not checked for uniqueItems` };
    }
  }
  return { path, message: e.error };
}

/** Worst-case regex cost of a payload's strings: Σ length² / 10 000 (a 7 000-character string ≈ 4 900). */
export function regexWork(value: unknown, budget: { nodes: number }): number {
  if (--budget.nodes < 0) return Number.POSITIVE_INFINITY;
  if (typeof value === "string") return (value.length * value.length) / 10_000;
  let total = 0;
  if (Array.isArray(value)) for (const item of value) total += regexWork(item, budget);
  else if (isObject(value)) for (const item of Object.values(value)) total += regexWork(item, budget);
  return total;
}

function longPropertyName(value: unknown, path: string, budget: { nodes: number }): SchemaError | null {
  if (--budget.nodes < 0) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = longPropertyName(value[i], `${path}/${i}`, budget);
      if (found) return found;
    }
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key.length > SCHEMA_LIMITS.maxPatternPropertyName) {
        return { path, message: `property name longer than ${SCHEMA_LIMITS.maxPatternPropertyName} characters is not checked against patternProperties` };
      }
      const found = longPropertyName(item, `${path}/${encodeSegment(key)}`, budget);
      if (found) return found;
    }
  }
  return null;
}

function countNodes(value: unknown, limit: number): number {
  let n = 0;
  const stack = [value];
  while (stack.length && n <= limit) {
    const v = stack.pop();
    n++;
    if (Array.isArray(v)) stack.push(...v);
    else if (isObject(v)) stack.push(...Object.values(v));
  }
  return n;
}

/** Validates against a schema (checked or not: an invalid schema yields one error at ""). */
export function validatePayload(schema: unknown, value: unknown): ValidationResult {
  const entry = compiledFor(schema);
  if (!entry.ok) return { valid: false, errors: [{ path: "", message: `schema rejected: ${entry.message}` }] };
  if (entry.usesPatternProperties) {
    const long = longPropertyName(value, "", { nodes: 1_000_000 });
    if (long) return { valid: false, errors: [long] };
  }
  // A pattern that passes checkRegex can still be quadratic in its input, and the sender
  // chooses the payload: bound the regex work of one validation, not only each string.
  if (entry.usesPattern && regexWork(value, { nodes: 1_000_000 }) > SCHEMA_LIMITS.maxPatternWork) {
    return { valid: false, errors: [{ path: "", message: `payload has too much text to check against the schema's patterns (limit ${SCHEMA_LIMITS.maxPatternWork} units of length²/10 000)` }] };
  }
  try {
    const quick = entry.quick.validate(value);
    if (quick.valid) return { valid: true };
    const full = countNodes(value, SCHEMA_LIMITS.fullReportNodes) <= SCHEMA_LIMITS.fullReportNodes ? entry.full.validate(value) : quick;
    const errors = leafErrors(full.errors.slice(0, 500))
      .slice(0, SCHEMA_LIMITS.maxErrors)
      .map((e) => describeError(e, entry.guarded));
    return { valid: false, errors };
  } catch (e) {
    if (e instanceof RangeError) return { valid: false, errors: [{ path: "", message: "payload is nested too deeply to validate" }] };
    return { valid: false, errors: [{ path: "", message: `payload could not be validated: ${e instanceof Error ? e.message.split("\n")[0] : "unknown error"}` }] };
  }
}
