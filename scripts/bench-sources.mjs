#!/usr/bin/env node
// `npm run bench`, second part (issue 5): what source verification and dedup cost at ingest.
//
// Per round, three sources on the same gateway, under the same closed-loop load, in rotating
// order:
//   plain      no verification, no dedup (the spine's plain case)
//   verify     Standard Webhooks verification (HMAC-SHA256, timestamp tolerance)
//   verify+dedup   the same plus dedup on webhook-id (a claim row in the event's D1 batch)
// Every case sends the very same pre-signed requests (a fresh set of unique webhook-ids per
// run, signed in Node before the run), so the load generator does identical work in all three;
// the plain source just does not check them. Results are ratios to the plain case of the same
// round, median over rounds; every accepted event is awaited at the receiver (nothing lost).
// Written to docs/benchmarks.md between the bench:sources markers.
//
// Uses bench.mjs's runtime, receiver and accounting. Needs wrk (bench.mjs installs it when root).
// Knobs: BENCH_DURATION=10 BENCH_CONNECTIONS=50 BENCH_ROUNDS=2 BENCH_WRITE_DOCS=1

import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import {
  CFG, cleanup, drain, ensureWrk, fmtMs, fmtN, jsonBody, log, median, onCleanup, othersShare, cpuSnapshot, prepareGateway,
  processCpuMs, REPO_ROOT, BUNDLE, startReceiver,
} from "./bench.mjs";

const DOCS_FILE = path.join(REPO_ROOT, "docs", "benchmarks.md");
const START = "<!-- bench:sources:start (written by `npm run bench`; edit outside these markers) -->";
const END = "<!-- bench:sources:end -->";
/** Pre-signed requests per run: more than a run can send at the rates seen here, so every id is new. */
const REQUESTS_PER_RUN = 60_000;
const SECRET = `whsec_${randomBytes(24).toString("base64")}`;
const fmtRatio = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(0)} %`);

function signedRequests(file, body, n) {
  const key = Buffer.from(SECRET.slice("whsec_".length), "base64");
  const ts = String(Math.floor(Date.now() / 1000));
  const run = randomBytes(6).toString("hex");
  const lines = [];
  for (let i = 0; i < n; i++) {
    const id = `msg_${run}_${i}`;
    lines.push(`${id} ${ts} v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`);
  }
  return fsp.writeFile(file, `${lines.join("\n")}\n`);
}

function wrkScript(bodyFile, requestsFile) {
  return `local f = assert(io.open(${JSON.stringify(bodyFile)}, "rb"))
local body = f:read("*a")
f:close()
local reqs = {}
-- built in init: wrk sets the Host header only after the script is loaded
init = function(args)
  for line in io.lines(${JSON.stringify(requestsFile)}) do
    local id, ts, sig = line:match("^(%S+) (%S+) (%S+)$")
    reqs[#reqs + 1] = wrk.format("POST", nil, { ["content-type"] = "application/json", ["webhook-id"] = id, ["webhook-timestamp"] = ts, ["webhook-signature"] = sig }, body)
  end
end
local i = 0
request = function()
  i = i + 1
  return reqs[((i - 1) % #reqs) + 1]
end
local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(s, latency, requests)
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"status_errors":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    s.requests, s.duration, s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

function runWrk(script, url, pid) {
  const before = cpuSnapshot();
  const cpu0 = processCpuMs(pid);
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", ["-t", "1", "-c", String(CFG.connections), "-d", `${CFG.durationS}s`, "--timeout", "10s", "-s", script, url], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), (CFG.durationS + 60) * 1000);
    child.on("error", reject);
    child.on("exit", () => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
      if (!line) return reject(new Error(`wrk produced no result:\n${out}`));
      const j = JSON.parse(line.slice("BENCH_JSON ".length));
      const seconds = j.duration_us / 1e6;
      const cpu1 = processCpuMs(pid);
      resolve({
        requests: j.requests,
        ok: j.requests - j.status_errors,
        non2xx: j.status_errors,
        errors: j.errors,
        rps: (j.requests - j.status_errors) / seconds,
        p50: j.p50_us / 1000,
        p99: j.p99_us / 1000,
        cpuPerRequest: cpu0 !== null && cpu1 !== null && j.requests ? (cpu1 - cpu0) / j.requests : null,
        othersCpu: othersShare(before, cpuSnapshot()),
      });
    });
  });
}

