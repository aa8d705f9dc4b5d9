import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import type { OutboundMessage } from "../model/event.js";
import { newId } from "../model/ids.js";
import type { CircuitState } from "../model/types.js";
import { getDestinationById } from "../db/repositories/destinations.js";
import { outcomeStatements, type AttemptRecord, type DeliveryUpdate } from "../db/repositories/outcomes.js";
import { database } from "../db/client.js";
import { admit, CLOSED, observedState, recordFailure, recordSuccess, type BreakerState } from "./circuit-breaker.js";
import { retryDelayMs } from "./retry-policy.js";
import { createOutbound } from "./outbound.js";
import type { DeliveryResult } from "./result.js";
import { loadDestinationConfig, type LoadedDestination } from "./destination-config.js";
import { resolvePayload } from "./payload.js";
import { applyRoute } from "./apply-route.js";
import type { SchemaError } from "../routing/validate.js";
import { Coalescer } from "../lib/coalescer.js";
import { concurrencyOf, DEFAULT_FLOW_CONTROL, StartWindow } from "./flow-control.js";
import { hubFor } from "./websocket-hub.js";
import type { WebSocketDeliverContext } from "../providers/destinations/websocket.js";

/** If the isolate dies mid-attempt, the alarm re-runs the attempt after this long. */
const LEASE_MS = 30_000;
/** A failed write of an attempt's outcome is retried after this long (the attempt may repeat). */
const WRITE_RETRY_MS = 5_000;
const CONFIG_TTL_MS = 30_000;
const DONE_RETENTION_MS = 7 * 24 * 3600 * 1000;

export type EnqueueMode = "new" | "reopen" | "now";

export interface EnqueueItem {
  message: OutboundMessage;
  /** Attempts already made (manual retry and redrive keep counting). */
  attempts: number;
}

export interface SchedulerStats {
  in_flight: number;
  queued: number;
}

export interface CircuitView {
  state: CircuitState;
  consecutive_failures: number;
  opened_at: number | null;
  queue_depth: number;
}

interface QueueRow extends Record<string, SqlStorageValue> {
  seq: number;
  delivery_id: string;
  message: string;
  attempts: number;
  next_at: number;
}

/**
 * One per destination. Owns that destination's queue (SQLite), retry schedule and
 * circuit breaker. Rows leave the queue only after their outcome is written to D1, so a
 * crash at any point repeats an attempt rather than losing it.
 */
