// Kafka through the Confluent REST Proxy: v2 `POST /topics/{topic}` (application/vnd.kafka.json.v2+json)
// or v3 `POST /v3/clusters/{cluster}/topics/{topic}/records`. A 200 can still carry a per-record error.
import { z } from "zod";
import { base64, basicAuth, bodyJson, endpointUrl, eventMetadata, field, parseJson, renderTemplate, sendAndJudge, statusVerdict, template, timeoutMs, tooLarge, type Verdict } from "./sink.js";
import type { DestinationProvider } from "./types.js";

/** Kafka's default max.message.bytes. */
export const KAFKA_MAX_BYTES = 1_048_576;

export const kafkaConfigSchema = z
  .strictObject({
    rest_url: endpointUrl,
    topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, "must be a Kafka topic name"),
    api_version: z.enum(["v2", "v3"]).default("v3"),
    /** Required for v3. */
    cluster_id: z.string().min(1).max(256).optional(),
    key_template: template(1024).default("{source_id}"),
    username: z.string().min(1).max(256).optional(),
    password: z.string().min(1).max(1024).optional(),
    timeout_ms: timeoutMs,
  })
  .refine((c) => c.api_version === "v2" || c.cluster_id !== undefined, { path: ["cluster_id"], message: "required for api_version v3" })
  .refine((c) => (c.username === undefined) === (c.password === undefined), { path: ["password"], message: "username and password go together" });
export type KafkaConfig = z.output<typeof kafkaConfigSchema>;

/** Confluent's documented codes: 50003 (retriable Kafka error) retries, 50002 (Kafka error) does not. */
export function kafkaErrorVerdict(code: number, message: string): Verdict {
  const error = `Kafka REST error ${code}${message ? `: ${message}` : ""}`;
  if (code === 50002) return { kind: "permanent", error };
  if (code === 50003) return { kind: "retryable", error };
  // Other codes are an HTTP status, or one followed by two digits (40401 = 404 + unknown topic).
  const kind = statusVerdict(code >= 10_000 ? Math.floor(code / 100) : code);
  return { kind: kind === "delivered" ? "permanent" : kind, error };
}

function judge(status: number, body: string, version: "v2" | "v3"): Verdict {
  const answer = parseJson(body);
  if (status !== 200) {
    const code = field(answer, "error_code");
    const message = String(field(answer, "message") ?? "");
    const kind = statusVerdict(status);
    const error = `Kafka REST ${status}${typeof code === "number" ? ` error ${code}` : ""}${message ? `: ${message}` : ""}`;
    return { kind: kind === "delivered" ? "permanent" : kind, error };
  }
  if (version === "v2") {
    const offsets = field(answer, "offsets");
    if (!Array.isArray(offsets)) return { kind: "retryable", error: "Kafka REST: answer has no offsets" };
    const failed = offsets.find((o) => field(o, "error_code") !== null && field(o, "error_code") !== undefined);
    if (failed === undefined) return { kind: "delivered" };
    return kafkaErrorVerdict(Number(field(failed, "error_code")), String(field(failed, "error") ?? ""));
  }
  const code = field(answer, "error_code");
  if (code === 200) return { kind: "delivered" };
  return kafkaErrorVerdict(Number(code), String(field(answer, "message") ?? ""));
}

export const kafkaDestination: DestinationProvider<KafkaConfig> = {
  type: "kafka",
  configSchema: kafkaConfigSchema,
  secretFields: ["password"],

  async deliver(payload, config, ctx) {
    if (payload.body.byteLength > KAFKA_MAX_BYTES - 4096) return tooLarge("kafka", payload.body.byteLength, KAFKA_MAX_BYTES - 4096);
    const key = renderTemplate(config.key_template, payload, ctx.now());
    const json = bodyJson(payload);
    const value = json === undefined ? new TextDecoder().decode(payload.body) : json;
    const base = config.rest_url.replace(/\/$/, "");
    const headers: Record<string, string> = {};
    if (config.username !== undefined && config.password !== undefined) headers.authorization = basicAuth(config.username, config.password);

    let url: string;
    let body: string;
    if (config.api_version === "v2") {
      url = `${base}/topics/${encodeURIComponent(config.topic)}`;
      headers["content-type"] = "application/vnd.kafka.json.v2+json";
      headers.accept = "application/vnd.kafka.v2+json, application/json";
      body = JSON.stringify({ records: [{ key, value }] });
    } else {
      url = `${base}/v3/clusters/${encodeURIComponent(config.cluster_id ?? "")}/topics/${encodeURIComponent(config.topic)}/records`;
      headers["content-type"] = "application/json";
      headers.accept = "application/json";
      const recordHeaders = Object.entries(eventMetadata(payload)).map(([name, v]) => ({ name, value: base64(new TextEncoder().encode(v)) }));
      body = JSON.stringify({
        headers: recordHeaders,
        key: { type: "STRING", data: key },
        value: json === undefined ? { type: "STRING", data: value } : { type: "JSON", data: value },
      });
    }
    return sendAndJudge(ctx, { url, method: "POST", headers, body, timeout_ms: config.timeout_ms }, (status, text) => judge(status, text, config.api_version));
  },
};