const CASES = [
  { key: "plain", label: "plain (no verification, no dedup)", source: {} },
  { key: "verify", label: "Standard Webhooks verification", source: { verification: { type: "standard_webhooks", secret: SECRET } } },
  { key: "verifyDedup", label: "verification + dedup (webhook-id)", source: { verification: { type: "standard_webhooks", secret: SECRET }, dedup: { window_seconds: 600 } } },
];

async function main() {
  if (!(await ensureWrk())) throw new Error("bench-sources needs wrk");
  if (!fs.existsSync(BUNDLE) || process.env.BENCH_BUILD !== "0") {
    const r = spawnSync(process.execPath, ["build.mjs"], { cwd: path.join(REPO_ROOT, "worker"), encoding: "utf8" });
    if (r.status !== 0) throw new Error(`worker/build.mjs failed:\n${r.stdout}${r.stderr}`);
  }
  const { Miniflare } = await import("miniflare");
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "hookstream-bench-sources-"));
  onCleanup(() => fsp.rm(dir, { recursive: true, force: true }));
  process.env.TMPDIR = dir;
  const body = jsonBody(CFG.bodyBytes, { seq: 0 });
  const bodyFile = path.join(dir, "body.json");
  await fsp.writeFile(bodyFile, body);

  const receiver = await startReceiver();
  onCleanup(() => receiver.close());
  const gw = await prepareGateway(Miniflare, { name: "hookstream", scriptPath: BUNDLE, persistDir: path.join(dir, "state"), encryptionKey: randomBytes(32).toString("base64"), logs: [] });
  const dst = await gw.destination("receiver", receiver.url);
  const problems = [];

  const runCase = async (c, label, durationS = CFG.durationS) => {
    const src = await gw.api("POST", "/v1/sources", { name: `${c.key}-${randomBytes(3).toString("hex")}`, ...c.source });
    await gw.api("POST", "/v1/connections", { source_id: src.id, destination_id: dst });
    const requestsFile = path.join(dir, `requests-${c.key}.txt`);
    await signedRequests(requestsFile, body, REQUESTS_PER_RUN);
    const script = path.join(dir, `wrk-${c.key}.lua`);
    await fsp.writeFile(script, wrkScript(bodyFile, requestsFile));
    const saved = CFG.durationS;
    CFG.durationS = durationS;
    const load = await runWrk(script, `${gw.url}/v1/ingest/${src.id}`, gw.pid).finally(() => (CFG.durationS = saved));
    const d = await drain(gw, receiver, src.id);
    if (d.missing.length) problems.push(`LOST EVENTS: ${label}: ${d.missing.length} accepted events never reached the receiver`);
    if (load.non2xx || load.errors) problems.push(`${label}: ${load.non2xx} non-2xx answers, ${load.errors} socket errors`);
    if (load.requests > REQUESTS_PER_RUN) problems.push(`${label}: more requests than pre-signed ids; later ones were duplicates`);
    log(`${label}: ${fmtN(load.rps)} req/s, ack p50 ${fmtMs(load.p50)} p99 ${fmtMs(load.p99)}, ${load.cpuPerRequest?.toFixed(3) ?? "–"} ms workerd CPU/request; accepted ${d.accepted.length}, missing ${d.missing.length}`);
    return { ...load, accepted: d.accepted.length, missing: d.missing.length };
  };

  log(`warmup ${CFG.warmupS} s per case …`);
  for (const c of CASES) await runCase(c, `warmup ${c.key}`, Math.max(1, CFG.warmupS));

  const rounds = [];
  for (let i = 0; i < CFG.rounds; i++) {
    const order = CASES.map((_, k) => CASES[(k + i) % CASES.length]);
    const r = { order: order.map((c) => c.key).join(" → ") };
    for (const c of order) r[c.key] = await runCase(c, `round ${i + 1} ${c.key}`);
    rounds.push(r);
    log(`round ${i + 1}: verify ${fmtRatio(r.verify.rps / r.plain.rps)}, verify+dedup ${fmtRatio(r.verifyDedup.rps / r.plain.rps)} of plain`);
  }

  const ratio = (k) => median(rounds.map((r) => r[k].rps / r.plain.rps));
  const cpuRatio = (k) => median(rounds.map((r) => (r.plain.cpuPerRequest && r[k].cpuPerRequest ? r.plain.cpuPerRequest / r[k].cpuPerRequest : null)).filter((v) => v !== null));
  const rows = [];
  rounds.forEach((r, i) => {
    for (const c of CASES) {
      const x = r[c.key];
      rows.push(`| ${i + 1} | ${c.label} | ${fmtN(x.rps)} | ${fmtMs(x.p50)} | ${fmtMs(x.p99)} | ${x.cpuPerRequest?.toFixed(3) ?? "–"} ms | ${c.key === "plain" ? "—" : fmtRatio(x.rps / r.plain.rps)} | ${x.accepted} / ${x.missing} | ${fmtRatio(x.othersCpu)} |`);
    }
  });
  const verdict = (v) => (v >= 0.8 ? "met" : "NOT met");
  const section = [
    `## Source verification and dedup (issue 5)`,
    ``,
    `Run ${new Date().toISOString().replace(/\.\d+Z$/, "Z")} on ${os.availableParallelism?.() ?? os.cpus().length} CPUs, ${CFG.rounds} rounds × ${CFG.durationS} s per case, ${CFG.connections} connections, 1 KB JSON, wrk with pre-signed Standard Webhooks requests (unique webhook-id each) for all three cases. Method: header of scripts/bench-sources.mjs.`,
    ``,
    `| round | case | req/s (2xx) | ack p50 | ack p99 | workerd CPU / request | vs plain | accepted / lost | CPU of other processes |`,
    `|---|---|---|---|---|---|---|---|---|`,
    ...rows,
    ``,
    `- **Standard Webhooks verification: ${fmtRatio(ratio("verify"))} of the plain case** by throughput (median over rounds; by CPU per request ${fmtRatio(cpuRatio("verify"))}). Target ≥ 80 %: ${verdict(ratio("verify"))}.`,
    `- **Verification + dedup: ${fmtRatio(ratio("verifyDedup"))} of the plain case** (by CPU per request ${fmtRatio(cpuRatio("verifyDedup"))}). Target ≥ 80 %: ${verdict(ratio("verifyDedup"))}.`,
    problems.length ? `- Problems: ${problems.join("; ")}` : `- Every accepted event reached the receiver; no non-2xx answers.`,
    ``,
  ].join("\n");
  console.log(`\n${section}`);
  if (process.env.BENCH_WRITE_DOCS !== "0") {
    let text = await fsp.readFile(DOCS_FILE, "utf8").catch(() => "# Benchmarks\n");
    const block = `${START}\n${section}${END}`;
    const s = text.indexOf(START);
    const e = text.indexOf(END);
    text = s >= 0 && e > s ? `${text.slice(0, s)}${block}${text.slice(e + END.length)}` : `${text.trimEnd()}\n\n${block}\n`;
    await fsp.writeFile(DOCS_FILE, text);
    log(`wrote ${path.relative(REPO_ROOT, DOCS_FILE)}`);
  }
  if (problems.some((p) => p.startsWith("LOST"))) process.exitCode = 2;
}

try {
  await main();
} catch (err) {
  console.error(`[bench-sources] failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
