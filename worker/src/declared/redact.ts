/**
 * Issue lines go to /healthz (unauthenticated) and the log. The checks' messages are static
 * and name fields, not values, but a future message quoting one must not leak a secret: every
 * value given in GATEWAY_SECRETS is replaced. Pure.
 */
/** Replaces every secret value given in GATEWAY_SECRETS that a message might quote. */
export function redactSecrets(lines: string[], secrets: unknown): string[] {
  let parsed: unknown = secrets;
  if (typeof secrets === "string") {
    try {
      parsed = JSON.parse(secrets);
    } catch {
      return lines;
    }
  }
  if (!parsed || typeof parsed !== "object") return lines;
  const values = Object.values(parsed as Record<string, unknown>)
    .flatMap((v) => (Array.isArray(v) ? v : [v]))
    .filter((v): v is string => typeof v === "string" && v.length >= 4)
    .sort((a, b) => b.length - a.length);
  return lines.map((line) => values.reduce((l, v) => l.split(v).join("[secret]"), line));
}