export class DeliveryScheduler extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly inflight = new Set<string>();
  /** Attempt starts of the last second, for the destination's rate limit (memory only). */
  private readonly starts = new StartWindow(null);
  private destination: { value: LoadedDestination | null; loadedAt: number } | null = null;
  private dispatching = false;
  private dispatchAgain = false;
  /** Cached pending alarm time: undefined until read, null when none. */
  private alarmAt: number | null | undefined = undefined;
  private breakerState: BreakerState | null = null;
  private destinationId: string | null = null;
  /** Concurrent attempts' outcome writes share one D1 batch. */
  private readonly writer: Coalescer<D1PreparedStatement[]>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS queue (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      delivery_id TEXT NOT NULL UNIQUE,
      message TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      next_at INTEGER NOT NULL)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS queue_next ON queue (next_at, seq)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS done (delivery_id TEXT PRIMARY KEY, done_at INTEGER NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.writer = new Coalescer((groups) => env.DB.batch(groups.flat()).then(() => undefined), 40);
    // A new instance has nothing in flight: a probe left over from a crash must not block the circuit.
    const b = this.breaker();
    if (b.probe_in_flight) this.setBreaker({ ...b, probe_in_flight: false });
  }

  /**
   * Idempotent by delivery id. `mode` says what to do with one this scheduler already knows:
   * - `new` (ingest): a queued or recently finished delivery is ignored;
   * - `reopen` (the sweep: D1 says it is still pending): a finished one is queued again, a queued one is left alone;
   * - `now` (manual retry, redrive): queued again, and one waiting out a backoff becomes due now.
   */
  async enqueue(destinationId: string, items: EnqueueItem[], opts: { mode?: EnqueueMode } = {}): Promise<{ accepted: number }> {
    const mode = opts.mode ?? "new";
    if (this.destinationId !== destinationId) {
      if (this.getMeta("destination_id") !== destinationId) this.setMeta("destination_id", destinationId);
      this.destinationId = destinationId;
    }
    const now = Date.now();
    let accepted = 0;
    for (const item of items) {
      const id = item.message.delivery_id;
      if (mode === "new") {
        if (this.sql.exec("SELECT 1 FROM done WHERE delivery_id = ?", id).toArray().length > 0) continue;
      } else this.sql.exec("DELETE FROM done WHERE delivery_id = ?", id);
      const queued = this.sql.exec("SELECT 1 FROM queue WHERE delivery_id = ?", id).toArray().length > 0;
      if (queued) {
        if (mode === "now") {
          this.sql.exec("UPDATE queue SET next_at = ? WHERE delivery_id = ?", now, id);
          accepted++;
        }
        continue;
      }
      this.sql.exec(
        "INSERT INTO queue (delivery_id, message, attempts, next_at) VALUES (?, ?, ?, ?)",
        id,
        JSON.stringify(item.message),
        item.attempts,
        now,
      );
      accepted++;
    }
    // Durable before we answer: if this isolate dies now, the alarm delivers what we accepted.
    if (accepted > 0) {
      await this.ensureAlarmBy(now + LEASE_MS);
      this.kick();
    }
    return { accepted };
  }

  async circuit(): Promise<CircuitView> {
    const dest = await this.loadDestination();
    const b = this.breaker();
    const policy = dest?.circuit_breaker ?? { failure_threshold: 5, cooldown_seconds: 60 };
    const depth = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue").one().n;
    return { state: observedState(b, policy, Date.now()), consecutive_failures: b.consecutive_failures, opened_at: b.opened_at, queue_depth: depth };
  }

  /** Config changed (or the destination was enabled again): reload and resume. */
  async refresh(): Promise<void> {
    this.destination = null;
    this.kick();
  }

  /**
   * A consumer came back (a WebSocket client connected): what was waiting out a backoff
   * becomes due now and the circuit closes, since the cause of the failures is gone.
   * Rate limit, concurrency and order still apply.
   */
  async expedite(): Promise<void> {
    const now = Date.now();
    this.sql.exec("UPDATE queue SET next_at = ? WHERE next_at > ?", now, now);
    this.setBreaker(CLOSED);
    this.kick();
  }

  /** Attempts running now and rows queued: what flow control is bounding (tests, diagnostics). */
  async stats(): Promise<SchedulerStats> {
    return { in_flight: this.inflight.size, queued: this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue").one().n };
  }

  /**
   * The destination's project was deleted: drop its queue, tombstones, breaker and alarm
   * without recording anything (there is nothing left to record into).
   */
  async purge(): Promise<void> {
    this.sql.exec("DELETE FROM queue");
    this.sql.exec("DELETE FROM done");
    this.sql.exec("DELETE FROM meta");
    this.destination = null;
    this.destinationId = null;
    this.breakerState = null;
    this.alarmAt = null;
    await this.ctx.storage.deleteAlarm();
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    this.sql.exec("DELETE FROM done WHERE done_at < ?", Date.now() - DONE_RETENTION_MS);
    // The alarm waits for the attempts it starts; an enqueue does not (the lease alarm covers those).
    await Promise.all(await this.dispatch());
    await this.writer.idle();
  }

  private kick(): void {
    void this.dispatch();
  }

  /** Starts every due attempt the breaker and the concurrency limit allow; returns them unawaited. */
  private async dispatch(): Promise<Promise<void>[]> {
    if (this.dispatching) {
      this.dispatchAgain = true;
      return [];
    }
    this.dispatching = true;
    const started: Promise<void>[] = [];
    try {
      do {
        this.dispatchAgain = false;
        started.push(...(await this.dispatchDue()));
      } while (this.dispatchAgain);
    } catch (err) {
      console.error("scheduler dispatch failed; retrying shortly", { error: String(err) });
      await this.ensureAlarmBy(Date.now() + WRITE_RETRY_MS).catch(() => undefined);
    } finally {
      this.dispatching = false;
    }
    return started;
  }

  private async dispatchDue(): Promise<Promise<void>[]> {
    const dest = await this.loadDestination();
    const flow = dest?.flow ?? DEFAULT_FLOW_CONTROL;
    this.starts.setLimit(dest ? flow.per_second : null);
    const now = Date.now();
    const started: Promise<void>[] = [];
    const free = concurrencyOf(flow) - this.inflight.size;
    if (free > 0 && (dest === null || dest.enabled)) {
      // Ordered: only the head of the queue may go, even while it waits out a backoff.
      const rows = (
        flow.ordered
          ? this.sql.exec<QueueRow>("SELECT seq, delivery_id, message, attempts, next_at FROM queue ORDER BY seq LIMIT 1").toArray().filter((r) => r.next_at <= now)
          : this.sql
              .exec<QueueRow>(
                "SELECT seq, delivery_id, message, attempts, next_at FROM queue WHERE next_at <= ? ORDER BY seq LIMIT ?",
                now,
                free + this.inflight.size,
              )
              .toArray()
      )
        .filter((r) => !this.inflight.has(r.delivery_id))
        .slice(0, free);
      for (const row of rows) {
        if (dest === null) {
          started.push(this.track(row, this.finishOrphan(row)));
          continue;
        }
        if (this.starts.available(now) < 1) break;
        const admission = admit(this.breaker(), dest.circuit_breaker, now);
        if (!admission.allowed) break;
        this.setBreaker(admission.state);
        this.starts.record(now);
        started.push(this.track(row, this.attempt(row, dest)));
      }
    }
    await this.scheduleAlarm(dest);
    return started;
  }

  private track(row: QueueRow, work: Promise<void>): Promise<void> {
    this.inflight.add(row.delivery_id);
    return work.finally(() => {
      this.inflight.delete(row.delivery_id);
      this.kick();
    });
  }

  private async scheduleAlarm(dest: LoadedDestination | null): Promise<void> {
    const now = Date.now();
    let at = this.inflight.size > 0 ? now + LEASE_MS : Number.POSITIVE_INFINITY;
    // Ordered: the head decides; the rows behind it are due but must wait for it.
    const next = dest?.flow.ordered
      ? (this.sql.exec<{ next_at: number }>("SELECT next_at FROM queue ORDER BY seq LIMIT 1").toArray()[0]?.next_at ?? null)
      : this.sql.exec<{ next_at: number | null }>("SELECT MIN(next_at) AS next_at FROM queue").one().next_at;
    if (next !== null) {
      let due = Math.max(next, now);
      const b = this.breaker();
      if (dest && b.state === "open") due = Math.max(due, (b.opened_at ?? now) + dest.circuit_breaker.cooldown_seconds * 1000);
      // Rate limited: the alarm wakes the queue when the window frees its next start.
      if (dest) due = Math.max(due, this.starts.nextStartAt(now));
      // A paused destination wakes through refresh(); a slow heartbeat covers a missed one.
      if (dest && !dest.enabled) due = now + 5 * 60_000;
      // Work is due but every slot is busy: completions will dispatch it; the lease is the backstop.
      if (due <= now) due = now + (this.inflight.size > 0 ? LEASE_MS : 0);
      at = Math.min(at, due);
    }
    if (Number.isFinite(at)) await this.ensureAlarmBy(at);
    else if (this.alarmAt !== null) {
      // Idle: no alarm, so an idle destination costs nothing.
      this.alarmAt = null;
      await this.ctx.storage.deleteAlarm();
    }
  }

  /** Makes sure an alarm fires no later than `at`; an earlier pending alarm is left alone. */
  private async ensureAlarmBy(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    const now = Date.now();
    if (this.alarmAt !== null && this.alarmAt > now && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private async attempt(row: QueueRow, dest: LoadedDestination): Promise<void> {
    const message = JSON.parse(row.message) as OutboundMessage;
    const attemptNumber = row.attempts + 1;
    let result: DeliveryResult;
    let warnings: SchemaError[] | null = null;
    try {
      const prepared = await applyRoute(await resolvePayload(this.env.BODIES, message, attemptNumber), message);
      if (prepared.ok) {
        warnings = prepared.validation_errors;
        const outbound = createOutbound({ fetch: (input, init) => fetch(input, init), allowPrivate: this.env.ALLOW_PRIVATE_DESTINATIONS === "true" });
        const env = this.env;
        const ctx: WebSocketDeliverContext = { outbound, now: Date.now, websockets: { publish: (id, frame) => hubFor(env, id).publish(frame) } };
        result = await dest.provider.deliver(prepared.payload, dest.config, ctx);
      } else result = prepared.result;
    } catch (err) {
      console.error("delivery failed unexpectedly", { destination: message.destination_id, error: String(err) });
      result = { kind: "retryable", error: "internal error while delivering", status_code: null, response_body: null, latency_ms: 0 };
    }
    const now = Date.now();
    const b = this.breaker();
    this.setBreaker(result.kind === "retryable" ? recordFailure(b, dest.circuit_breaker, now) : recordSuccess(b));

    let update: DeliveryUpdate;
    let deadReason: string | null = null;
    if (result.kind === "delivered") update = { status: "delivered", next_attempt_at: null };
    else if (result.kind === "permanent") {
      update = { status: "failed", next_attempt_at: null };
      deadReason = result.error;
    } else {
      const delay = retryDelayMs(dest.retry_policy, { retry: attemptNumber, retry_after_ms: result.retry_after_ms, random: Math.random });
      if (delay === null) {
        update = { status: "failed", next_attempt_at: null };
        deadReason = `retries exhausted: ${result.error}`;
      } else update = { status: "retrying", next_attempt_at: now + delay };
    }
    await this.record(message, attemptNumber, result, update, deadReason, now, warnings);
  }

  /** The destination is gone: its queued deliveries are dead-lettered, not dropped. */
  private async finishOrphan(row: QueueRow): Promise<void> {
    const message = JSON.parse(row.message) as OutboundMessage;
    const result: DeliveryResult = { kind: "permanent", error: "destination was deleted", status_code: null, response_body: null, latency_ms: 0 };
    await this.record(message, row.attempts + 1, result, { status: "failed", next_attempt_at: null }, result.error, Date.now());
  }

  private async record(
    m: OutboundMessage,
    attemptNumber: number,
    result: DeliveryResult,
    update: DeliveryUpdate,
    deadReason: string | null,
    now: number,
    warnings: SchemaError[] | null = null,
  ): Promise<void> {
    const attempt: AttemptRecord = {
      id: newId("attempt", now),
      org_id: m.org_id,
      env_id: m.env_id,
      event_id: m.event_id,
      delivery_id: m.delivery_id,
      destination_id: m.destination_id,
      connection_id: m.connection_id,
      attempt_number: attemptNumber,
      status: result.kind === "delivered" ? "success" : "failed",
      status_code: result.status_code,
      latency_ms: Math.round(result.latency_ms),
      response_body: result.response_body,
      error: result.kind === "delivered" ? null : result.error,
      validation_errors: warnings && warnings.length > 0 ? JSON.stringify(warnings) : null,
      created_at: now,
    };
    const dead = deadReason ? { id: newId("deadLetter", now), reason: deadReason } : null;
    try {
      await this.writer.add(outcomeStatements(this.env.DB, attempt, update, dead));
    } catch (err) {
      console.error("could not record attempt; it will be repeated", { delivery: m.delivery_id, error: String(err) });
      this.sql.exec("UPDATE queue SET next_at = ? WHERE delivery_id = ?", now + WRITE_RETRY_MS, m.delivery_id);
      return;
    }
    if (update.status === "retrying") {
      this.sql.exec("UPDATE queue SET attempts = ?, next_at = ? WHERE delivery_id = ?", attemptNumber, update.next_attempt_at, m.delivery_id);
    } else {
      this.sql.exec("DELETE FROM queue WHERE delivery_id = ?", m.delivery_id);
      this.sql.exec("INSERT OR REPLACE INTO done (delivery_id, done_at) VALUES (?, ?)", m.delivery_id, now);
    }
  }

  private async loadDestination(): Promise<LoadedDestination | null> {
    const now = Date.now();
    if (this.destination && now - this.destination.loadedAt < CONFIG_TTL_MS) return this.destination.value;
    const id = this.getMeta("destination_id");
    if (!id) return null;
    const row = await getDestinationById(database(this.env.DB), id);
    const value = row ? await loadDestinationConfig(row, this.env.ENCRYPTION_KEY) : null;
    this.destination = { value, loadedAt: now };
    return value;
  }

  private breaker(): BreakerState {
    if (!this.breakerState) {
      const raw = this.getMeta("breaker");
      this.breakerState = raw ? (JSON.parse(raw) as BreakerState) : CLOSED;
    }
    return this.breakerState;
  }

  private setBreaker(s: BreakerState): void {
    const before = this.breaker();
    this.breakerState = s;
    // Storage writes are billed: a closed circuit staying closed writes nothing.
    if (JSON.stringify(s) !== JSON.stringify(before)) this.setMeta("breaker", JSON.stringify(s));
  }

  private getMeta(key: string): string | null {
    const rows = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray();
    return rows[0]?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
  }
}
