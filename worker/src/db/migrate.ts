/**
 * The Worker applies its own D1 migrations: a D1 created by Pulumi starts empty and nobody
 * runs `wrangler d1 migrations apply` against it. Recorded in wrangler's own `d1_migrations`
 * table, so a database migrated by wrangler (or the test pool) and one migrated here agree.
 */
import { MIGRATIONS, type EmbeddedMigration } from "./migrations.generated.js";

export const MIGRATIONS_TABLE = "d1_migrations";

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE}(
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		name       TEXT UNIQUE,
		applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);`;

async function appliedNames(d1: D1Database): Promise<Set<string> | null> {
  try {
    const { results } = await d1.prepare(`SELECT name FROM ${MIGRATIONS_TABLE}`).all<{ name: string }>();
    return new Set(results.map((r) => r.name));
  } catch (err) {
    if (/no such table/i.test(String((err as Error).message))) return null;
    throw err;
  }
}

/**
 * Applies every migration not yet recorded, each file with its `d1_migrations` row in one
 * batch (all or nothing). The row is inserted first: when another isolate got there before
 * us, its UNIQUE name aborts our batch before any DDL runs, and we carry on.
 * Returns the names applied by this call.
 */
export async function migrate(d1: D1Database, migrations: readonly EmbeddedMigration[] = MIGRATIONS): Promise<string[]> {
  let applied = await appliedNames(d1);
  if (applied && migrations.every((m) => applied!.has(m.name))) return [];
  if (!applied) {
    await d1.prepare(CREATE_TABLE).run();
    applied = (await appliedNames(d1)) ?? new Set();
  }
  const done: string[] = [];
  for (const m of migrations) {
    if (applied.has(m.name)) continue;
    try {
      await d1.batch([d1.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (name) VALUES (?)`).bind(m.name), ...m.statements.map((s) => d1.prepare(s))]);
      done.push(m.name);
    } catch (err) {
      const now = await appliedNames(d1);
      if (!now?.has(m.name)) throw err;
    }
  }
  return done;
}

const migrated = new WeakSet<D1Database>();

/**
 * Once per isolate and database: one `SELECT name FROM d1_migrations` when all are applied.
 * Only a finished run is remembered (concurrent first requests each check; see declared/sync.ts).
 */
export async function ensureMigrated(d1: D1Database): Promise<void> {
  if (migrated.has(d1)) return;
  await migrate(d1);
  migrated.add(d1);
}
