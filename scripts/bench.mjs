#!/usr/bin/env node
// `npm run bench`: ingest throughput, end-to-end latency, delivery completeness and billable
// operations per event, on the leanest local path: the esbuild bundle in workerd through
// Miniflare's API (direct socket), a node:http receiver and a real load generator (wrk, or
// autocannon when wrk is missing), all on 127.0.0.1, every run bounded in time and count.
//
// Phases (see docs/benchmarks.md for the method and the latest results):
//   cost      a metered copy of the bundle counts Worker requests, D1 rows, DO requests and
//             SQLite rows, KV and R2 operations per event (1 KB bodies, then 20 KB via R2)
//   warmup    gateway and bare Worker, a few seconds each
//   e2e       probes at fixed rates (the first one moderate): ack and ingest → receiver latency
//   rounds    (a) gateway under load (+ probes), drained and checked for lost events,
//             (c) a bare Worker on the same runtime that only answers 202; ratio (a)/(c)
//   fan-out   (issue 4) per round: the plain case (1 connection, no filters) and a source with
//             10 connections to 10 destinations, 3 matching filters + a JSONata transform each;
//             ratio of ingest throughput; every event checked at all 10 destinations, every body
//             checked against the transformed shape
//   breakdown the same load against a D1-only Worker (1 and 10 delivery rows), a source without
//             connections, disabled destinations (D1 + DO enqueue; 1 connection, and the fan-out
//             shapes), the full path and the metered copy (timings, outbound fetch legs)
//
// Environment (all optional):
//   BENCH_DURATION=10  BENCH_CONNECTIONS=50  BENCH_ROUNDS=2  BENCH_WARMUP=3
//   BENCH_E2E_RATES=50,200 (fixed-rate e2e runs; the first is the "idle" target)
//   BENCH_PROBE_RATE=20 (probes during each load round)  BENCH_BREAKDOWN=5 (s; 0 skips it)
//   BENCH_MAX_REQUESTS=200000 (per load run)  BENCH_LOADGEN=wrk|autocannon
//   BENCH_FANOUT=1 (0 skips the fan-out case)
//   BENCH_WRITE_DOCS=1 (0: do not touch docs/benchmarks.md)  BENCH_VERBOSE=1 (workerd logs)

import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WORKER_DIR = path.join(REPO_ROOT, "worker");
const BUNDLE = path.join(WORKER_DIR, "dist", "index.js");
const DOCS_FILE = path.join(REPO_ROOT, "docs", "benchmarks.md");

