// A contract fake of the Confluent REST Proxy (no proxy can be installed here). It follows the documented
// behaviour: v2 `POST /topics/{topic}` with `application/vnd.kafka.json.v2+json` answering
// `{key_schema_id, value_schema_id, offsets: [{partition, offset, error_code, error}]}`, and v3
// `POST /v3/clusters/{cluster}/topics/{topic}/records` answering `{error_code: 200, cluster_id, topic_name,
// partition_id, offset, timestamp, key, value}`; errors as `{error_code, message}` (40101 unauthorized,
// 40401 unknown topic, 40403 unknown cluster, 41501/40601 content type). Topics named `fail-retriable*`
// answer a per-record 50003 inside a 200, `fail-kafka*` a 50002, `slow*` never answer.
// Test-only inspection: GET /_fake/records?topic=t lists what was produced (with the auth it came with).
// Usage: node kafka-rest-fake.mjs <port> <username> <password>
import http from "node:http";

const [port, username, password] = process.argv.slice(2);
const CLUSTER = "hookstream-fake-cluster";
const records = [];

function send(res, status, body, type = "application/json") {
  res.writeHead(status, { "content-type": type }).end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString("utf8");
  const url = new URL(req.url, "http://fake");
  if (url.pathname === "/_fake/records") return send(res, 200, records.filter((r) => !url.searchParams.get("topic") || r.topic === url.searchParams.get("topic")));
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  if (req.headers.authorization !== expected) return send(res, 401, { error_code: 40101, message: "Unauthorized" });

  const v2 = /^\/topics\/([^/]+)$/.exec(url.pathname);
  const v3 = /^\/v3\/clusters\/([^/]+)\/topics\/([^/]+)\/records$/.exec(url.pathname);
  if (!(v2 || v3) || req.method !== "POST") return send(res, 404, { error_code: 404, message: "HTTP 404 Not Found" });
  const topic = decodeURIComponent((v2 ?? v3)[v2 ? 1 : 2]);
  if (v3 && decodeURIComponent(v3[1]) !== CLUSTER) return send(res, 404, { error_code: 40403, message: `Cluster ${v3[1]} cannot be found.` });
  if (topic.startsWith("slow")) return; // never answers
  if (topic.startsWith("missing")) {
    return v2 ? send(res, 404, { error_code: 40401, message: "Topic not found." }) : send(res, 404, { error_code: 40403, message: `Topic ${topic} cannot be found.` });
  }
  if (v2 && !(req.headers["content-type"] ?? "").startsWith("application/vnd.kafka.json.v2+json")) {
    return send(res, 415, { error_code: 415, message: "HTTP 415 Unsupported Media Type" });
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return send(res, 400, { error_code: 400, message: "Unexpected character: was expecting JSON" });
  }
  const failing = topic.startsWith("fail-retriable") ? 50003 : topic.startsWith("fail-kafka") ? 50002 : null;
  const errorText = failing === 50003 ? "This server is not the leader for that topic-partition." : failing === 50002 ? "Kafka error: RecordTooLargeException" : null;

  if (v2) {
    if (!Array.isArray(body.records)) return send(res, 422, { error_code: 42201, message: "records: must not be null" });
    const offsets = body.records.map((r) => {
      if (failing) return { partition: null, offset: null, error_code: failing, error: errorText };
      records.push({ api: "v2", topic, key: r.key ?? null, value: r.value, headers: {}, authorization: req.headers.authorization });
      return { partition: 0, offset: records.length - 1, error_code: null, error: null };
    });
    return send(res, 200, { key_schema_id: null, value_schema_id: null, offsets }, "application/vnd.kafka.v2+json");
  }
  if (failing) return send(res, 200, { error_code: failing, message: errorText });
  const headers = Object.fromEntries((body.headers ?? []).map((h) => [h.name, Buffer.from(h.value ?? "", "base64").toString("utf8")]));
  records.push({ api: "v3", topic, key: body.key?.data ?? null, value: body.value?.data, value_type: body.value?.type, headers, authorization: req.headers.authorization });
  return send(res, 200, {
    error_code: 200, cluster_id: CLUSTER, topic_name: topic, partition_id: 0, offset: records.length - 1,
    timestamp: new Date().toISOString(),
    key: body.key ? { type: body.key.type, size: JSON.stringify(body.key.data ?? "").length } : null,
    value: body.value ? { type: body.value.type, size: JSON.stringify(body.value.data ?? "").length } : null,
  });
});
server.listen(Number(port), "127.0.0.1", () => console.log(`kafka-rest-fake listening on ${port}`));
