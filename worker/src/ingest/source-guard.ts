import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { takeToken, type Bucket } from "./token-bucket.js";
import type { RateLimit } from "./source-policy.js";
import { REJECTION_REASONS, type RejectionReason } from "./rejections.js";

export { REJECTION_REASONS, type RejectionReason };

export type TakeResult = { ok: true } | { ok: false; retry_after_seconds: number };

export interface RejectionStats {
  since: number;
  counts: Record<RejectionReason, number>;
  /** Hourly buckets (epoch ms of the hour) with their non-zero counts, oldest first. */
  hourly: { hour: number; counts: Partial<Record<RejectionReason, number>> }[];
  last: { reason: RejectionReason; message: string; at: number } | null;
}

const HOUR_MS = 3_600_000;
/** Counters older than this are pruned. */
const RETENTION_MS = 8 * 24 * HOUR_MS;

/**
 * One per source: its rate limit (a token bucket, in memory — an evicted object starts with
 * a full bucket, which only ever errs towards accepting) and its rejection counters
 * (SQLite, hourly buckets). Rejections are counted here rather than in D1 so a flood of
 * bad requests costs this source's object, not the database every tenant shares.
 */
export class SourceGuard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private bucket: Bucket | null = null;
  private prunedAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS counters (
      hour INTEGER NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (hour, reason))`);
    this.sql.exec("CREATE TABLE IF NOT EXISTS last (id INTEGER PRIMARY KEY CHECK (id = 1), reason TEXT NOT NULL, message TEXT NOT NULL, at INTEGER NOT NULL)");
  }

  /** Takes one request's token; a refusal is counted as `rate_limited`. */
  take(limit: RateLimit): TakeResult {
    const now = Date.now();
    const taken = takeToken(this.bucket, limit, now);
    this.bucket = taken.bucket;
    if (taken.ok) return { ok: true };
    this.count("rate_limited", `more than ${limit.per_second} requests per second`, now);
    return { ok: false, retry_after_seconds: taken.retry_after_seconds };
  }

  count(reason: RejectionReason, message: string, at: number = Date.now()): void {
    const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
    this.sql.exec(
      "INSERT INTO counters (hour, reason, count) VALUES (?, ?, 1) ON CONFLICT (hour, reason) DO UPDATE SET count = count + 1",
      hour,
      reason,
    );
    this.sql.exec(
      "INSERT INTO last (id, reason, message, at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, message = excluded.message, at = excluded.at",
      reason,
      message.slice(0, 300),
      at,
    );
    if (at - this.prunedAt > HOUR_MS) {
      this.prunedAt = at;
      this.sql.exec("DELETE FROM counters WHERE hour < ?", at - RETENTION_MS);
    }
  }

  stats(since: number): RejectionStats {
    const counts = Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as Record<RejectionReason, number>;
    const byHour = new Map<number, Partial<Record<RejectionReason, number>>>();
    const rows = this.sql.exec<{ hour: number; reason: string; count: number }>(
      "SELECT hour, reason, count FROM counters WHERE hour >= ? ORDER BY hour",
      Math.floor(since / HOUR_MS) * HOUR_MS,
    );
    for (const row of rows) {
      const reason = row.reason as RejectionReason;
      if (!(reason in counts)) continue;
      counts[reason] += row.count;
      const bucket = byHour.get(row.hour) ?? {};
      bucket[reason] = row.count;
      byHour.set(row.hour, bucket);
    }
    const last = this.sql.exec<{ reason: string; message: string; at: number }>("SELECT reason, message, at FROM last").toArray()[0];
    return {
      since,
      counts,
      hourly: [...byHour].map(([hour, c]) => ({ hour, counts: c })),
      last: last ? { reason: last.reason as RejectionReason, message: last.message, at: last.at } : null,
    };
  }
}