const num = (name, def) => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number (got ${raw})`);
  return v;
};
const CFG = {
  durationS: num("BENCH_DURATION", 10),
  connections: num("BENCH_CONNECTIONS", 50),
  rounds: Math.max(1, Math.round(num("BENCH_ROUNDS", 2))),
  warmupS: num("BENCH_WARMUP", 3),
  e2eRates: (process.env.BENCH_E2E_RATES ?? "50,200").split(",").map((v) => Number(v.trim())).filter((v) => Number.isFinite(v) && v > 0),
  probeRate: num("BENCH_PROBE_RATE", 20),
  breakdownS: num("BENCH_BREAKDOWN", 5),
  maxRequests: Math.round(num("BENCH_MAX_REQUESTS", 200_000)),
  bodyBytes: 1024,
  largeBodyBytes: 20 * 1024,
  costEvents: 100,
  costLargeEvents: 10,
  fanout: process.env.BENCH_FANOUT !== "0",
  writeDocs: process.env.BENCH_WRITE_DOCS !== "0",
  verbose: process.env.BENCH_VERBOSE === "1",
};
/** Lease after which the scheduler's alarm fires (scheduler.ts LEASE_MS); the cost run waits it out. */
const LEASE_WAIT_MS = 32_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.log(`[bench] ${msg}`);
const rid = (prefix) => `${prefix}_${randomBytes(16).toString("hex")}`;

// ---------------------------------------------------------------------------------------------
// small helpers

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.at(-1) ?? null, mean: s.length ? sum / s.length : null };
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return null;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
const fmtMs = (v) => (v === null || v === undefined ? "–" : v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`);
const fmtN = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v) ? "–" : Number(v).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));
const fmtCpu = (v) => (v === null || v === undefined ? "–" : `${v.toFixed(2)} ms`);
const fmtRatio = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(0)} %`);

/** JSON with comments and trailing commas (wrangler.jsonc). */
function parseJsonc(text) {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === "\\") out += text[++i] ?? "";
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (ch === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2);
      if (i < 0) break;
      i++;
    } else out += ch;
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, "$1"));
}

/** A JSON document of exactly `bytes` bytes (ASCII), with `fields` first. */
function jsonBody(bytes, fields = {}) {
  const base = JSON.stringify({ type: "bench.event", ...fields, data: { pad: "" } });
  const pad = Math.max(0, bytes - Buffer.byteLength(base));
  return JSON.stringify({ type: "bench.event", ...fields, data: { pad: "x".repeat(pad) } });
}

function commandExists(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux): how much of the machine other processes used during a run. This
// process tree = the bench, its workerd processes and the load generator (reaped children's
// time moves into their parent's cutime/cstime, so the sum is conserved).

function readProcStat(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const comm = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // fields after "(comm)": state ppid ... utime(12) stime(13) cutime(14) cstime(15)
    const self = Number(f[11]) + Number(f[12]);
    return { comm, ppid: Number(f[1]), self, jiffies: self + Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

/** workerd processes started by this process (one per Miniflare instance). */
function workerdPids() {
  const out = new Set();
  if (process.platform !== "linux") return out;
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const st = readProcStat(name);
    if (st && st.ppid === process.pid && st.comm === "workerd") out.add(Number(name));
  }
  return out;
}
/** CPU time (user + system, all threads) a process has used so far, in ms; null if unknown. */
function processCpuMs(pid) {
  if (!pid) return null;
  const st = readProcStat(pid);
  return st ? (st.self * 1000) / CLK_TCK : null;
}
function cpuSnapshot() {
  if (process.platform !== "linux") return null;
  try {
    const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu;
    const busy = user + nice + system + irq + softirq + (steal ?? 0);
    const total = busy + idle + iowait;
    const procs = new Map();
    for (const name of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const st = readProcStat(name);
      if (st) procs.set(Number(name), st);
    }
    const mine = new Set([process.pid]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, st] of procs) if (!mine.has(pid) && mine.has(st.ppid)) { mine.add(pid); grew = true; }
    }
    let own = 0;
    for (const pid of mine) own += procs.get(pid)?.jiffies ?? 0;
    return { busy, total, own };
  } catch {
    return null;
  }
}
/** Share of the whole machine (all CPUs) used by other processes between two snapshots, 0..1. */
function othersShare(a, b) {
  if (!a || !b || b.total <= a.total) return null;
  return Math.max(0, (b.busy - a.busy - (b.own - a.own)) / (b.total - a.total));
}

// ---------------------------------------------------------------------------------------------
// cleanup registry: everything started is stopped in reverse order, also on Ctrl-C

const cleanups = [];
const children = new Set();
let cleaningUp = null;
function onCleanup(fn) {
  cleanups.push(fn);
}
async function cleanup() {
  cleaningUp ??= (async () => {
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch {}
    }
    while (cleanups.length) {
      const fn = cleanups.pop();
      try {
        await fn();
      } catch (err) {
        console.error(`[bench] cleanup step failed: ${err?.message ?? err}`);
      }
    }
  })();
  return cleaningUp;
}
// A closed pipe (`npm run bench | head`) must not skip the cleanup.
process.stdout.on("error", () => undefined);
process.stderr.on("error", () => undefined);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    console.error(`[bench] ${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

function runChild(cmd, args, { timeoutMs, cwd = REPO_ROOT, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const timer = timeoutMs ? setTimeout(() => child.kill("SIGKILL"), timeoutMs) : null;
    child.on("error", (err) => {
      children.delete(child);
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (code, signal) => {
      children.delete(child);
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// build

async function buildBundle() {
  const started = Date.now();
  const r = await runChild(process.execPath, [path.join(WORKER_DIR, "build.mjs")], { cwd: WORKER_DIR, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`worker/build.mjs failed (${r.signal ?? `exit ${r.code}`}):\n${r.stdout}${r.stderr}`);
  log(`${r.stdout.trim()} [${Date.now() - started} ms]`);
}

/** The metered copy: the same bundle behind a wrapper that counts billable operations. */
async function buildMeteredBundle(dir) {
  const esbuild = await import("esbuild");
  const { WORKERD_BUNDLE_OPTIONS } = await import(pathToFileURL(path.join(WORKER_DIR, "build.mjs")).href);
  const entry = path.join(dir, "metered-entry.js");
  await fsp.writeFile(entry, METER_SOURCE.replaceAll("__GATEWAY_BUNDLE__", JSON.stringify(BUNDLE)));
  const outfile = path.join(dir, "metered", "index.js");
  await esbuild.build({ ...WORKERD_BUNDLE_OPTIONS, entryPoints: [entry], outfile, logLevel: "error" });
  return outfile;
}

// Runs inside workerd. Counts what Cloudflare bills (Worker requests, D1 rows read/written from
// each result's meta, DO RPC calls and alarms, DO SQLite rows, KV and R2 operations) and times
// D1 batches, DO calls and outbound fetches. The DO shares the Worker's isolate in workerd,
// so one module-level counter sees both.
const METER_SOURCE = String.raw`
import gateway, { DeliveryScheduler as Base } from __GATEWAY_BUNDLE__;
// Every other class the bundle exports (Durable Objects) as it is; the local DeliveryScheduler below wins.
export * from __GATEWAY_BUNDLE__;

const MAX_SAMPLES = 100000;
let m = fresh();
function fresh() {
  return {
    worker_requests: { ingest: 0, api: 0 }, scheduled: 0,
    d1: { batches: 0, queries: 0, statements: 0, rows_read: 0, rows_written: 0, duration_ms: 0, unmetered: {}, by_sql: {} },
    do: { rpc: {}, alarms: 0, sql_exec: 0, sql_rows_read: 0, sql_rows_written: 0, sql_by_sql: {}, set_alarm: 0, get_alarm: 0, delete_alarm: 0 },
    kv: {}, r2: {}, fetch_subrequests: 0, fetch_legs: [], timings: {},
  };
}
const inc = (obj, key, by = 1) => { obj[key] = (obj[key] ?? 0) + by; };
const time = (name, ms) => { const a = (m.timings[name] ??= []); if (a.length < MAX_SAMPLES) a.push(ms); };
const label = (sql) => sql.replace(/\s+/g, " ").trim().slice(0, 40);
function record(sql, meta) {
  const l = label(sql);
  const row = (m.d1.by_sql[l] ??= { statements: 0, rows_read: 0, rows_written: 0 });
  row.statements++; row.rows_read += meta?.rows_read ?? 0; row.rows_written += meta?.rows_written ?? 0;
  m.d1.statements++; m.d1.rows_read += meta?.rows_read ?? 0; m.d1.rows_written += meta?.rows_written ?? 0;
  m.d1.duration_ms += typeof meta?.duration === "number" ? meta.duration : 0;
}

const realStatement = new WeakMap();
class MeteredStatement {
  constructor(real, sql) { this.real = real; this.sql = sql; realStatement.set(this, real); }
  bind(...args) { return new MeteredStatement(this.real.bind(...args), this.sql); }
  async run() { m.d1.queries++; const t = performance.now(); const r = await this.real.run(); time("d1 query", performance.now() - t); record(this.sql, r.meta); return r; }
  async all() { m.d1.queries++; const t = performance.now(); const r = await this.real.all(); time("d1 query", performance.now() - t); record(this.sql, r.meta); return r; }
  // first() and raw() return no meta: counted as unmetered (by SQL) so a write hiding there shows up.
  first(...a) { m.d1.queries++; inc(m.d1.unmetered, label(this.sql)); return this.real.first(...a); }
  raw(...a) { m.d1.queries++; inc(m.d1.unmetered, label(this.sql)); return this.real.raw(...a); }
}
function meterD1(db) {
  return {
    prepare: (sql) => new MeteredStatement(db.prepare(sql), sql),
    async batch(list) {
      m.d1.batches++;
      const t = performance.now();
      const results = await db.batch(list.map((s) => realStatement.get(s) ?? s));
      time("d1 batch: " + label(list[0]?.sql ?? "?").slice(0, 24), performance.now() - t);
      results.forEach((r, i) => record(list[i]?.sql ?? "?", r.meta));
      return results;
    },
    exec(sql) { inc(m.d1.unmetered, "exec: " + label(sql)); return db.exec(sql); },
    withSession: (...a) => meterD1(db.withSession(...a)),
  };
}
function counting(target, bucket) {
  return new Proxy(target, {
    get(t, p) {
      const v = t[p];
      if (typeof v !== "function") return v;
      return (...a) => { inc(bucket(), String(p)); return Reflect.apply(v, t, a); };
    },
  });
}
function meterStub(stub) {
  return new Proxy(stub, {
    get(t, p) {
      const v = t[p];
      if (typeof p !== "string" || p === "then" || typeof v !== "function") return v;
      return (...a) => {
        inc(m.do.rpc, p);
        const started = performance.now();
        return Promise.resolve(Reflect.apply(v, t, a)).finally(() => time("DO rpc " + p + " (caller)", performance.now() - started));
      };
    },
  });
}
function meterNamespace(ns) {
  return new Proxy(ns, {
    get(t, p) {
      const v = t[p];
      if (p === "get" || p === "getByName") return (...a) => meterStub(Reflect.apply(v, t, a));
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}
const envs = new WeakMap();
function meterEnv(env) {
  let w = envs.get(env.DB);
  if (!w) {
    w = { ...env, DB: meterD1(env.DB), KV: counting(env.KV, () => m.kv), BODIES: counting(env.BODIES, () => m.r2), DELIVERY_SCHEDULER: meterNamespace(env.DELIVERY_SCHEDULER) };
    envs.set(env.DB, w);
  }
  return w;
}

// DO SQLite: the scheduler consumes every cursor synchronously, so by the next exec() the
// previous cursor's rowsRead/rowsWritten are final.
let lastCursor = null;
let lastLabel = "";
function flushCursor() {
  if (!lastCursor) return;
  const row = (m.do.sql_by_sql[lastLabel] ??= { statements: 0, rows_read: 0, rows_written: 0 });
  row.statements++; row.rows_read += lastCursor.rowsRead; row.rows_written += lastCursor.rowsWritten;
  m.do.sql_rows_read += lastCursor.rowsRead; m.do.sql_rows_written += lastCursor.rowsWritten;
  lastCursor = null;
}
function meterState(ctx) {
  const storage = ctx.storage;
  const sql = storage.sql;
  const msql = new Proxy(sql, {
    get(t, p) {
      if (p === "exec") return (q, ...a) => { flushCursor(); m.do.sql_exec++; lastCursor = t.exec(q, ...a); lastLabel = label(q); return lastCursor; };
      const v = t[p];
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
  const mstorage = new Proxy(storage, {
    get(t, p) {
      if (p === "sql") return msql;
      const v = t[p];
      if (typeof v !== "function") return v;
      if (p === "setAlarm") return (...a) => { m.do.set_alarm++; return Reflect.apply(v, t, a); };
      if (p === "getAlarm") return (...a) => { m.do.get_alarm++; return Reflect.apply(v, t, a); };
      if (p === "deleteAlarm") return (...a) => { m.do.delete_alarm++; return Reflect.apply(v, t, a); };
      return v.bind(t);
    },
  });
  return new Proxy(ctx, {
    get(t, p) {
      if (p === "storage") return mstorage;
      const v = t[p];
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

// Each outbound fetch also leaves [event id, sent, resolved] (wall clock, same as the receiver's),
// so the bench can split it into the request leg (sent → receiver) and the response leg
// (receiver answered → fetch() resolved inside workerd).
const realFetch = globalThis.fetch;
globalThis.fetch = function (input, init) {
  m.fetch_subrequests++;
  const started = performance.now();
  const sentAt = Date.now();
  const h = init?.headers;
  const id = h ? (typeof h.get === "function" ? h.get("x-hookstream-event-id") : h["x-hookstream-event-id"]) : null;
  return realFetch(input, init).finally(() => {
    time("outbound fetch to receiver", performance.now() - started);
    if (id && m.fetch_legs.length < MAX_SAMPLES) m.fetch_legs.push([id, sentAt, Date.now()]);
  });
};

// workerd insists on the real DurableObjectState in super(); the metered storage is swapped
// in afterwards (this.sql and this.ctx are plain properties of the compiled class). attempt()
// is the scheduler's per-delivery method: if it is renamed, its timings are simply missing.
export class DeliveryScheduler extends Base {
  constructor(ctx, env) {
    super(ctx, meterEnv(env));
    const metered = meterState(ctx);
    if (this.sql) this.sql = metered.storage.sql;
    try { Object.defineProperty(this, "ctx", { value: metered, writable: true, configurable: true }); } catch {}
  }
  async alarm(...a) { m.do.alarms++; return super.alarm(...a); }
  async enqueue(...a) {
    const started = performance.now();
    try { return await super.enqueue(...a); } finally { time("DO enqueue (inside the DO)", performance.now() - started); }
  }
  async attempt(row, ...rest) {
    if (typeof row?.next_at === "number") time("DO queue wait (due → attempt start)", Date.now() - row.next_at);
    const started = performance.now();
    try { return await super.attempt(row, ...rest); } finally { time("DO attempt (fetch + D1 outcome write)", performance.now() - started); }
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/meter") {
      flushCursor();
      const body = JSON.stringify(m);
      if (request.method === "POST") m = fresh();
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    const kind = url.pathname.startsWith("/v1/ingest/") ? "ingest" : "api";
    inc(m.worker_requests, kind);
    const started = performance.now();
    try { return await gateway.fetch(request, meterEnv(env), ctx); }
    finally { if (kind === "ingest") time("ingest request (whole handler)", performance.now() - started); }
  },
  async scheduled(controller, env, ctx) { m.scheduled++; return gateway.scheduled(controller, meterEnv(env), ctx); },
};
`;

// ---------------------------------------------------------------------------------------------
// load generators

async function ensureWrk() {
  if (process.env.BENCH_LOADGEN === "autocannon") return false;
  if (commandExists("wrk")) return true;
  if (process.getuid?.() === 0 && commandExists("apt-get")) {
    log("wrk is missing: apt-get install -y wrk …");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    let r = await runChild("apt-get", ["install", "-y", "-q", "wrk"], { env, timeoutMs: 180_000 });
    if (r.code !== 0) {
      await runChild("apt-get", ["update", "-q"], { env, timeoutMs: 180_000 });
      r = await runChild("apt-get", ["install", "-y", "-q", "wrk"], { env, timeoutMs: 180_000 });
    }
    if (r.code === 0 && commandExists("wrk")) return true;
    log("could not install wrk; falling back to autocannon");
  } else if (process.env.BENCH_LOADGEN === "wrk") {
    throw new Error("BENCH_LOADGEN=wrk but wrk is not installed (and we are not root to apt-get it)");
  }
  return false;
}

function autocannonBin() {
  const p = path.join(REPO_ROOT, "node_modules", "autocannon", "autocannon.js");
  if (!fs.existsSync(p)) throw new Error("neither wrk nor node_modules/autocannon is available; run `npm install`");
  return p;
}

/**
 * Closed-loop load: `connections` keep-alive connections POSTing `bodyFile` for `durationS`
 * seconds or `maxRequests` responses, whichever comes first. Latencies in ms.
 */
async function runLoad(loadgen, opts) {
  const before = cpuSnapshot();
  const cpuBefore = processCpuMs(opts.cpuPid);
  const result = await runLoadOnce(loadgen, opts);
  const cpuAfter = processCpuMs(opts.cpuPid);
  result.othersCpu = othersShare(before, cpuSnapshot());
  if (cpuBefore !== null && cpuAfter !== null) {
    result.workerdCpuMs = cpuAfter - cpuBefore;
    result.workerdBusy = result.workerdCpuMs / (result.seconds * 1000);
    result.cpuPerRequest = result.requests ? result.workerdCpuMs / result.requests : null;
  }
  return result;
}

async function runLoadOnce(loadgen, { url, bodyFile, connections, durationS, maxRequests, dir }) {
  const timeoutMs = (durationS + 30) * 1000;
  if (loadgen.name === "wrk") {
    const script = path.join(dir, "wrk-post.lua");
    await fsp.writeFile(
      script,
      `local f = assert(io.open(${JSON.stringify(bodyFile)}, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["content-type"] = "application/json"
local max, n = ${maxRequests}, 0
response = function(status, headers, body)
  n = n + 1
  if n >= max then wrk.thread:stop() end
end
done = function(s, latency, requests)
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%f}\\n',
    s.requests, s.duration, s.errors.status, s.errors.connect, s.errors.read, s.errors.write, s.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`,
    );
    const r = await runChild("wrk", ["-t", "1", "-c", String(connections), "-d", `${durationS}s`, "--timeout", "10s", "-s", script, url], { timeoutMs });
    const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
    if (!line) throw new Error(`wrk produced no result (${r.signal ?? `exit ${r.code}`}):\n${r.stdout}\n${r.stderr}`);
    const j = JSON.parse(line.slice("BENCH_JSON ".length));
    const seconds = j.duration_us / 1e6;
    const errors = j.connect_errors + j.read_errors + j.write_errors + j.timeouts;
    return {
      errorDetail: `connect ${j.connect_errors}, read ${j.read_errors}, write ${j.write_errors}, timeout ${j.timeouts}`,
      requests: j.requests,
      ok: j.requests - j.status_errors,
      non2xx: j.status_errors,
      errors,
      seconds,
      rps: (j.requests - j.status_errors) / seconds,
      latency: { p50: j.p50_us / 1000, p90: j.p90_us / 1000, p99: j.p99_us / 1000, max: j.max_us / 1000, mean: j.mean_us / 1000 },
    };
  }
  const r = await runChild(
    process.execPath,
    [autocannonBin(), "-c", String(connections), "-d", String(durationS), "-O", String(maxRequests), "-m", "POST",
      "-H", "content-type=application/json", "-i", bodyFile, "-t", "10", "-j", url],
    { timeoutMs },
  );
  let j;
  try {
    j = JSON.parse(r.stdout);
  } catch {
    throw new Error(`autocannon produced no JSON (${r.signal ?? `exit ${r.code}`}):\n${r.stdout}\n${r.stderr}`);
  }
  const seconds = j.duration;
  return {
    errorDetail: `errors ${j.errors}, timeouts ${j.timeouts}`,
    requests: j["2xx"] + j.non2xx,
    ok: j["2xx"],
    non2xx: j.non2xx,
    errors: j.errors + j.timeouts,
    seconds,
    rps: j["2xx"] / seconds,
    latency: { p50: j.latency.p50, p90: j.latency.p90, p99: j.latency.p99, max: j.latency.max, mean: j.latency.average },
  };
}

/**
 * Open-loop probes from this process at a fixed rate: each carries its send time, and the
 * receiver (same process, same clock) timestamps its arrival. Returns per-probe ack data.
 */
async function runProbes({ url, rate, durationS, bodyBytes, agent, maxCount = 100_000 }) {
  const count = Math.min(maxCount, Math.round(rate * durationS));
  const interval = 1000 / rate;
  const t0 = performance.now();
  const pending = [];
  const results = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const body = jsonBody(bodyBytes, { probe: i });
    pending.push(
      new Promise((resolve) => {
        const sentAt = performance.now();
        const req = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: 30_000 }, (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (d) => (text += d));
          res.on("end", () => {
            const ackAt = performance.now();
            let eventId = null;
            try {
              eventId = JSON.parse(text).event_id ?? null;
            } catch {}
            results.push({ status: res.statusCode, eventId, sentAt, ackAt });
            resolve();
          });
        });
        req.on("timeout", () => req.destroy(new Error("probe timed out")));
        req.on("error", (err) => {
          results.push({ status: 0, eventId: null, sentAt, ackAt: performance.now(), error: err.message });
          resolve();
        });
        req.end(body);
      }),
    );
  }
  await Promise.all(pending);
  return results;
}

// ---------------------------------------------------------------------------------------------
// receiver

function startReceiver() {
  const arrivals = new Map(); // event id → { wall, mono, bytes }
  const counters = { requests: 0, duplicates: 0, withoutId: 0, connections: 0 };
  // Fan-out deliveries arrive at /fan/<k> (destination k). Each body is checked against the
  // shape the connection's transform must produce (see FAN below); expected(sourceId, k) gives it.
  const fan = {
    byEvent: new Map(), // event id → { mask: destinations reached (bit k), count, walls: arrival times }
    ok: 0,
    bad: 0,
    duplicates: 0,
    samples: [],
    badSamples: [],
    expected: null,
  };
  const onFan = (req, k, text, wall) => {
    const id = req.headers["x-hookstream-event-id"];
    if (typeof id !== "string") {
      counters.withoutId++;
      return;
    }
    const e = fan.byEvent.get(id) ?? { mask: 0, count: 0, walls: [] };
    if (e.mask & (1 << k)) fan.duplicates++;
    else {
      e.mask |= 1 << k;
      e.count++;
      e.walls.push(wall);
    }
    fan.byEvent.set(id, e);
    const want = fan.expected?.(String(req.headers["x-hookstream-source-id"]), k, id) ?? null;
    let got = null;
    try {
      got = JSON.parse(text);
    } catch {}
    const good = want !== null && got !== null && String(req.headers["content-type"]).startsWith("application/json") && sameJson(got, want);
    if (good) {
      fan.ok++;
      if (fan.samples.length < 3 && !fan.samples.some((x) => x.k === k)) fan.samples.push({ k, eventId: id, body: text });
    } else {
      fan.bad++;
      if (fan.badSamples.length < 3) fan.badSamples.push({ k, eventId: id, body: text.slice(0, 300), want });
    }
  };
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const fanK = /^\/fan\/(\d+)$/.exec(req.url ?? "");
    let bytes = 0;
    const chunks = [];
    req.on("data", (c) => {
      bytes += c.length;
      if (fanK) chunks.push(c);
    });
    req.on("end", () => {
      const mono = performance.now();
      const wall = Date.now();
      counters.requests++;
      if (fanK) onFan(req, Number(fanK[1]), Buffer.concat(chunks).toString("utf8"), wall);
      else {
        const id = req.headers["x-hookstream-event-id"];
        if (typeof id !== "string") counters.withoutId++;
        else if (arrivals.has(id)) counters.duplicates++;
        else arrivals.set(id, { wall, mono, bytes });
      }
      res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
      res.end("ok");
    });
  });
  server.on("connection", () => counters.connections++);
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        base: `http://127.0.0.1:${port}`,
        url: `http://127.0.0.1:${port}/hook`,
        arrivals,
        counters,
        fan,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

/** JSON equality, object keys in any order. */
function sameJson(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
}

// ---------------------------------------------------------------------------------------------
// Miniflare instances

function wranglerConfig() {
  return parseJsonc(fs.readFileSync(path.join(WORKER_DIR, "wrangler.jsonc"), "utf8"));
}

function runtimeLog(name, sink) {
  return (stdout, stderr) => {
    const onData = (stream) => (d) => {
      for (const line of String(d).split("\n")) {
        if (!line.trim()) continue;
        sink.push({ stream, line });
        if (CFG.verbose) process.stderr.write(`[${name}] ${line}\n`);
      }
    };
    stdout.on("data", onData("stdout"));
    stderr.on("data", onData("stderr"));
  };
}

/**
 * Starts one Miniflare instance on its direct socket (Miniflare's entry router costs ~3x the
 * throughput of a trivial Worker; the direct socket is the Worker itself, which is what a
 * deployed Worker looks like to a sender) and registers its cleanup.
 */
async function startRuntime(Miniflare, name, options, logs, afterReady = async () => {}) {
  const w = wranglerConfig();
  const before = workerdPids();
  const mf = new Miniflare({
    name,
    modules: true,
    compatibilityDate: w.compatibility_date,
    compatibilityFlags: w.compatibility_flags ?? [],
    host: "127.0.0.1",
    port: 0,
    logRequests: false,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    handleRuntimeStdio: runtimeLog(name, logs),
    ...options,
  });
  onCleanup(() => mf.dispose());
  await mf.ready;
  const pid = [...workerdPids()].find((p) => !before.has(p)) ?? null;
  await afterReady(mf);
  const url = await mf.unsafeGetDirectURL();
  return { mf, pid, url: url.href.replace(/\/$/, "") };
}

/** The gateway (or its metered copy) with bindings equivalent to wrangler.jsonc. */
async function startGatewayRuntime(Miniflare, { name, scriptPath, persistDir, encryptionKey, logs }) {
  const w = wranglerConfig();
  const d1 = Object.fromEntries((w.d1_databases ?? []).map((d) => [d.binding, d.database_id ?? d.database_name]));
  const kv = Object.fromEntries((w.kv_namespaces ?? []).map((k) => [k.binding, k.id]));
  const r2 = Object.fromEntries((w.r2_buckets ?? []).map((b) => [b.binding, b.bucket_name]));
  const sqliteClasses = new Set((w.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
  const durableObjects = Object.fromEntries(
    (w.durable_objects?.bindings ?? []).map((b) => [b.name, { className: b.class_name, useSQLite: sqliteClasses.has(b.class_name) }]),
  );
  return startRuntime(
    Miniflare,
    name,
    {
      // The module listed explicitly: Miniflare's import scanner refuses the bundle's one dynamic
      // import (better-auth's unused node:sqlite probe), which never runs here.
      modules: [{ type: "ESModule", path: scriptPath }],
      modulesRoot: path.dirname(scriptPath),
      d1Databases: d1,
      kvNamespaces: kv,
      r2Buckets: r2,
      durableObjects,
      bindings: { ...(w.vars ?? {}), ENCRYPTION_KEY: encryptionKey, ALLOW_PRIVATE_DESTINATIONS: "true" },
      defaultPersistRoot: persistDir,
    },
    logs,
  );
}

async function startBareRuntime(Miniflare, { logs }) {
  return startRuntime(Miniflare, "bare", {
    script: `export default {
      async fetch(request) {
        await request.arrayBuffer();
        return Response.json({ event_id: "evt_00000000000000000000000000000000" }, { status: 202 });
      },
    };`,
  }, logs);
}

/**
 * The floor for the D1 write on the ingest path: a Worker that does nothing but the same
 * batch the gateway does for one event with one connection (INSERT events + INSERT deliveries),
 * or with N connections (`?deliveries=N`: N delivery rows in the batch).
 */
async function startD1FloorRuntime(Miniflare, { persistDir, logs }) {
  return startRuntime(
    Miniflare,
    "d1-floor",
    {
    script: `export default {
      async fetch(request, env) {
        const body = await request.text();
        const now = Date.now();
        const id = (p) => p + "_" + now.toString(16).padStart(12, "0") + crypto.randomUUID().replaceAll("-", "").slice(0, 20);
        const eventId = id("evt");
        // ?deliveries=N: the batch of an event that fans out to N connections (default 1)
        const n = Number(new URL(request.url).searchParams.get("deliveries") ?? "1");
        const insertDelivery = env.DB.prepare("INSERT INTO deliveries (id, org_id, env_id, event_id, connection_id, destination_id, status, attempts, created_at, updated_at) VALUES (?1, 'org_x', 'env_x', ?2, ?3, ?4, 'pending', 0, ?5, ?5)");
        await env.DB.batch([
          env.DB.prepare("INSERT INTO events (id, org_id, env_id, source_id, method, headers, query, body, body_encoding, body_r2_key, body_size, content_type, source_ip, user_agent, status, received_at, updated_at) VALUES (?1, 'org_x', 'env_x', 'src_x', 'POST', ?2, '{}', ?3, 'utf8', NULL, ?4, 'application/json', NULL, NULL, 'processing', ?5, ?5)")
            .bind(eventId, JSON.stringify(Object.fromEntries(request.headers)), body, body.length, now),
          ...Array.from({ length: n }, (_, i) => insertDelivery.bind(id("dlv"), eventId, "con_x" + i, "dst_x" + i, now)),
        ]);
        return Response.json({ event_id: eventId }, { status: 202 });
      },
    };`,
      d1Databases: { DB: "d1-floor" },
      defaultPersistRoot: persistDir,
    },
    logs,
    async (mf) => applyMigrations(await mf.getD1Database("DB")),
  );
}

/**
 * Apply worker/migrations/*.sql in order, one statement per drizzle breakpoint, each recorded in
 * wrangler's `d1_migrations` table as wrangler does, so the Worker's own migration check
 * (worker/src/db/migrate.ts) finds them applied.
 */
async function applyMigrations(db) {
  const dir = path.join(WORKER_DIR, "migrations");
  const files = (await fsp.readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  await db
    .prepare("CREATE TABLE IF NOT EXISTS d1_migrations(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)")
    .run();
  for (const file of files) {
    const text = await fsp.readFile(path.join(dir, file), "utf8");
    const statements = text.split("--> statement-breakpoint").map((s) => s.trim()).filter(Boolean);
    await db.batch([db.prepare("INSERT INTO d1_migrations (name) VALUES (?1)").bind(file), ...statements.map((s) => db.prepare(s))]);
  }
  return files;
}

async function seedTenant(db) {
  const org = rid("org");
  const env = rid("env");
  const key = rid("key");
  const apiKey = `hs_test_${randomBytes(32).toString("hex")}`;
  const now = Date.now();
  await db.batch([
    db.prepare("INSERT INTO organizations (id, name, created_at) VALUES (?1, ?2, ?3)").bind(org, "bench", now),
    db.prepare("INSERT INTO environments (id, org_id, name, created_at) VALUES (?1, ?2, ?3, ?4)").bind(env, org, "bench", now),
    db
      .prepare("INSERT INTO api_keys (id, org_id, env_id, name, key_hash, prefix, last4, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
      .bind(key, org, env, "bench", createHash("sha256").update(apiKey).digest("hex"), "hs_test_", apiKey.slice(-4), now),
  ]);
  return apiKey;
}

/** A gateway with its D1 migrated, a tenant, and helpers to create routes through the REST API. */
async function prepareGateway(Miniflare, opts) {
  const rt = await startGatewayRuntime(Miniflare, opts);
  const db = await rt.mf.getD1Database("DB");
  await applyMigrations(db);
  const apiKey = await seedTenant(db);
  const api = async (method, p, body) => {
    const res = await fetch(`${rt.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const destination = async (name, url, extra = {}) => (await api("POST", "/v1/destinations", { name, type: "http", config: { url }, ...extra })).id;
  const source = async (name, destinationId) => {
    const src = await api("POST", "/v1/sources", { name });
    if (destinationId) await api("POST", "/v1/connections", { source_id: src.id, destination_id: destinationId });
    return { id: src.id, url: `${rt.url}/v1/ingest/${src.id}` };
  };
  const connect = async (sourceId, destinationId, extra = {}) => (await api("POST", "/v1/connections", { source_id: sourceId, destination_id: destinationId, ...extra })).id;
  return { ...rt, db, api, destination, source, connect };
}

// ---------------------------------------------------------------------------------------------
// accounting of one phase: accepted = events D1 holds for the source; delivered = receiver

async function acceptedIds(db, sourceId) {
  const { results } = await db.prepare("SELECT id FROM events WHERE source_id = ?1").bind(sourceId).all();
  return results.map((r) => r.id);
}

async function deliveryStatus(db, sourceId) {
  const { results } = await db
    .prepare(
      `SELECT d.status AS status, COUNT(*) AS n FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE e.source_id = ?1 GROUP BY d.status`,
    )
    .bind(sourceId)
    .all();
  return Object.fromEntries(results.map((r) => [r.status, r.n]));
}

/** Wait until every accepted event of the source arrived (or progress stalls); returns the missing ids. */
async function drain(gw, receiver, sourceId, { timeoutMs = 180_000, stallMs = 45_000 } = {}) {
  const started = performance.now();
  await sleep(500); // requests cut off by the load generator may still be in the Worker
  const seen = new Set();
  let remaining = [];
  let lastProgress = performance.now();
  // Poll until every accepted event arrived; then re-read the accepted set once more in case a
  // late request was persisted after the first read. A stall longer than one retry interval ends it.
  for (;;) {
    for (const id of await acceptedIds(gw.db, sourceId)) {
      if (!seen.has(id)) {
        seen.add(id);
        remaining.push(id);
      }
    }
    while (true) {
      const before = remaining.length;
      remaining = remaining.filter((id) => !receiver.arrivals.has(id));
      if (remaining.length < before) lastProgress = performance.now();
      const now = performance.now();
      if (remaining.length === 0 || now - started > timeoutMs || now - lastProgress > stallMs) break;
      await sleep(100);
    }
    if (remaining.length > 0) break;
    const again = await acceptedIds(gw.db, sourceId);
    if (again.length === seen.size) break;
  }
  return { accepted: [...seen], missing: remaining, drainMs: performance.now() - started };
}

/** Ingest → receiver time for every delivered event, from the ms timestamp in its id (workerd clock = this clock). */
function serverSideE2e(ids, arrivals) {
  const out = [];
  for (const id of ids) {
    const a = arrivals.get(id);
    if (a) out.push(a.wall - parseInt(id.slice(4, 16), 16));
  }
  return out;
}

function probeLatency(probes, arrivals) {
  const ok = probes.filter((p) => p.status === 202 && p.eventId);
  const failures = {};
  for (const p of probes) if (!(p.status === 202 && p.eventId)) failures[p.error ?? `HTTP ${p.status}`] = (failures[p.error ?? `HTTP ${p.status}`] ?? 0) + 1;
  return {
    sent: probes.length,
    accepted: ok.length,
    failed: probes.length - ok.length,
    failures,
    ack: stats(ok.map((p) => p.ackAt - p.sentAt)),
    e2e: stats(ok.filter((p) => arrivals.has(p.eventId)).map((p) => arrivals.get(p.eventId).mono - p.sentAt)),
    arrived: ok.filter((p) => arrivals.has(p.eventId)).length,
  };
}

function lastArrival(ids, arrivals) {
  let last = 0;
  for (const id of ids) last = Math.max(last, arrivals.get(id)?.wall ?? 0);
  return last;
}

/** Events of the run that reached the receiver before the load generator stopped. */
function deliveredBy(ids, arrivals, wall) {
  let n = 0;
  for (const id of ids) if ((arrivals.get(id)?.wall ?? Infinity) <= wall) n++;
  return n;
}

function deliveryRate(ids, arrivals, loadStartWall) {
  let last = 0;
  let n = 0;
  for (const id of ids) {
    const a = arrivals.get(id);
    if (!a) continue;
    n++;
    if (a.wall > last) last = a.wall;
  }
  return n && last > loadStartWall ? (n * 1000) / (last - loadStartWall) : null;
}

// ---------------------------------------------------------------------------------------------
// phases

async function meter(gw, reset = false) {
  const res = await fetch(`${gw.url}/__bench/meter`, { method: reset ? "POST" : "GET" });
  if (!res.ok) throw new Error(`meter: HTTP ${res.status}`);
  return res.json();
}

async function sendSequentialish(url, bodies, concurrency) {
  const statuses = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    }),
  );
  return statuses;
}

/** Billable operations per event, from the metered bundle (plus the alarms that fire after the lease). */
async function costRun(metered, receiver) {
  const dst = await metered.destination("cost", receiver.url);
  const small = await metered.source("cost-1kb", dst);
  const large = await metered.source("cost-20kb", dst);
  await meter(metered, true);

  const smallStatuses = await sendSequentialish(small.url, Array.from({ length: CFG.costEvents }, (_, i) => jsonBody(CFG.bodyBytes, { seq: i })), 4);
  const smallDrain = await drain(metered, receiver, small.id);
  const smallMeter = await meter(metered, true);

  const largeStatuses = await sendSequentialish(large.url, Array.from({ length: CFG.costLargeEvents }, (_, i) => jsonBody(CFG.largeBodyBytes, { seq: i })), 2);
  const largeDrain = await drain(metered, receiver, large.id);
  const largeMeter = await meter(metered, true);
  const largeIntact = largeDrain.accepted.filter((id) => receiver.arrivals.get(id)?.bytes === CFG.largeBodyBytes).length;

  return {
    small: { statuses: smallStatuses, drain: smallDrain, meter: smallMeter, events: smallDrain.accepted.length },
    large: { statuses: largeStatuses, drain: largeDrain, meter: largeMeter, events: largeDrain.accepted.length, intact: largeIntact },
    finishedAt: performance.now(),
  };
}

async function gatewayLoad(gw, receiver, loadgen, src, { withProbes, dir, bodyFile, probeSrc, agent, label }) {
  const loadStartWall = Date.now();
  const cpuStart = processCpuMs(gw.pid);
  const probesP = withProbes && CFG.probeRate > 0
    ? runProbes({ url: probeSrc.url, rate: CFG.probeRate, durationS: Math.max(1, CFG.durationS - 1), bodyBytes: CFG.bodyBytes, agent })
    : Promise.resolve([]);
  const load = await runLoad(loadgen, { url: src.url, bodyFile, connections: CFG.connections, durationS: CFG.durationS, maxRequests: CFG.maxRequests, dir, cpuPid: gw.pid });
  const loadEndWall = Date.now();
  const probes = await probesP;
  const d = await drain(gw, receiver, src.id);
  const probeDrain = withProbes && probeSrc ? await drain(gw, receiver, probeSrc.id) : null;
  const cpuEnd = processCpuMs(gw.pid);
  const status = d.missing.length ? await deliveryStatus(gw.db, src.id) : null;
  const res = {
    label,
    load,
    // workerd CPU from the start of the load until the last event was delivered, per event (probes included)
    cpuPerEvent: cpuStart !== null && cpuEnd !== null ? (cpuEnd - cpuStart) / (d.accepted.length + (probeDrain?.accepted.length ?? 0) || 1) : null,
    accepted: d.accepted.length,
    delivered: d.accepted.length - d.missing.length,
    missing: d.missing,
    status,
    // last arrival of the run's events after the load generator stopped
    drainAfterLoadMs: Math.max(0, lastArrival(d.accepted, receiver.arrivals) - loadEndWall),
    deliveryRate: deliveryRate(d.accepted, receiver.arrivals, loadStartWall),
    deliveredDuringLoad: deliveredBy(d.accepted, receiver.arrivals, loadEndWall),
    serverE2e: stats(serverSideE2e(d.accepted, receiver.arrivals)),
    probes: withProbes ? probeLatency(probes, receiver.arrivals) : null,
    probeMissing: probeDrain?.missing ?? [],
    probeStored: probeDrain?.accepted.length ?? null,
  };
  log(
    `${label}: ${fmtN(load.rps)} req/s, ack p50 ${fmtMs(load.latency.p50)} p99 ${fmtMs(load.latency.p99)}; accepted ${res.accepted}, delivered ${res.delivered}` +
      `${res.missing.length ? ` — ${res.missing.length} MISSING` : ""}; drained ${fmtMs(res.drainAfterLoadMs)} after load; e2e p50 ${fmtMs(res.serverE2e.p50)} p99 ${fmtMs(res.serverE2e.p99)}`,
  );
  return res;
}

// ---------------------------------------------------------------------------------------------
// fan-out with routing (issue 4): one source, 10 connections to 10 destinations, each connection
// with 3 filters that match and a JSONata transform; compared with the plain case (1 connection,
// no filters) in the same run. 10 destinations because that is what fan-out means to a user: one
// webhook stream feeding 10 services, each with its own rules and shape (a connection is
// source → destination + rules, as in Hookdeck). All 10 destinations are the local receiver
// (/fan/<k>), which checks every body against the shape the transform must produce.

const FAN = {
  connections: 10,
  fields: { seq: 0, amount: 4200, currency: "eur", customer: { id: "cus_bench", tier: "gold" }, items: [{ sku: "sku_1", qty: 1 }, { sku: "sku_2", qty: 3 }] },
  filters: (k) => [
    { field: "body.type", op: "eq", value: "bench.event" },
    { field: "body.amount", op: "gte", value: 100 * (k + 1) },
    { field: "body.customer.tier", op: "in", value: ["gold", "platinum"] },
  ],
  transform: (k) =>
    `{ "route": "fan-${k}", "event": metadata.event_id, "connection": metadata.connection_id, "type": body.type, ` +
    `"customer": body.customer.id, "amount": body.amount / 100, "currency": $uppercase(body.currency), "items": $count(body.items) }`,
  expected: (k, eventId, connectionId) => ({ route: `fan-${k}`, event: eventId, connection: connectionId, type: "bench.event", customer: "cus_bench", amount: 42, currency: "EUR", items: 2 }),
};

/** A source with one connection per destination (k = index), with FAN's filters and transform unless `routing` is false. */
async function fanSource(gw, name, destinations, registry, { routing = true } = {}) {
  const src = await gw.source(name);
  for (const [k, dstId] of destinations.entries()) {
    const id = await gw.connect(src.id, dstId, routing ? { filters: FAN.filters(k), transform: FAN.transform(k) } : {});
    registry.set(`${src.id}:${k}`, id);
  }
  return src;
}

/** Like drain(), for fan-out: waits until every accepted event of the source reached all n destinations. */
async function drainFan(gw, receiver, sourceId, n, { timeoutMs = 400_000, stallMs = 45_000 } = {}) {
  const started = performance.now();
  await sleep(500);
  const complete = (id) => (receiver.fan.byEvent.get(id)?.count ?? 0) >= n;
  const seen = new Set();
  let remaining = [];
  let lastTotal = -1;
  let lastProgress = performance.now();
  for (;;) {
    for (const id of await acceptedIds(gw.db, sourceId)) {
      if (!seen.has(id)) {
        seen.add(id);
        remaining.push(id);
      }
    }
    for (;;) {
      remaining = remaining.filter((id) => !complete(id));
      const total = receiver.fan.ok + receiver.fan.bad + receiver.fan.duplicates;
      if (total !== lastTotal) {
        lastTotal = total;
        lastProgress = performance.now();
      }
      const now = performance.now();
      if (remaining.length === 0 || now - started > timeoutMs || now - lastProgress > stallMs) break;
      await sleep(200);
    }
    if (remaining.length > 0) break;
    const again = await acceptedIds(gw.db, sourceId);
    if (again.length === seen.size) break;
  }
  return { accepted: [...seen], missing: remaining, drainMs: performance.now() - started };
}

async function fanLoad(gw, receiver, loadgen, src, { dir, bodyFile, label }) {
  const n = FAN.connections;
  const okBefore = receiver.fan.ok;
  const badBefore = receiver.fan.bad;
  const dupBefore = receiver.fan.duplicates;
  const loadStartWall = Date.now();
  const cpuStart = processCpuMs(gw.pid);
  const load = await runLoad(loadgen, { url: src.url, bodyFile, connections: CFG.connections, durationS: CFG.durationS, maxRequests: CFG.maxRequests, dir, cpuPid: gw.pid });
  const loadEndWall = Date.now();
  const d = await drainFan(gw, receiver, src.id, n);
  const cpuEnd = processCpuMs(gw.pid);
  let deliveries = 0;
  let duringLoad = 0;
  let last = 0;
  const e2e = [];
  for (const id of d.accepted) {
    const e = receiver.fan.byEvent.get(id);
    if (!e) continue;
    const ts = parseInt(id.slice(4, 16), 16);
    for (const w of e.walls) {
      deliveries++;
      if (w <= loadEndWall) duringLoad++;
      if (w > last) last = w;
      e2e.push(w - ts);
    }
  }
  const res = {
    label,
    load,
    accepted: d.accepted.length,
    expected: d.accepted.length * n,
    deliveries,
    missing: d.missing,
    missingDeliveries: d.missing.reduce((a, id) => a + n - (receiver.fan.byEvent.get(id)?.count ?? 0), 0),
    shapeOk: receiver.fan.ok - okBefore,
    shapeBad: receiver.fan.bad - badBefore,
    duplicates: receiver.fan.duplicates - dupBefore,
    cpuPerEvent: cpuStart !== null && cpuEnd !== null ? (cpuEnd - cpuStart) / (d.accepted.length || 1) : null,
    deliveredDuringLoad: duringLoad,
    deliveryRate: deliveries && last > loadStartWall ? (deliveries * 1000) / (last - loadStartWall) : null,
    drainAfterLoadMs: Math.max(0, last - loadEndWall),
    e2e: stats(e2e),
  };
  log(
    `${label}: ${fmtN(load.rps)} req/s, ack p50 ${fmtMs(load.latency.p50)} p99 ${fmtMs(load.latency.p99)}; accepted ${res.accepted}, ` +
      `${res.deliveries}/${res.expected} deliveries (${res.shapeOk} in the transformed shape, ${res.shapeBad} not)` +
      `${res.missing.length ? ` — ${res.missing.length} events INCOMPLETE` : ""}; ${fmtN(res.deliveryRate)} delivered/s; drained ${fmtMs(res.drainAfterLoadMs)} after load`,
  );
  return res;
}

async function bareLoad(bare, loadgen, { dir, bodyFile, label }) {
  const load = await runLoad(loadgen, { url: `${bare.url}/v1/ingest/src_bare`, bodyFile, connections: CFG.connections, durationS: CFG.durationS, maxRequests: CFG.maxRequests, dir, cpuPid: bare.pid });
  log(`${label}: ${fmtN(load.rps)} req/s, ack p50 ${fmtMs(load.latency.p50)} p99 ${fmtMs(load.latency.p99)}`);
  return { label, load };
}

// ---------------------------------------------------------------------------------------------
// report

function costTable(cost, alarmMeter) {
  const s = cost.small;
  const l = cost.large;
  const per = (v, n) => (n ? v / n : null);
  const rpcTotal = (mt) => Object.values(mt.do.rpc).reduce((a, b) => a + b, 0);
  const sum = (o, keys) => keys.reduce((a, k) => a + (o[k] ?? 0), 0);
  const r2A = ["put", "createMultipartUpload", "uploadPart", "completeMultipartUpload", "list"];
  const r2B = ["get", "head"];
  const kvW = ["put", "delete"];
  const allEvents = s.events + l.events;
  const rows = [
    ["Worker requests", per(s.meter.worker_requests.ingest, s.events), per(l.meter.worker_requests.ingest, l.events), "ingest requests; DO calls and subrequests are not Worker requests"],
    ["D1 rows written", per(s.meter.d1.rows_written, s.events), per(l.meter.d1.rows_written, l.events), "sum of meta.rows_written (index entries included)"],
    ["D1 rows read", per(s.meter.d1.rows_read, s.events), per(l.meter.d1.rows_read, l.events), "sum of meta.rows_read"],
    ["D1 queries (batches + single)", per(s.meter.d1.batches + s.meter.d1.queries, s.events), per(l.meter.d1.batches + l.meter.d1.queries, l.events), ""],
    ["D1 execution time, ms (not billed)", per(s.meter.d1.duration_ms, s.events), per(l.meter.d1.duration_ms, l.events), "sum of meta.duration: SQLite time inside the (simulated) database, which D1 spends one query at a time"],
    ["DO requests: RPC calls", per(rpcTotal(s.meter), s.events), per(rpcTotal(l.meter), l.events), Object.entries(s.meter.do.rpc).map(([k, v]) => `${k} ${v}`).join(", ")],
    ["DO requests: alarms", null, null, `${alarmMeter.do.alarms} alarm invocation(s) for all ${allEvents} events, counted until ${LEASE_WAIT_MS / 1000} s after the last (the lease); setAlarm ${s.meter.do.set_alarm + l.meter.do.set_alarm + alarmMeter.do.set_alarm}, deleteAlarm ${s.meter.do.delete_alarm + l.meter.do.delete_alarm + alarmMeter.do.delete_alarm} calls`],
    ["DO SQLite rows written", per(s.meter.do.sql_rows_written, s.events), per(l.meter.do.sql_rows_written, l.events), `${fmtN(s.meter.do.sql_exec / s.events, 1)} exec() calls per event`],
    ["DO SQLite rows read", per(s.meter.do.sql_rows_read, s.events), per(l.meter.do.sql_rows_read, l.events), ""],
    ["KV writes", per(sum(s.meter.kv, kvW), s.events), per(sum(l.meter.kv, kvW), l.events), `KV reads: ${sum(s.meter.kv, ["get", "getWithMetadata", "list"])}`],
    ["R2 class A (put/list)", per(sum(s.meter.r2, r2A), s.events), per(sum(l.meter.r2, r2A), l.events), ""],
    ["R2 class B (get/head)", per(sum(s.meter.r2, r2B), s.events), per(sum(l.meter.r2, r2B), l.events), `R2 deletes (free): ${(s.meter.r2.delete ?? 0) + (l.meter.r2.delete ?? 0)}`],
    ["outbound subrequests (not billed)", per(s.meter.fetch_subrequests, s.events), per(l.meter.fetch_subrequests, l.events), ""],
  ];
  return rows;
}

function d1Breakdown(mt, events) {
  return Object.entries(mt.d1.by_sql)
    .filter(([, v]) => v.rows_written > 0 || v.rows_read > 0)
    .sort((a, b) => b[1].rows_written - a[1].rows_written)
    .map(([sql, v]) => [sql, v.statements / events, v.rows_written / events, v.rows_read / events]);
}

function md(rows, header) {
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
  return lines.join("\n");
}

function verdict(ok) {
  return ok === null ? "not measured" : ok ? "**met**" : "**NOT met**";
}

function fanMd(R) {
  const F = R.fan;
  const n = FAN.connections;
  const out = [];
  out.push(`\n### Fan-out with routing (issue 4)\n`);
  out.push(
    `One source with ${n} connections to ${n} destinations: what fan-out means to a user (one webhook stream feeding ${n} services, ` +
      `each with its own rules and payload shape; a connection is source → destination + rules, as in Hookdeck). ` +
      `Each connection has 3 filters that match and a JSONata transform; all ${n} destinations are the local receiver (\`/fan/<k>\`), ` +
      `which checks **every** body against the shape the transform must produce and counts each event at each destination. ` +
      `The plain case is a source with 1 connection and no filters, measured in the same round with the same 1 KB body; the order alternates per round. ` +
      `Filters run at ingest, before the D1 batch (an event that matches writes 1 event row + ${n} delivery rows and makes ${n} DO enqueue calls, one per destination's scheduler); ` +
      `the transform runs in each destination's scheduler DO when it delivers.\n`,
  );
  const f0 = JSON.stringify(FAN.filters(0)).replace('"value":100,', '"value":100·(k+1),');
  out.push("```");
  out.push(`body (1024 B): ${F.body.replace(/"pad":"x+"/, '"pad":"xxx…"')}`);
  out.push(`filters of connection k: ${f0}`);
  out.push(`transform of connection k: ${FAN.transform(0).replace('"fan-0"', '"fan-<k>"')}`);
  out.push("```\n");
  const rows = [];
  F.rounds.forEach((r, i) => {
    for (const [name, x] of [["plain (1 connection, no filters)", r.plain], [`fan-out (${n} connections)`, r.fan]]) {
      rows.push([`${i + 1}`, r.order, name, fmtN(x.load.rps), fmtMs(x.load.latency.p50), fmtMs(x.load.latency.p99), `${x.load.non2xx} / ${x.load.errors}`, fmtCpu(x.load.cpuPerRequest), fmtCpu(x.cpuPerEvent), fmtRatio(x.load.workerdBusy), fmtRatio(x.load.othersCpu)]);
    }
    const ratioOf = (a, b) => (a && b ? fmtRatio(a / b) : "");
    rows.push([`${i + 1}`, "", "**fan-out / plain**", `**${fmtRatio(r.fan.load.rps / r.plain.load.rps)}**`, "", "", "", ratioOf(r.plain.load.cpuPerRequest, r.fan.load.cpuPerRequest), ratioOf(r.plain.cpuPerEvent, r.fan.cpuPerEvent), "", ""]);
  });
  out.push(md(rows, ["round", "order", "case", "req/s (2xx)", "ack p50", "ack p99", "non-2xx / errors", "workerd CPU per request during the load", "workerd CPU per event, deliveries included", "workerd busy", "CPU used by other processes"]));
  out.push(`\nTarget: fan-out ingest ≥ 70 % of the plain case. "CPU per request during the load" is the ingest side (hardly any delivery happens while the load runs, see below) and is the figure least moved by other processes; "per event, deliveries included" runs until the last delivery, so the fan-out's includes its ${n} deliveries (transform, fetch, outcome write) per event. Ratios of CPU figures are plain ÷ fan-out.\n`);
  const d = [];
  F.rounds.forEach((r, i) => {
    const p = r.plain;
    d.push([`${i + 1}`, "plain", fmtN(p.accepted), `${fmtN(p.delivered)} / ${fmtN(p.accepted)}`, "–", `${fmtN(p.deliveredDuringLoad / p.load.seconds)} (${fmtN(p.deliveredDuringLoad)})`, fmtN(p.deliveryRate), fmtMs(p.drainAfterLoadMs), fmtMs(p.serverE2e.p50), fmtMs(p.serverE2e.p99)]);
    const f = r.fan;
    d.push([`${i + 1}`, "fan-out", fmtN(f.accepted), `${fmtN(f.deliveries)} / ${fmtN(f.expected)}`, `${fmtN(f.shapeOk)} of ${fmtN(f.shapeOk + f.shapeBad)}`,
      `${fmtN(f.deliveredDuringLoad / f.load.seconds)} (${fmtN(f.deliveredDuringLoad)})`, fmtN(f.deliveryRate), fmtMs(f.drainAfterLoadMs), fmtMs(f.e2e.p50), fmtMs(f.e2e.p99)]);
  });
  out.push(md(d, ["round", "case", "accepted events", "deliveries arrived / expected", "bodies in the transformed shape", "delivered/s while loaded (count)", "delivered/s until drained", "drain after load", "e2e p50", "e2e p99"]));
  out.push(
    `\n"delivered/s until drained": every delivery of the run's events (${n} per event for the fan-out) per second, from the start of the load to the last arrival: the sustained end-to-end rate. ` +
      `"e2e": event receipt (timestamp in the event id) → each arrival. Why so little arrives while the load runs: see the analysis below the results.\n`,
  );
  if (R.receiverFan?.samples?.length) {
    out.push(`Spot-check, bodies as the receiver got them (every body was compared with the expected shape; these are the first of a few destinations):\n`);
    out.push("```");
    for (const x of R.receiverFan.samples) out.push(`/fan/${x.k}  x-hookstream-event-id: ${x.eventId}\n${x.body}`);
    out.push("```");
  }
  if (R.receiverFan?.badSamples?.length) {
    out.push(`\nBodies NOT in the expected shape (first ${R.receiverFan.badSamples.length}):\n`);
    out.push("```");
    for (const x of R.receiverFan.badSamples) out.push(`/fan/${x.k} ${x.eventId}: ${x.body}`);
    out.push("```");
  }
  return out.join("\n");
}

/** The honest short version, at the top of the results. */
function summaryMd(R) {
  const S = R.summary;
  const B = R.breakdown;
  // workerd CPU per request: unlike req/s, hardly moved by other processes on a shared machine
  const cpu = (k) => B?.[k]?.cpuPerEvent ?? B?.[k]?.load?.cpuPerRequest ?? null;
  const c = (k) => fmtCpu(cpu(k));
  const met = [];
  const notMet = [];
  const push = (ok, text) => (ok ? met : notMet).push(text);
  push(S.ratio !== null && S.ratio >= 0.5, `ingest ${fmtRatio(S.ratio)} of the bare Worker (target ≥ 50 %)`);
  push(S.ingest !== null && S.ingest >= 1500, `${fmtN(S.ingest)} events/s ingested (target ≥ 1,500)`);
  push(S.idleP50 !== null && S.idleP50 < 50, `end-to-end p50 ${fmtMs(S.idleP50)} at an idle destination (target < 50 ms)`);
  if (R.fan) push(S.fanRatio !== null && S.fanRatio >= 0.7, `fan-out ingest ${fmtRatio(S.fanRatio)} of the plain case (target ≥ 70 %; by CPU per request during the load ${fmtRatio(S.fanCpuLoadRatio)})`);
  push(S.lost === 0 && !S.fanBad, S.lost === 0 && !S.fanBad ? `every accepted event delivered (0 lost${R.fan ? `; every fan-out event reached all ${FAN.connections} destinations in the transformed shape` : ""})` : `${S.lost} accepted events LOST, ${S.fanBad ?? 0} fan-out bodies in the wrong shape — a bug`);
  const out = [`### Summary\n`];
  out.push(`- **Met:** ${met.length ? met.join("; ") : "none"}.`);
  out.push(`- **Not met:** ${notMet.length ? notMet.join("; ") : "none"}.`);
  const others = median([...R.rounds.map((r) => r.gateway.load.othersCpu), ...Object.values(B ?? {}).map((v) => v?.load?.othersCpu)].filter((v) => typeof v === "number"));
  if (others !== null && others > 0.15) {
    out.push(`- **Noise:** other processes used a median ${fmtRatio(others)} of this ${R.machine.cpus}-CPU machine during the load runs, so req/s figures are depressed and noisy; the comparisons below use workerd CPU per request, which that barely moves.`);
  }
  if (B?.d1Floor && B?.bare) {
    const floor = cpu("d1Floor");
    out.push(
      `- **Why, on this machine:** workerd runs every Worker, Durable Object and binding of an instance on one thread, and D1 is SQLite in that process. ` +
        `That thread spends ${c("bare")} per request on a bare Worker and ${c("d1Floor")} on a Worker that does nothing but the gateway's one D1 batch (the "D1 floor"), ` +
        `so **any design that writes D1 before the 202 is capped here at about ${fmtRatio(cpu("bare") / floor)} of the bare Worker (≈ ${fmtN(1000 / floor)} events/s per saturated core)**, ` +
        `far below the 50 % and 1,500/s targets. The gateway costs ${c("noConnections")} with no connection (≈ the floor: its own code is cheap), ${c("disabled")} with the DO enqueue, ` +
        `and ${c("full")} on the full path including the delivery and its outcome write.`,
    );
  }
  if (R.fan && B?.d1Floor10) {
    out.push(
      `- **Fan-out:** the ${FAN.connections}-connection source ingests at ${fmtRatio(S.fanRatio)} of the plain case. Per request on the ingest side (disabled destinations, nothing delivered): ` +
        `1 connection ${c("disabled")}; ${FAN.connections} connections to ${FAN.connections} destinations ${c("fanOffPlain")} without filters and ${c("fanOffRouting")} with 3 filters + transform each; ` +
        `the same ${FAN.connections} connections to 1 destination ${c("fanOneDst")}; the D1 batch alone ${c("d1Floor10")} for 1 + ${FAN.connections} rows vs ${c("d1Floor")} for 1 + 1. ` +
        `So filters are in the noise and the transform is not on the ingest path; the cost is one scheduler call per destination ` +
        `(≈ ${fmtCpu((cpu("fanOffPlain") - cpu("disabled")) / (FAN.connections - 1))} each: the RPC and the scheduler's SQLite write), which every design with a queue per destination pays before the 202.`,
    );
  }
  const g = R.rounds[0]?.gateway;
  if (g) {
    const sweep = R.e2eSweep?.at(-1);
    out.push(
      `- **Deliveries while loaded:** under the saturating closed-loop load only ${fmtN(g.deliveredDuringLoad)} of ${fmtN(g.accepted)} events (round 1) reached the receiver before the load stopped. ` +
        `Not D1 and not the scheduler: requests to the receiver leave in milliseconds, but workerd hands the responses back seconds late while its thread is saturated (fetch legs in the breakdown; analysis below the results)` +
        (sweep ? `; at a fixed ${sweep.rate}/s ${fmtN(sweep.deliveredWhileSending)} of ${fmtN(sweep.probes.accepted)} arrived before the sending stopped.` : "."),
    );
  }
  out.push(
    `- **Production:** there D1, each scheduler DO and the ingest isolates run on separate machines, so this machine's ceiling is not production's, and the two throughput targets can only be settled against a deployed Worker. ` +
      `What carries over: the Worker's own CPU per event (the figures here are an upper bound: they include the simulated D1 and DO work), ` +
      `one DO request per destination per event, one D1 batch per event at ingest plus the outcome writes, and D1's own limit: a database runs one query at a time, ` +
      `so 1,500 events/s with one ingest batch each plus outcome batches needs well under 0.5 ms per batch ` +
      `(the SQLite time measured here: ${fmtN(R.cost.small.meter.d1.duration_ms / (R.cost.small.events || 1), 2)} ms per delivered event, all batches together).`,
  );
  return out.join("\n");
}

function buildReport(R) {
  const out = [];
  const gRps = R.rounds.map((r) => r.gateway.load.rps);
  const bRps = R.rounds.map((r) => r.bare.load.rps);
  const ratios = R.rounds.map((r) => r.gateway.load.rps / r.bare.load.rps);
  const ratio = median(ratios);
  const ingest = median(gRps);
  const idleP50 = R.idle?.probes.e2e.p50 ?? null;
  const lost = R.rounds.reduce((a, r) => a + r.gateway.missing.length + r.gateway.probeMissing.length, 0) + R.e2eSweep.reduce((a, r) => a + r.missing.length, 0) + R.cost.small.drain.missing.length + R.cost.large.drain.missing.length + (R.warm?.missing.length ?? 0);
  const cpuRatioOf = (r) => (r.gateway.cpuPerEvent && r.bare.load.cpuPerRequest ? r.bare.load.cpuPerRequest / r.gateway.cpuPerEvent : null);
  const cpuRatio = median(R.rounds.map(cpuRatioOf).filter((v) => v !== null));
  const F = R.fan;
  const fanRatio = F ? median(F.rounds.map((r) => r.fan.load.rps / r.plain.load.rps)) : null;
  const fanCpuRatio = F ? median(F.rounds.map((r) => (r.plain.cpuPerEvent && r.fan.cpuPerEvent ? r.plain.cpuPerEvent / r.fan.cpuPerEvent : null)).filter((v) => v !== null)) : null;
  const fanMissing = F ? F.rounds.reduce((a, r) => a + r.fan.missing.length + r.plain.missing.length, 0) + (F.warm?.missing.length ?? 0) : 0;
  const fanBad = F ? F.rounds.reduce((a, r) => a + r.fan.shapeBad, 0) : 0;
  const fanChecked = F ? F.rounds.reduce((a, r) => a + r.fan.shapeOk + r.fan.shapeBad, 0) : 0;
  const fanCpuLoadRatio = F ? median(F.rounds.map((r) => (r.plain.load.cpuPerRequest && r.fan.load.cpuPerRequest ? r.plain.load.cpuPerRequest / r.fan.load.cpuPerRequest : null)).filter((v) => v !== null)) : null;
  const totalLost = lost + fanMissing;
  R.summary = { ratio, cpuRatio, ingest, idleP50, lost: totalLost, fanRatio, fanBad, fanCpuLoadRatio };

  out.push(summaryMd(R));
  out.push(`\n### Machine\n`);
  out.push(md([[R.machine.cpus, R.machine.cpuModel, R.machine.memory, R.machine.node, R.machine.workerd, R.machine.loadgen, R.machine.date, `${R.machine.loadBefore} / ${R.machine.loadAfter}`, `\`${R.machine.bundle}\``]],
    ["nproc", "CPU", "memory", "node", "miniflare (workerd)", "load generator", "date (UTC)", "1-min load avg before / after", "bundle sha256"]));
  // The load average also counts this bench's own previous work (it decays over minutes), so the
  // CPU other processes actually took during the load runs (/proc) decides whether to warn.
  const othersMedian = median([...R.rounds.map((r) => r.gateway.load.othersCpu), ...Object.values(R.breakdown ?? {}).map((v) => v?.load?.othersCpu)].filter((v) => typeof v === "number"));
  if (othersMedian !== null ? othersMedian > 0.15 : Number(R.machine.loadBefore) > 0.5) {
    const took = othersMedian !== null ? `other processes took a median ${fmtRatio(othersMedian)} of its ${R.machine.cpus} CPUs during the load runs` : `load average ${R.machine.loadBefore} on ${R.machine.cpus} CPUs at the start`;
    out.push(`\n> The machine was not idle (${took}), so absolute numbers are low and noisy; compare ratios and CPU per request.`);
  }
  out.push(`\n### Method\n\n${METHOD_MD}`);
  out.push(`Settings: ${CFG.connections} connections, ${CFG.durationS} s per load run, ${CFG.rounds} round(s), ${CFG.warmupS} s warmup, ` +
    `${CFG.bodyBytes} B JSON bodies, fixed-rate e2e runs at ${CFG.e2eRates.join(", ")}/s, probes under load at ${CFG.probeRate}/s.\n`);

  out.push(`### Targets\n`);
  out.push(md([
    ["ingest ≥ 50 % of the bare Worker", `${fmtRatio(ratio)} (by CPU per event: ${fmtRatio(cpuRatio)})`, verdict(ratio === null ? null : ratio >= 0.5)],
    ["≥ 1,500 events/s ingested", `${fmtN(ingest)} events/s`, verdict(ingest === null ? null : ingest >= 1500)],
    ["e2e p50 < 50 ms, idle destination", fmtMs(idleP50), verdict(idleP50 === null ? null : idleP50 < 50)],
    ...(F
      ? [[`fan-out ingest ≥ 70 % of the plain case (${FAN.connections} connections × 3 filters + transform vs 1 connection, no filters)`,
        `${fmtRatio(fanRatio)} (by workerd CPU per request during the load: ${fmtRatio(fanCpuLoadRatio)}; per event with its deliveries: ${fmtRatio(fanCpuRatio)})`, verdict(fanRatio === null ? null : fanRatio >= 0.7)],
        [`fan-out: every accepted event at all ${FAN.connections} destinations, in the transformed shape`,
          `${fanMissing === 0 ? "0 incomplete" : `${fanMissing} INCOMPLETE`}; ${fmtN(fanChecked)} bodies checked, ${fanBad} wrong`, fanMissing === 0 && fanBad === 0 ? "**met**" : "**NOT met — bug**"]]
      : []),
    ["every accepted event delivered", totalLost === 0 ? "0 lost" : `${totalLost} LOST`, totalLost === 0 ? "**met**" : "**NOT met — bug**"],
  ], ["target", "measured (median of rounds)", "verdict"]));

  out.push(`\n### Throughput and ack latency (${CFG.connections} connections, ${CFG.durationS} s)\n`);
  const tRows = [];
  R.rounds.forEach((r, i) => {
    const g = r.gateway;
    const b = r.bare;
    const cpuRatio = cpuRatioOf(r);
    tRows.push([`${i + 1}`, "(a) gateway", fmtN(g.load.rps), fmtMs(g.load.latency.p50), fmtMs(g.load.latency.p99), `${g.load.non2xx} / ${g.load.errors}`,
      `${fmtN(g.deliveredDuringLoad / g.load.seconds)} (${fmtN(g.deliveredDuringLoad)} of ${fmtN(g.accepted)})`, fmtN(g.deliveryRate), fmtMs(g.drainAfterLoadMs), fmtCpu(g.cpuPerEvent), fmtRatio(g.load.workerdBusy), fmtRatio(g.load.othersCpu)]);
    tRows.push([`${i + 1}`, "(c) bare Worker", fmtN(b.load.rps), fmtMs(b.load.latency.p50), fmtMs(b.load.latency.p99), `${b.load.non2xx} / ${b.load.errors}`, "", "", "",
      fmtCpu(b.load.cpuPerRequest), fmtRatio(b.load.workerdBusy), fmtRatio(b.load.othersCpu)]);
    tRows.push([`${i + 1}`, "**ratio (a)/(c)**", `**${fmtRatio(ratios[i])}**`, "", "", "", "", "", "", cpuRatio === null ? "" : `${fmtRatio(cpuRatio)} (CPU)`, "", ""]);
  });
  out.push(md(tRows, ["round", "target", "req/s (2xx)", "ack p50", "ack p99", "non-2xx / errors", "delivered/s while loaded", "delivered/s until drained", "drain after load", "workerd CPU per event", "workerd busy", "CPU used by other processes"]));
  out.push(`\n"delivered/s while loaded": events of the run that reached the receiver before the load stopped, per second of load. "until drained": all of them, from the start of the load to the last arrival. Every accepted event was checked after draining (see "every accepted event delivered" above). "workerd CPU per event": CPU time of that Miniflare instance's workerd process (all threads) divided by events; for the gateway from the start of the load until the last event was delivered, so it covers ingest, D1, the scheduler and the delivery. workerd runs every Worker, Durable Object and simulated binding of an instance on one thread, so "workerd busy" near 100 % means that thread was the bottleneck. "(CPU)" ratio: bare CPU per request ÷ gateway CPU per event, the throughput ratio one CPU-bound core would give, less sensitive to noise. "CPU used by other processes": share of all ${R.machine.cpus} CPUs taken by processes outside this benchmark during the run.`);

  out.push(`\n### End-to-end latency (ingest → receiver)\n`);
  const eRows = [];
  if (R.idle) {
    const p = R.idle.probes;
    eRows.push([`idle: ${R.idle.rate}/s fixed rate, ${p.sent} probes`, fmtMs(p.ack.p50), fmtMs(p.ack.p99), fmtMs(p.e2e.p50), fmtMs(p.e2e.p99), `${p.arrived}/${p.accepted}`, fmtN(R.idle.deliveredWhileSending)]);
  }
  for (const run of R.e2eSweep?.slice(1) ?? []) {
    const p = run.probes;
    eRows.push([`${run.rate}/s fixed rate, ${p.sent} probes`, fmtMs(p.ack.p50), fmtMs(p.ack.p99), fmtMs(p.e2e.p50), fmtMs(p.e2e.p99), `${p.arrived}/${p.accepted}`, fmtN(run.deliveredWhileSending)]);
  }
  R.rounds.forEach((r, i) => {
    const g = r.gateway;
    if (g.probes) {
      eRows.push([`under load, round ${i + 1}: probes at ${CFG.probeRate}/s`, fmtMs(g.probes.ack.p50), fmtMs(g.probes.ack.p99), fmtMs(g.probes.e2e.p50), fmtMs(g.probes.e2e.p99), `${g.probes.arrived}/${g.probes.accepted}`, ""]);
    }
    eRows.push([`under load, round ${i + 1}: every event (server clock)`, "", "", fmtMs(g.serverE2e.p50), fmtMs(g.serverE2e.p99), `${g.delivered}/${g.accepted}`, fmtN(g.deliveredDuringLoad)]);
  });
  out.push(md(eRows, ["measurement", "ack p50", "ack p99", "e2e p50", "e2e p99", "arrived/accepted", "arrived before the sending stopped"]));
  out.push(`\nProbes: send time → arrival at the receiver, one clock (this process). "Every event": the ms timestamp the gateway put in the event id → arrival; it leaves out the sender → Worker leg (≈ the ack latency's network part).`);

  if (F) out.push(fanMd(R));

  out.push(`\n### Billable operations per delivered event\n`);
  out.push(md(
    costTable(R.cost, R.costAlarms).map(([k, a, b, note]) => [k, a === null ? "–" : fmtN(a, 2), b === null ? "–" : fmtN(b, 2), note]),
    ["operation", `${CFG.bodyBytes} B body (${R.cost.small.events} events)`, `${CFG.largeBodyBytes / 1024} KB body (${R.cost.large.events} events)`, "note"],
  ));
  out.push(`\nD1 statements per event (${CFG.bodyBytes} B run):\n`);
  out.push(md(d1Breakdown(R.cost.small.meter, R.cost.small.events).map(([sql, n, w, r]) => [`\`${sql}…\``, fmtN(n, 2), fmtN(w, 2), fmtN(r, 2)]), ["statement", "per event", "rows written", "rows read"]));
  out.push(`\nDurable Object SQLite statements per event (${CFG.bodyBytes} B run; the scheduler's own storage):\n`);
  out.push(md(
    Object.entries(R.cost.small.meter.do.sql_by_sql)
      .sort((a, b) => b[1].rows_written - a[1].rows_written || b[1].statements - a[1].statements)
      .map(([sql, v]) => [`\`${sql}…\``, fmtN(v.statements / R.cost.small.events, 2), fmtN(v.rows_written / R.cost.small.events, 2), fmtN(v.rows_read / R.cost.small.events, 2)]),
    ["statement", "per event", "rows written", "rows read"],
  ));
  const unmetered = { ...R.cost.small.meter.d1.unmetered };
  for (const [k, v] of Object.entries(R.cost.large.meter.d1.unmetered)) unmetered[k] = (unmetered[k] ?? 0) + v;
  if (Object.keys(unmetered).length) {
    out.push(`\nQueries without \`meta\` (first()/raw(), not in the rows above): ${Object.entries(unmetered).map(([k, v]) => `\`${k}…\` ×${v}`).join(", ")}.`);
  }
  if (R.tableRows) {
    out.push(`\nCross-check on the load run (round 1): rows per accepted event in D1 — ${Object.entries(R.tableRows).map(([t, v]) => `${t} ${fmtN(v, 2)}`).join(", ")}.`);
  }
  out.push(`\nR2 run: ${R.cost.large.intact}/${R.cost.large.events} deliveries arrived with the full ${CFG.largeBodyBytes} B body.`);

  if (R.breakdown) {
    const B = R.breakdown;
    out.push(`\n### Where the time goes (${CFG.breakdownS} s runs, ${CFG.connections} connections)\n`);
    const bRows = [];
    const variants = [
      ["bare", "bare Worker (202 only)"],
      ["d1Floor", "D1 floor: a Worker doing only the gateway's ingest batch (INSERT events + deliveries)"],
      ["d1Floor10", `D1 floor, fan-out batch (INSERT events + ${FAN.connections} deliveries)`],
      ["noConnections", "gateway, source without connections (D1 insert only)"],
      ["disabled", "gateway, disabled destination (D1 + DO enqueue, no delivery)"],
      ["fanOffPlain", `gateway, ${FAN.connections} connections to ${FAN.connections} disabled destinations, no filters (D1 event + ${FAN.connections} deliveries, ${FAN.connections} DO enqueues)`],
      ["fanOffRouting", `gateway, the same with 3 filters + transform per connection (the fan-out case's ingest side)`],
      ["fanOneDst", `gateway, ${FAN.connections} connections (3 filters + transform each) to 1 disabled destination (1 DO enqueue of ${FAN.connections})`],
      ["full", "gateway, full path (D1 + DO enqueue + delivery)"],
      ["metered", "metered copy, full path (for the timings below)"],
    ];
    for (const [key, name] of variants) {
      const l = B[key]?.load;
      const cpu = B[key]?.cpuPerEvent ?? l?.cpuPerRequest ?? null;
      if (l) bRows.push([name, fmtN(l.rps), fmtMs(l.latency.p50), fmtMs(l.latency.p99), fmtRatio(l.rps / B.bare.load.rps), fmtCpu(cpu), fmtRatio(l.workerdBusy), fmtRatio(l.othersCpu)]);
    }
    out.push(md(bRows, ["variant", "req/s", "ack p50", "ack p99", "of bare", "workerd CPU per request", "workerd busy", "CPU used by other processes"]));
    out.push(`\nCPU per request of the full path includes delivering the events (measured until the last one arrived); the other rows only cover the load itself.`);
    if (B.timings) {
      out.push(`\nInside workerd, metered full-path run, from the start of the load until the last delivery (a span is recorded when it ends; workerd timers advance only at I/O, so these are ms-granular):\n`);
      out.push(md(B.timings.map(([k, s]) => [k, `${fmtN(s.duringLoad)} / ${fmtN(s.n - s.duringLoad)}`, fmtMs(s.p50), fmtMs(s.p90), fmtMs(s.p99), fmtMs(s.max), fmtMs(s.mean)]),
        ["span", "ended during / after the load", "p50", "p90", "p99", "max", "mean"]));
    }
    if (B.fetchLegs) {
      const L = B.fetchLegs;
      out.push(`\nThe same run's outbound fetches, split at the receiver (wall clock; ${fmtN(L.deliveredDuringLoad)} of ${fmtN(L.accepted)} events reached the receiver while the ${fmtN(L.loadSeconds, 1)} s load ran):\n`);
      out.push(md([
        ["sent during the load", fmtN(L.during.req.n), fmtMs(L.during.req.p50), fmtMs(L.during.req.p99), fmtMs(L.during.res.p50), fmtMs(L.during.res.p99), fmtMs(L.during.res.max)],
        ["sent after the load", fmtN(L.after.req.n), fmtMs(L.after.req.p50), fmtMs(L.after.req.p99), fmtMs(L.after.res.p50), fmtMs(L.after.res.p99), fmtMs(L.after.res.max)],
      ], ["fetches", "n", "request leg p50 (sent → receiver)", "request leg p99", "response leg p50 (receiver answered → fetch() resolved)", "response leg p99", "response leg max"]));
      out.push(`\nA long response leg with a short request leg means the receiver answered at once but workerd handed the response to the scheduler late (see the analysis below the results).`);
    }
  }
  if (R.cost?.small?.meter?.timings) {
    const t = Object.entries(R.cost.small.meter.timings).map(([k, v]) => [k, stats(v)]).sort((a, b) => (b[1].mean ?? 0) - (a[1].mean ?? 0));
    out.push(`\nThe same spans at light load (the ${CFG.bodyBytes} B cost run, 4 requests in flight):\n`);
    out.push(md(t.map(([k, s]) => [k, fmtN(s.n), fmtMs(s.p50), fmtMs(s.p90), fmtMs(s.p99), fmtMs(s.max), fmtMs(s.mean)]), ["span", "samples", "p50", "p90", "p99", "max", "mean"]));
  }

  if (R.problems.length) {
    out.push(`\n### Problems observed\n`);
    for (const p of R.problems) out.push(`- ${p}`);
  }
  return out.join("\n");
}

const DOC_START = "<!-- bench:results:start (written by `npm run bench`; edit outside these markers) -->";
const DOC_END = "<!-- bench:results:end -->";

async function writeDocs(section) {
  let text;
  try {
    text = await fsp.readFile(DOCS_FILE, "utf8");
  } catch (err) {
    if (err.code !== "ENOENT") throw err;
    text = null;
  }
  const block = `${DOC_START}\n## Results\n\n${section}\n${DOC_END}`;
  if (text === null) {
    text = `${DOC_INTRO}\n${block}\n`;
  } else {
    const s = text.indexOf(DOC_START);
    const e = text.indexOf(DOC_END);
    text = s >= 0 && e > s ? `${text.slice(0, s)}${block}${text.slice(e + DOC_END.length)}` : `${text.trimEnd()}\n\n${block}\n`;
  }
  await fsp.mkdir(path.dirname(DOCS_FILE), { recursive: true });
  await fsp.writeFile(DOCS_FILE, text);
}

const DOC_INTRO = `# Benchmarks

\`npm run bench\` (scripts/bench.mjs) builds the Worker bundle with worker/build.mjs, runs it
locally in workerd through Miniflare and rewrites the section between the markers below
(machine, method, targets, results). Knobs: see the header of scripts/bench.mjs.
`;

const METHOD_MD = `- **Runtime.** The esbuild bundle (\`worker/dist/index.js\`) runs in workerd through Miniflare's
  API with the bindings of \`worker/wrangler.jsonc\` (D1, KV, R2, SQLite Durable Object,
  \`nodejs_compat\`), persistence in a temporary directory, the D1 migrations applied through
  \`getD1Database("DB")\`, and \`ALLOW_PRIVATE_DESTINATIONS=true\`. Load goes to the Worker's
  direct socket (\`unsafeDirectSockets\`, \`logRequests: false\`): Miniflare's entry router in
  front of it cuts a trivial Worker's throughput to about a third (and with its default request
  logging, a loopback call to Node per request, further), and a sender of a deployed Worker
  never sees it.
  Locally every binding (D1 included) is simulated inside one workerd process, so ingest,
  D1, the scheduler and the deliveries share its CPU; in production they are separate machines.
- **Peers.** A \`node:http\` receiver on 127.0.0.1 answers every delivery with 200 at once (an
  idle destination). Load comes from \`wrk\` (1 thread; installed with apt-get when missing) or
  \`autocannon\`, closed loop, each run bounded by time and a request cap.
- **(a) ingest.** 1 KB JSON POSTs to a source with one HTTP connection to the receiver.
  Throughput counts 202s per second; ack latency is the load generator's.
- **(b) end to end.** Probes sent from the bench process at a fixed rate carry their send time;
  the receiver (same process, same clock) matches \`x-hookstream-event-id\` to the 202's
  \`event_id\`. Measured at fixed rates with the gateway otherwise idle (the first rate is the
  "idle destination" target; a higher one shows whether delivery keeps up), and under the (a)
  load. For every event of a load run, the ms timestamp in the event id (taken by the Worker on
  receipt) is also compared with the arrival time. After each run the bench waits until every event D1
  holds for the source has reached the receiver and lists any that did not.
- **(c) bare Worker.** The same load against a second Miniflare instance whose Worker only reads
  the body and answers 202; the result is the ratio (a)/(c), per round, median over rounds.
  The machine is small and shared, so ratios are more meaningful than absolute numbers; each
  run also reports how much CPU processes outside the benchmark took meanwhile (/proc).
- **Billable operations.** A metered copy of the bundle (the same bundle, wrapped at build
  time by the bench; the gateway's code is untouched) counts per event: Worker requests; D1
  rows written and read as reported by each statement's \`meta\` (local D1 counts index entries
  as written rows, as D1's pricing does: an insert into \`events\` reports 5 rows, the row, its
  primary-key index and three secondary indexes); Durable Object RPC calls and alarm invocations; the scheduler's SQLite rows
  (\`rowsWritten\`/\`rowsRead\` of each cursor); KV and R2 operations. 100 events with 1 KB
  bodies, then 10 with 20 KB bodies (over the 10 KB inline limit, so R2). The scheduler's lease
  alarm fires 30 s after an enqueue, so alarms are read after waiting that out. The D1 row
  counts per event of the (a) run are a cross-check.
- **Fan-out (issue 4).** Per round, the plain case (a source with 1 connection, no filters) and a
  source with 10 connections to 10 destinations, each with 3 matching filters and a JSONata
  transform, under the same load and body, in alternating order; the result is the ratio of
  their ingest throughput. Every event is then awaited at all 10 destinations (\`/fan/<k>\` on the
  receiver) and every delivered body is compared with the shape the transform must produce.
- **Breakdown.** Short runs of the same load against: a Worker that does only the gateway's
  ingest D1 batch (the floor any design that writes D1 before answering has locally; also with
  the fan-out's 10 delivery rows), a source with no connections (event insert only), disabled
  destinations (insert + DO enqueue, nothing delivered: 1 connection, then the fan-out's shapes),
  the full path, and the metered copy, which also times the ingest handler, D1 batches, DO
  calls, queue wait and outbound fetches inside workerd, and splits each outbound fetch at the
  receiver into its request and response legs.
`;

// ---------------------------------------------------------------------------------------------
// main

async function main() {
  const started = Date.now();
  const problems = [];
  const R = { problems, rounds: [] };

  await buildBundle();
  const { Miniflare } = await import("miniflare");
  const mfVersion = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", "miniflare", "package.json"), "utf8")).version;

  const useWrk = await ensureWrk();
  const loadgen = useWrk
    ? { name: "wrk", version: (spawnSync("wrk", ["-v"], { encoding: "utf8" }).stdout || "").split("\n")[0].replace(/\s*\[.*$/, "").trim() || "wrk" }
    : { name: "autocannon", version: `autocannon ${JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", "autocannon", "package.json"), "utf8")).version}` };
  R.machine = {
    cpus: String(os.availableParallelism?.() ?? os.cpus().length),
    cpuModel: os.cpus()[0]?.model?.replace(/\s+/g, " ").trim() ?? "?",
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    workerd: `miniflare ${mfVersion}`,
    loadgen: loadgen.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    loadBefore: os.loadavg()[0].toFixed(2),
    bundle: createHash("sha256").update(fs.readFileSync(BUNDLE)).digest("hex").slice(0, 12),
  };
  log(`machine: ${R.machine.cpus} CPUs (${R.machine.cpuModel}), ${R.machine.memory}, node ${R.machine.node}, ${R.machine.workerd}, load: ${loadgen.version}`);

  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "hookstream-bench-"));
  onCleanup(() => fsp.rm(dir, { recursive: true, force: true }));
  // Miniflare keeps its own scratch directory under os.tmpdir(): put it inside ours.
  process.env.TMPDIR = dir;
  const bodyFile = path.join(dir, "body-1k.json");
  await fsp.writeFile(bodyFile, jsonBody(CFG.bodyBytes, { seq: 0 }));

  const receiver = await startReceiver();
  onCleanup(() => receiver.close());
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  onCleanup(() => agent.destroy());

  const logs = { gateway: [], metered: [], bare: [], d1floor: [] };
  const encryptionKey = randomBytes(32).toString("base64");
  const meteredScript = await buildMeteredBundle(dir);
  // one after the other, so that each instance's workerd process (for CPU accounting) is known
  const gw = await prepareGateway(Miniflare, { name: "hookstream", scriptPath: BUNDLE, persistDir: path.join(dir, "state-gateway"), encryptionKey, logs: logs.gateway });
  const metered = await prepareGateway(Miniflare, { name: "hookstream", scriptPath: meteredScript, persistDir: path.join(dir, "state-metered"), encryptionKey, logs: logs.metered });
  const bare = await startBareRuntime(Miniflare, { logs: logs.bare });
  log(`gateway ${gw.url}, metered copy ${metered.url}, bare Worker ${bare.url}, receiver ${receiver.url}`);

  // cost: small runs on the metered copy; its lease alarm fires while the load runs below
  log(`cost run: ${CFG.costEvents} × ${CFG.bodyBytes} B, then ${CFG.costLargeEvents} × ${CFG.largeBodyBytes} B through the metered copy …`);
  R.cost = await costRun(metered, receiver);
  for (const [name, part] of [["1 KB", R.cost.small], ["20 KB", R.cost.large]]) {
    const bad = part.statuses.filter((s) => s !== 202).length;
    if (bad) problems.push(`cost run (${name}): ${bad} ingest requests were not answered 202`);
    if (part.drain.missing.length) problems.push(`LOST EVENTS: cost run (${name}): ${part.drain.missing.length} accepted events never reached the receiver (${part.drain.missing.slice(0, 3).join(", ")}…)`);
  }
  if (R.cost.large.intact !== R.cost.large.events) problems.push(`R2 path: only ${R.cost.large.intact}/${R.cost.large.events} 20 KB bodies arrived intact`);
  log(`cost run: ${R.cost.small.meter.d1.rows_written / R.cost.small.events} D1 rows written per 1 KB event; R2 ops for 20 KB: ${JSON.stringify(R.cost.large.meter.r2)}`);

  // routes on the measured gateway
  const dst = await gw.destination("receiver", receiver.url);
  const warmSrc = await gw.source("warmup", dst);

  if (CFG.warmupS > 0) {
    log(`warmup ${CFG.warmupS} s each …`);
    await runLoad(loadgen, { url: warmSrc.url, bodyFile, connections: CFG.connections, durationS: CFG.warmupS, maxRequests: CFG.maxRequests, dir });
    R.warm = await drain(gw, receiver, warmSrc.id);
    if (R.warm.missing.length) problems.push(`LOST EVENTS: warmup: ${R.warm.missing.length} accepted events never reached the receiver`);
    await runLoad(loadgen, { url: `${bare.url}/v1/ingest/src_bare`, bodyFile, connections: CFG.connections, durationS: CFG.warmupS, maxRequests: CFG.maxRequests, dir });
  }

  R.e2eSweep = [];
  for (const rate of CFG.e2eRates) {
    log(`fixed-rate e2e: ${rate}/s for ${CFG.durationS} s …`);
    const src = await gw.source(`e2e-${rate}`, dst);
    const probes = await runProbes({ url: src.url, rate, durationS: CFG.durationS, bodyBytes: CFG.bodyBytes, agent });
    const sentWall = Date.now();
    const d = await drain(gw, receiver, src.id);
    const run = { rate, probes: probeLatency(probes, receiver.arrivals), missing: d.missing, deliveredWhileSending: deliveredBy(d.accepted, receiver.arrivals, sentWall) };
    R.e2eSweep.push(run);
    if (d.missing.length) problems.push(`LOST EVENTS: e2e at ${rate}/s: ${d.missing.length} accepted events never reached the receiver`);
    if (run.probes.failed) problems.push(`e2e at ${rate}/s: ${run.probes.failed} of ${run.probes.sent} probes were not answered 202 (${JSON.stringify(run.probes.failures)})`);
    log(`e2e ${rate}/s: ack p50 ${fmtMs(run.probes.ack.p50)} p99 ${fmtMs(run.probes.ack.p99)}; e2e p50 ${fmtMs(run.probes.e2e.p50)} p99 ${fmtMs(run.probes.e2e.p99)}`);
  }
  R.idle = R.e2eSweep[0] ?? null;

  for (let i = 0; i < CFG.rounds; i++) {
    const src = await gw.source(`load-${i + 1}`, dst);
    const probeSrc = await gw.source(`probes-${i + 1}`, dst);
    const gateway = await gatewayLoad(gw, receiver, loadgen, src, { withProbes: true, dir, bodyFile, probeSrc, agent, label: `round ${i + 1} (a) gateway` });
    if (gateway.missing.length || gateway.probeMissing.length) {
      problems.push(
        `LOST EVENTS: round ${i + 1}: ${gateway.missing.length + gateway.probeMissing.length} accepted events never reached the receiver ` +
          `(D1 delivery status of the load source: ${JSON.stringify(gateway.status)}; e.g. ${gateway.missing.slice(0, 3).join(", ")})`,
      );
    }
    if (gateway.probes?.failed) {
      const stored = gateway.probeStored ?? 0;
      const extra = stored - gateway.probes.accepted;
      problems.push(
        `round ${i + 1}: ${gateway.probes.failed} of ${gateway.probes.sent} probes sent during the load got no 202 (${JSON.stringify(gateway.probes.failures)}); ` +
          (extra > 0
            ? `${extra} of them were nevertheless stored and delivered: a sender would retry and the event would arrive twice`
            : "none of them was stored"),
      );
    }
    if (gateway.accepted > 0 && gateway.deliveredDuringLoad < gateway.accepted * 0.5) {
      problems.push(
        `round ${i + 1}: only ${gateway.deliveredDuringLoad} of ${gateway.accepted} accepted events reached the receiver while the load ran ` +
          `(${fmtN(gateway.deliveredDuringLoad / gateway.load.seconds)}/s delivered vs ${fmtN(gateway.load.rps)}/s ingested); the rest arrived in the ${fmtMs(gateway.drainAfterLoadMs)} after it stopped (a local-runtime effect of the saturated workerd thread: see the fetch legs in the breakdown and the analysis below the results)`,
      );
    }
    if (gateway.load.non2xx || gateway.load.errors) problems.push(`round ${i + 1}: ${gateway.load.non2xx} non-2xx answers and ${gateway.load.errors} socket errors/timeouts at the gateway (${gateway.load.errorDetail})`);
    if (i === 0) {
      const count = async (sql) => (await gw.db.prepare(sql).bind(src.id).first("n")) ?? 0;
      const n = gateway.accepted || 1;
      R.tableRows = {
        events: (await count("SELECT COUNT(*) AS n FROM events WHERE source_id = ?1")) / n,
        deliveries: (await count("SELECT COUNT(*) AS n FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.source_id = ?1")) / n,
        delivery_attempts: (await count("SELECT COUNT(*) AS n FROM delivery_attempts a JOIN events e ON e.id = a.event_id WHERE e.source_id = ?1")) / n,
        dead_letters: (await count("SELECT COUNT(*) AS n FROM dead_letters x JOIN events e ON e.id = x.event_id WHERE e.source_id = ?1")) / n,
      };
    }
    const bareRes = await bareLoad(bare, loadgen, { dir, bodyFile, label: `round ${i + 1} (c) bare Worker` });
    R.rounds.push({ gateway, bare: bareRes });
    log(`round ${i + 1}: ratio (a)/(c) = ${fmtRatio(gateway.load.rps / bareRes.load.rps)}`);
  }

  // fan-out with routing (issue 4), against the plain case in the same run
  if (CFG.fanout) {
    const fanBodyFile = path.join(dir, "body-1k-routing.json");
    await fsp.writeFile(fanBodyFile, jsonBody(CFG.bodyBytes, FAN.fields));
    const fanDsts = [];
    for (let k = 0; k < FAN.connections; k++) fanDsts.push(await gw.destination(`fan-${k}`, `${receiver.base}/fan/${k}`));
    const registry = new Map();
    receiver.fan.expected = (srcId, k, id) => {
      const c = registry.get(`${srcId}:${k}`);
      return c ? FAN.expected(k, id, c) : null;
    };
    const F = { rounds: [], warm: null, body: fs.readFileSync(fanBodyFile, "utf8"), fanDsts, registry };
    if (CFG.warmupS > 0) {
      log(`fan-out warmup ${CFG.warmupS} s …`);
      const w = await fanSource(gw, "fanout-warmup", fanDsts, registry);
      await runLoad(loadgen, { url: w.url, bodyFile: fanBodyFile, connections: CFG.connections, durationS: CFG.warmupS, maxRequests: CFG.maxRequests, dir });
      F.warm = await drainFan(gw, receiver, w.id, FAN.connections);
      if (F.warm.missing.length) problems.push(`LOST EVENTS: fan-out warmup: ${F.warm.missing.length} accepted events did not reach all ${FAN.connections} destinations`);
    }
    for (let i = 0; i < CFG.rounds; i++) {
      const plainSrc = await gw.source(`plain-${i + 1}`, dst);
      const fanSrc = await fanSource(gw, `fanout-${i + 1}`, fanDsts, registry);
      const runPlain = () => gatewayLoad(gw, receiver, loadgen, plainSrc, { withProbes: false, dir, bodyFile: fanBodyFile, label: `round ${i + 1} plain (1 connection, no filters)` });
      const runFan = () => fanLoad(gw, receiver, loadgen, fanSrc, { dir, bodyFile: fanBodyFile, label: `round ${i + 1} fan-out (${FAN.connections} connections, 3 filters + transform each)` });
      // alternate the order, so that drift (D1 growing, other load on the machine) favours neither side
      let plain;
      let fo;
      if (i % 2 === 0) {
        plain = await runPlain();
        fo = await runFan();
      } else {
        fo = await runFan();
        plain = await runPlain();
      }
      F.rounds.push({ plain, fan: fo, order: i % 2 === 0 ? "plain, then fan-out" : "fan-out, then plain" });
      if (plain.missing.length) problems.push(`LOST EVENTS: round ${i + 1} plain: ${plain.missing.length} accepted events never reached the receiver`);
      if (fo.missing.length) {
        problems.push(`LOST EVENTS: round ${i + 1} fan-out: ${fo.missing.length} accepted events did not reach all ${FAN.connections} destinations (${fo.missingDeliveries} deliveries missing; e.g. ${fo.missing.slice(0, 3).join(", ")})`);
      }
      if (fo.shapeBad) {
        const ex = receiver.fan.badSamples[0];
        problems.push(`round ${i + 1} fan-out: ${fo.shapeBad} deliveries were NOT in the transformed shape (e.g. destination ${ex?.k}: \`${ex?.body}\`)`);
      }
      if (fo.duplicates) problems.push(`round ${i + 1} fan-out: ${fo.duplicates} duplicate deliveries (at-least-once; expected only after failures)`);
      for (const [name, r] of [["plain", plain], ["fan-out", fo]]) {
        if (r.load.non2xx || r.load.errors) problems.push(`round ${i + 1} ${name}: ${r.load.non2xx} non-2xx answers and ${r.load.errors} socket errors/timeouts at the gateway (${r.load.errorDetail})`);
      }
      log(`round ${i + 1}: fan-out / plain = ${fmtRatio(fo.load.rps / plain.load.rps)}`);
    }
    R.fan = F;
  }

  // the metered copy's lease alarm has fired by now (or we wait for it)
  const waitAlarm = LEASE_WAIT_MS - (performance.now() - R.cost.finishedAt);
  if (waitAlarm > 0) {
    log(`waiting ${Math.ceil(waitAlarm / 1000)} s for the metered scheduler's lease alarm …`);
    await sleep(waitAlarm);
  }
  R.costAlarms = await meter(metered, true);

  if (CFG.breakdownS > 0) {
    log(`breakdown: ${CFG.breakdownS} s runs …`);
    const B = {};
    const short = (url, cpuPid) => runLoad(loadgen, { url, bodyFile, connections: CFG.connections, durationS: CFG.breakdownS, maxRequests: CFG.maxRequests, dir, cpuPid });
    B.bare = { load: await short(`${bare.url}/v1/ingest/src_bare`, bare.pid) };
    const floor = await startD1FloorRuntime(Miniflare, { persistDir: path.join(dir, "state-d1-floor"), logs: logs.d1floor });
    B.d1Floor = { load: await short(`${floor.url}/v1/ingest/src_floor`, floor.pid) };
    if (R.fan) B.d1Floor10 = { load: await short(`${floor.url}/v1/ingest/src_floor?deliveries=${FAN.connections}`, floor.pid) };
    const noConn = await gw.source("breakdown-no-connections");
    B.noConnections = { load: await short(noConn.url, gw.pid) };
    const disabledDst = await gw.destination("breakdown-disabled", receiver.url, { enabled: false });
    const disabledSrc = await gw.source("breakdown-disabled", disabledDst);
    B.disabled = { load: await short(disabledSrc.url, gw.pid) };
    if (R.fan) {
      // the fan-out's ingest side alone: disabled destinations take the enqueue and deliver nothing
      const offDsts = [];
      for (let k = 0; k < FAN.connections; k++) offDsts.push(await gw.destination(`breakdown-fan-off-${k}`, `${receiver.base}/fan/${k}`, { enabled: false }));
      const fanShort = (url) => runLoad(loadgen, { url, bodyFile: path.join(dir, "body-1k-routing.json"), connections: CFG.connections, durationS: CFG.breakdownS, maxRequests: CFG.maxRequests, dir, cpuPid: gw.pid });
      B.fanOffPlain = { load: await fanShort((await fanSource(gw, "breakdown-fan-off-plain", offDsts, R.fan.registry, { routing: false })).url) };
      B.fanOffRouting = { load: await fanShort((await fanSource(gw, "breakdown-fan-off-routing", offDsts, R.fan.registry)).url) };
      B.fanOneDst = { load: await fanShort((await fanSource(gw, "breakdown-fan-one-destination", offDsts.map(() => disabledDst), R.fan.registry)).url) };
    }
    const fullSrc = await gw.source("breakdown-full", dst);
    const fullCpu = processCpuMs(gw.pid);
    B.full = { load: await short(fullSrc.url, gw.pid) };
    const fullDrain = await drain(gw, receiver, fullSrc.id);
    if (fullCpu !== null) B.full.cpuPerEvent = (processCpuMs(gw.pid) - fullCpu) / (fullDrain.accepted.length || 1);
    if (fullDrain.missing.length) problems.push(`LOST EVENTS: breakdown full path: ${fullDrain.missing.length} accepted events never reached the receiver`);
    const mDst = await metered.destination("breakdown", receiver.url);
    const mSrc = await metered.source("breakdown", mDst);
    await meter(metered, true);
    const mStartWall = Date.now();
    B.metered = { load: await short(mSrc.url, metered.pid) };
    const mEndWall = Date.now();
    const atLoadEnd = await meter(metered, false);
    const mDrain = await drain(metered, receiver, mSrc.id);
    if (mDrain.missing.length) problems.push(`LOST EVENTS: metered run: ${mDrain.missing.length} accepted events never reached the receiver`);
    const mt = await meter(metered, true);
    B.timings = Object.entries(mt.timings)
      .map(([k, v]) => [k, { ...stats(v), duringLoad: atLoadEnd.timings[k]?.length ?? 0 }])
      .sort((a, b) => (b[1].mean ?? 0) - (a[1].mean ?? 0));
    B.meteredCounts = { rpc: mt.do.rpc, batches: mt.d1.batches, ingest: mt.worker_requests.ingest };
    // outbound fetches: request leg (sent → receiver) and response leg (receiver answered → fetch() resolved)
    const legs = { during: { req: [], res: [] }, after: { req: [], res: [] } };
    for (const [id, sent, resolved] of mt.fetch_legs ?? []) {
      const arrived = receiver.arrivals.get(id)?.wall;
      if (arrived === undefined || sent < mStartWall) continue;
      const part = sent <= mEndWall ? legs.during : legs.after;
      part.req.push(arrived - sent);
      part.res.push(resolved - arrived);
    }
    B.fetchLegs = {
      during: { req: stats(legs.during.req), res: stats(legs.during.res) },
      after: { req: stats(legs.after.req), res: stats(legs.after.res) },
      accepted: mDrain.accepted.length,
      deliveredDuringLoad: deliveredBy(mDrain.accepted, receiver.arrivals, mEndWall),
      loadSeconds: (mEndWall - mStartWall) / 1000,
    };
    R.breakdown = B;
    for (const [k, v] of Object.entries(B)) if (v?.load) log(`breakdown ${k}: ${fmtN(v.load.rps)} req/s, ack p50 ${fmtMs(v.load.latency.p50)} p99 ${fmtMs(v.load.latency.p99)}`);
  }

  // runtime logs: anything the Worker or DO reported
  for (const [name, lines] of Object.entries(logs)) {
    const bad = lines.filter((l) => /error|could not|failed|uncaught|exception/i.test(l.line));
    if (bad.length) {
      const sample = [...new Set(bad.map((l) => l.line.slice(0, 200)))].slice(0, 3);
      problems.push(`${name} runtime logged ${bad.length} error line(s), e.g.: ${sample.map((s) => `\`${s}\``).join("; ")}`);
    }
  }
  if (receiver.counters.duplicates) problems.push(`receiver saw ${receiver.counters.duplicates} duplicate deliveries (at-least-once; expected only after failures)`);
  if (receiver.counters.withoutId) problems.push(`receiver saw ${receiver.counters.withoutId} requests without x-hookstream-event-id`);

  R.receiverFan = receiver.fan;
  R.machine.loadAfter = os.loadavg()[0].toFixed(2);
  const section = buildReport(R);
  console.log(`\n${section}\n`);
  if (CFG.writeDocs) {
    await writeDocs(section);
    log(`wrote ${path.relative(REPO_ROOT, DOCS_FILE)}`);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (R.summary.lost > 0) {
    console.error(`\n[bench] !!! ${R.summary.lost} ACCEPTED EVENTS WERE NEVER DELIVERED — this is a bug in the gateway !!!\n`);
    process.exitCode = 2;
  }
}

// Importable (for one-off experiments: `import { … } from "./scripts/bench.mjs"`); runs when executed.
export {
  CFG, sleep, log, stats, median, fmtMs, fmtN, jsonBody, cleanup, onCleanup, runLoad, runProbes, startReceiver, prepareGateway,
  startGatewayRuntime, applyMigrations, seedTenant, drain, processCpuMs, cpuSnapshot, othersShare, ensureWrk, BUNDLE, REPO_ROOT,
};
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await main();
  } catch (err) {
    console.error(`[bench] failed: ${err?.stack ?? err}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}
