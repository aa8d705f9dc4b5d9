// SigV4 signing (aws4fetch) for the AWS sinks; the signed request still goes out through the one outbound door.
import { AwsClient } from "aws4fetch";
import { z } from "zod";
import type { DeliveryResult } from "../../delivery/result.js";
import type { DeliverContext } from "./types.js";
import { endpointUrl, field, parseJson, sendAndJudge, statusVerdict, timeoutMs, type Verdict } from "./sink.js";

export const AWS_SECRET_FIELDS = ["secret_access_key", "session_token"] as const;

export const awsCredentialFields = {
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "must be an AWS region such as us-east-1").default("us-east-1"),
  access_key_id: z.string().min(16).max(128).regex(/^[A-Z0-9]+$/, "must be an AWS access key id"),
  secret_access_key: z.string().min(16).max(128),
  session_token: z.string().max(4096).optional(),
  /** Overrides the regional AWS endpoint (LocalStack, moto, VPC endpoints). */
  endpoint: endpointUrl.optional(),
  timeout_ms: timeoutMs,
};

export interface AwsCredentials {
  region: string;
  access_key_id: string;
  secret_access_key: string;
  session_token?: string | undefined;
  timeout_ms: number;
}

export async function sendSigned(
  ctx: DeliverContext,
  config: AwsCredentials,
  service: string,
  request: { url: string; method: string; headers: Record<string, string>; body: string | Uint8Array },
  judge: (status: number, body: string, headers: Headers) => Verdict,
): Promise<DeliveryResult> {
  const client = new AwsClient({
    accessKeyId: config.access_key_id,
    secretAccessKey: config.secret_access_key,
    ...(config.session_token === undefined ? {} : { sessionToken: config.session_token }),
    service,
    region: config.region,
    retries: 0,
  });
  const signed = await client.sign(request.url, { method: request.method, headers: request.headers, body: request.body });
  const headers: Record<string, string> = {};
  signed.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return sendAndJudge(ctx, { url: signed.url, method: request.method, headers, body: request.body, timeout_ms: config.timeout_ms }, judge);
}

/** Code and message of an AWS error answer (JSON protocol `__type`/`message`, or XML `<Code>`/`<Message>`). */
export function awsError(body: string, headers: Headers): { code: string; message: string } {
  const json = parseJson(body);
  const type = field(json, "__type") ?? field(json, "code") ?? headers.get("x-amzn-errortype");
  if (typeof type === "string") {
    const message = field(json, "message") ?? field(json, "Message");
    return { code: type.split("#").pop()?.split(":")[0] ?? type, message: typeof message === "string" ? message : "" };
  }
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return { code: code ?? "", message: message ?? "" };
}

const RETRYABLE_CODES = new Set([
  "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestThrottledException", "TooManyRequestsException",
  "ServiceUnavailable", "InternalFailure", "InternalError", "SlowDown", "RequestTimeout", "RequestTimeoutException",
  // Credential problems: retried so a fixed or rotated key is picked up before the DLQ.
  "SignatureDoesNotMatch", "InvalidClientTokenId", "UnrecognizedClientException", "AccessDenied", "AccessDeniedException",
  "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "KMS.ThrottlingException",
]);

/** Judges a non-2xx AWS answer. */
export function awsVerdict(service: string, status: number, body: string, headers: Headers): Verdict {
  const { code, message } = awsError(body, headers);
  const error = `${service} ${status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}`;
  const kind = RETRYABLE_CODES.has(code) ? "retryable" : statusVerdict(status);
  return kind === "delivered" ? { kind: "permanent", error } : { kind, error };
}
