// RabbitMQ through the management plugin's HTTP API: POST /api/exchanges/{vhost}/{exchange}/publish.
// `{"routed": false}` (no queue bound for the routing key) is a failed, retryable delivery.
import { z } from "zod";
import { base64, basicAuth, endpointUrl, eventMetadata, field, parseJson, renderTemplate, sendAndJudge, statusVerdict, template, timeoutMs, tooLarge } from "./sink.js";
import type { DestinationProvider } from "./types.js";

export const RABBITMQ_MAX_BYTES = 10_485_760;

export const rabbitmqConfigSchema = z.strictObject({
  /** The management API base, e.g. https://rabbit.example.com:15671 */
  management_url: endpointUrl,
  vhost: z.string().min(1).max(255).default("/"),
  /** `amq.default` is the default (direct-to-queue) exchange. */
  exchange: z.string().min(1).max(255).default("amq.default"),
  routing_key_template: template(255).default("{event_type}"),
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
  timeout_ms: timeoutMs,
});
export type RabbitmqConfig = z.output<typeof rabbitmqConfigSchema>;

export const rabbitmqDestination: DestinationProvider<RabbitmqConfig> = {
  type: "rabbitmq",
  configSchema: rabbitmqConfigSchema,
  secretFields: ["password"],

  async deliver(payload, config, ctx) {
    if (payload.body.byteLength > RABBITMQ_MAX_BYTES) return tooLarge("rabbitmq", payload.body.byteLength, RABBITMQ_MAX_BYTES);
    const routingKey = renderTemplate(config.routing_key_template, payload, ctx.now());
    const base = config.management_url.replace(/\/$/, "");
    return sendAndJudge(
      ctx,
      {
        url: `${base}/api/exchanges/${encodeURIComponent(config.vhost)}/${encodeURIComponent(config.exchange)}/publish`,
        method: "POST",
        headers: { "content-type": "application/json", authorization: basicAuth(config.username, config.password) },
        body: JSON.stringify({
          properties: {
            delivery_mode: 2,
            content_type: payload.content_type ?? "application/json",
            message_id: payload.event_id,
            headers: eventMetadata(payload),
          },
          routing_key: routingKey,
          payload: base64(payload.body),
          payload_encoding: "base64",
        }),
        timeout_ms: config.timeout_ms,
      },
      (status, body) => {
        const answer = parseJson(body);
        if (status === 200 || status === 201) {
          if (field(answer, "routed") === true) return { kind: "delivered" };
          return { kind: "retryable", error: `RabbitMQ did not route the message (no queue bound to exchange "${config.exchange}" for routing key "${routingKey}")` };
        }
        const reason = field(answer, "reason") ?? field(answer, "error");
        const error = `RabbitMQ ${status}${typeof reason === "string" ? `: ${reason}` : ""}`;
        const kind = statusVerdict(status);
        return { kind: kind === "delivered" ? "permanent" : kind, error };
      },
    );
  },
};
