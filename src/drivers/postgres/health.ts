/**
 * Queue health on PostgreSQL: per-queue statistics and the stored alert state (`<schema>.alerts`).
 *
 * One statement, so every number describes the same snapshot. It never scans the history: active
 * jobs are read through the claim and rescue indexes, finished ones through the finished-at index
 * over the window only. Failed attempts are the stored errors dated inside the window; a job that
 * failed in the window is either still active or finished after that failure, so those two sets
 * hold every such error.
 */
import type { QueueStats, QueueStatsParams, StoredAlert } from '../../driver/driver.js';
import type { AlertFireParams, AlertResolveParams } from '../../driver/params.js';
import { emptyStats } from '../../driver/queue-stats.js';
import type { PgContext } from './context.js';
import { epochMs, nowSql } from './row.js';

// Predicates, each exactly one partial index's (claim, flow_waiting, rescue): a planner proves a
// partial index usable only from a predicate that implies its own, which one IN over all three
// does not. Waiting jobs with a concurrency key have their own index (schema 8), hence a union.
const waitingJobs = (s: string): string => `(
  SELECT * FROM ${s}.jobs WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NULL
  UNION ALL
  SELECT * FROM ${s}.jobs WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NOT NULL)`;
const RUNNING = `j.state = 'running'`;
// The states are named so the finished-jobs index (state, finish time) serves the window.
const IN_WINDOW = `j.state IN ('completed', 'abandoned', 'cancelled')
  AND j.finished_at > w.since AND j.finished_at <= w.now`;
const ERRORS_IN_WINDOW = `CROSS JOIN LATERAL jsonb_array_elements(j.errors) e
  WHERE j.errors <> '[]'::jsonb AND (e->>'at')::float8 > w.since_ms AND (e->>'at')::float8 <= w.now_ms`;
const FAILURE_BUCKET = `CASE WHEN (e->>'interrupted')::boolean IS TRUE THEN 'interrupted' ELSE 'failed' END`;

const statsSql = (s: string): string => `
WITH c AS (SELECT ${nowSql('$1')} AS now),
w AS (
  SELECT now, now - $2::float8 * interval '1 millisecond' AS since,
    ${epochMs('now')} AS now_ms, ${epochMs('now')} - $2::float8 AS since_ms
  FROM c
)
SELECT j.queue, CASE WHEN j.state = 'pending' OR j.run_at <= w.now THEN 'pending' ELSE 'scheduled' END AS bucket,
  count(*)::int AS n, ${epochMs('min(j.run_at)')} AS oldest
FROM w, ${waitingJobs(s)} j GROUP BY 1, 2
UNION ALL
SELECT j.queue, 'running', count(*)::int, NULL FROM w, ${s}.jobs j WHERE ${RUNNING} GROUP BY 1
UNION ALL
SELECT j.queue, j.state, count(*)::int, NULL FROM w, ${s}.jobs j WHERE ${IN_WINDOW} GROUP BY 1, 2
UNION ALL
SELECT j.queue, ${FAILURE_BUCKET}, count(*)::int, NULL
FROM w, ${waitingJobs(s)} j ${ERRORS_IN_WINDOW} GROUP BY 1, 2
UNION ALL
SELECT j.queue, ${FAILURE_BUCKET}, count(*)::int, NULL
FROM w, ${s}.jobs j ${ERRORS_IN_WINDOW} AND ${RUNNING} GROUP BY 1, 2
UNION ALL
SELECT j.queue, ${FAILURE_BUCKET}, count(*)::int, NULL
FROM w, ${s}.jobs j ${ERRORS_IN_WINDOW} AND ${IN_WINDOW} GROUP BY 1, 2
UNION ALL
SELECT name, CASE WHEN paused THEN 'paused' ELSE 'settings' END, 0, NULL FROM ${s}.queues`;

interface StatsRow {
  queue: string;
  bucket: string;
  n: number;
  oldest: number | null;
}

export async function queueStats(ctx: PgContext, params: QueueStatsParams): Promise<QueueStats[]> {
  ctx.assertOpen();
  const rows = await ctx.query<StatsRow>('queueStats', statsSql(ctx.s), [
    params.now ?? null,
    params.windowMs,
  ]);
  const byQueue = new Map<string, QueueStats>();
  for (const row of rows) {
    let stats = byQueue.get(row.queue);
    if (!stats) {
      stats = emptyStats(row.queue);
      byQueue.set(row.queue, stats);
    }
    switch (row.bucket) {
      case 'pending':
        stats.pending += row.n;
        stats.oldestPendingRunAt = row.oldest;
        break;
      case 'scheduled':
        stats.scheduled += row.n;
        break;
      case 'running':
        stats.running += row.n;
        break;
      case 'completed':
        stats.completed += row.n;
        break;
      case 'abandoned':
        stats.abandoned += row.n;
        break;
      case 'cancelled':
        stats.cancelled += row.n;
        break;
      case 'failed':
        stats.failedAttempts += row.n;
        break;
      case 'interrupted':
        stats.interruptedAttempts += row.n;
        break;
      case 'paused':
        stats.paused = true;
        break;
    }
  }
  // In code-unit order, the same on every database whatever its collation.
  return [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
}

const alertColumns = `id, queue, kind, value, threshold, ${epochMs('fired_at')} AS "firedAt"`;

export async function alertFire(ctx: PgContext, params: AlertFireParams): Promise<boolean> {
  const { id, queue, kind, value, threshold, firedAt } = params.alert;
  const rows = await ctx.query(
    'alertFire',
    `INSERT INTO ${ctx.s}.alerts (id, queue, kind, value, threshold, fired_at)
     VALUES ($1, $2, $3, $4, $5, to_timestamp($6::float8 / 1000)) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [id, queue, kind, value, threshold, firedAt],
  );
  return rows.length === 1;
}

export async function alertList(ctx: PgContext): Promise<StoredAlert[]> {
  // ORDER BY in code-unit order whatever the database's collation.
  return ctx.query<StoredAlert>(
    'alertList',
    `SELECT ${alertColumns} FROM ${ctx.s}.alerts ORDER BY id COLLATE "C"`,
  );
}

export async function alertResolve(ctx: PgContext, params: AlertResolveParams): Promise<boolean> {
  const rows = await ctx.query('alertResolve', `DELETE FROM ${ctx.s}.alerts WHERE id = $1 RETURNING id`, [
    params.id,
  ]);
  return rows.length === 1;
}
