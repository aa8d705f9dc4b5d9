import type { VerifyRequest } from "./types.js";

/** Where a template finds a value: a header, a dot path into a JSON body, or a form field. */
export type FieldRef = { header: string } | { json: string } | { form: string };

const MAX_FIELD_LENGTH = 512;

/** Lazily parsed views of one request body, shared by the verifier and the event-id/type extraction. */
export interface RequestView {
  req: VerifyRequest;
  text(): string;
  json(): unknown;
  form(): URLSearchParams | undefined;
}

const views = new WeakMap<VerifyRequest, RequestView>();

/** One view per request object, so a body is decoded and parsed at most once. */
export function viewOf(req: VerifyRequest): RequestView {
  const known = views.get(req);
  if (known) return known;
  let text: string | undefined;
  let json: { value: unknown } | undefined;
  let form: { value: URLSearchParams | undefined } | undefined;
  const view: RequestView = {
    req,
    text: () => (text ??= new TextDecoder().decode(req.body)),
    json() {
      if (!json) {
        try {
          json = { value: JSON.parse(view.text()) as unknown };
        } catch {
          json = { value: undefined };
        }
      }
      return json.value;
    },
    form() {
      form ??= { value: isForm(req) ? new URLSearchParams(view.text()) : undefined };
      return form.value;
    },
  };
  views.set(req, view);
  return view;
}

export function contentType(req: VerifyRequest): string {
  return (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

export function isForm(req: VerifyRequest): boolean {
  return contentType(req) === "application/x-www-form-urlencoded";
}

/** `a.b.c` into parsed JSON; keys may contain `-` (Mailgun's `event-data.id`). */
export function jsonPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function asFieldValue(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" || trimmed.length > MAX_FIELD_LENGTH ? undefined : trimmed;
}

export function readField(view: RequestView, ref: FieldRef): string | undefined {
  if ("header" in ref) return asFieldValue(view.req.headers[ref.header]);
  if ("json" in ref) return asFieldValue(jsonPath(view.json(), ref.json));
  return asFieldValue(view.form()?.get(ref.form) ?? undefined);
}

/** The first ref that yields a usable value. */
export function firstField(view: RequestView, refs: readonly FieldRef[]): string | undefined {
  for (const ref of refs) {
    const value = readField(view, ref);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** For listings: `header x-github-delivery`, `body.id`, `form token`. */
export function describeField(ref: FieldRef): string {
  if ("header" in ref) return `header ${ref.header}`;
  if ("json" in ref) return `body.${ref.json}`;
  return `form ${ref.form}`;
}
