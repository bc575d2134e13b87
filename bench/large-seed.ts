// The large jobs table of bench/counts.ts and bench/http-large.ts, filled with bulk SQL (bench
// only: no client, no event log). Not a script: `import { seedLargeTable } from './large-seed.js'`.
//
// `pending` pending jobs (99 % in queue `bulk`, the rest in `email`), then 1,000 scheduled jobs
// (an hour ahead), then `finished` finished ones (98 % completed, 1 % abandoned, 1 % cancelled,
// over `email`, `bulk` and `reports`, finished one millisecond apart up to now), then 50 pending
// jobs in `reports`. Each row's queue and state follow from its number alone, so both databases
// get the same table. Rows go in chunks of `chunk` (one statement each, `onChunk` after each).
// PostgreSQL is then VACUUM ANALYZEd: what autovacuum does to a freshly loaded table.
import Database from 'better-sqlite3';
import pg from 'pg';

export interface LargeSeedOptions {
  /** A SQLite file (migrated) or a postgres:// URL. */
  target: string;
  /** PostgreSQL schema holding the (migrated) jobs table. Default `jobwire`. */
  schema?: string;
  pending: number;
  finished: number;
  /** Rows per statement. Default 500,000. */
  chunk?: number;
  /** Called after each chunk with the rows written so far and the total. */
  onChunk?: (done: number, total: number) => void;
}

/** Scheduled jobs between the pending and the finished ones. */
export const SCHEDULED = 1000;
/** Pending jobs in the small queue `reports`, written last. */
export const SMALL_QUEUE_PENDING = 50;

// Pending: i in [1, p]; scheduled: the next 1,000; finished: the rest.
const QUEUE = (i: string, p: string) =>
  `CASE WHEN ${i} <= ${p} THEN (CASE WHEN ${i} % 100 = 0 THEN 'email' ELSE 'bulk' END)
        WHEN ${i} % 3 = 0 THEN 'email' WHEN ${i} % 3 = 1 THEN 'bulk' ELSE 'reports' END`;
const STATE = (i: string, p: string) =>
  `CASE WHEN ${i} <= ${p} THEN 'pending' WHEN ${i} <= ${p} + ${SCHEDULED} THEN 'scheduled'
        WHEN ${i} % 100 = 7 THEN 'abandoned' WHEN ${i} % 100 = 8 THEN 'cancelled' ELSE 'completed' END`;

/** Fill the jobs table at `options.target` (see the module comment). */
export async function seedLargeTable(options: LargeSeedOptions): Promise<void> {
  const { target, pending, finished } = options;
  const schema = options.schema ?? 'jobwire';
  const chunk = options.chunk ?? 500_000;
  const now = Date.now();
  const total = pending + SCHEDULED + finished;
  const ranges: [number, number][] = [];
  for (let lo = 1; lo <= total; lo += chunk) ranges.push([lo, Math.min(total, lo + chunk - 1)]);

  if (target.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      for (const [lo, hi] of ranges) {
        await client.query(
          `INSERT INTO ${schema}.jobs (task, queue, payload, state, max_attempts, run_at, created_at, finished_at,
            correlation_id, attempt)
          SELECT 't', ${QUEUE('g', '$2::int')}, '{}', ${STATE('g', '$2::int')}, 3,
            to_timestamp(($1::float8 + CASE WHEN g > $2::int AND g <= $2::int + ${SCHEDULED} THEN 3600000 ELSE 0 END) / 1000.0),
            to_timestamp($1::float8 / 1000.0),
            CASE WHEN g > $2::int + ${SCHEDULED} THEN to_timestamp(($1::float8 - $3::int + g) / 1000.0) END, 'c', 1
          FROM generate_series($4::int, $5::int) g`,
          [now, pending, total, lo, hi],
        );
        options.onChunk?.(hi, total);
      }
      await client.query(
        `INSERT INTO ${schema}.jobs (task, queue, payload, state, max_attempts, run_at, created_at, correlation_id)
        SELECT 't', 'reports', '{}', 'pending', 3, now(), now(), 'c' FROM generate_series(1, ${SMALL_QUEUE_PENDING})`,
      );
      // What autovacuum does to a freshly loaded table (PostgreSQL 13+ vacuums after inserts too):
      // statistics, and the visibility map that lets index-only scans skip the heap.
      await client.query(`VACUUM ANALYZE ${schema}.jobs`);
    } finally {
      await client.end();
    }
    return;
  }

  const db = new Database(target);
  try {
    const insert = db.prepare(`WITH RECURSIVE n(i) AS (SELECT @lo UNION ALL SELECT i + 1 FROM n WHERE i < @hi)
      INSERT INTO jobwire_jobs (task, queue, payload, state, max_attempts, run_at, created_at, finished_at,
        correlation_id, attempt)
      SELECT 't', ${QUEUE('i', '@p')}, '{}', ${STATE('i', '@p')}, 3,
        @now + CASE WHEN i > @p AND i <= @p + ${SCHEDULED} THEN 3600000 ELSE 0 END, @now,
        CASE WHEN i > @p + ${SCHEDULED} THEN @now - @total + i END, 'c', 1 FROM n`);
    for (const [lo, hi] of ranges) {
      insert.run({ lo, hi, total, p: pending, now });
      options.onChunk?.(hi, total);
    }
    db.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${SMALL_QUEUE_PENDING})
      INSERT INTO jobwire_jobs (task, queue, payload, state, max_attempts, run_at, created_at, correlation_id)
      SELECT 't', 'reports', '{}', 'pending', 3, @now, @now, 'c' FROM n`).run({ now });
  } finally {
    db.close();
  }
}
