/**
 * Queue health on PostgreSQL: per-queue statistics and the stored alert state (`<schema>.alerts`).
 *
 * One statement, so every number describes the same snapshot, and its cost is bounded by what it
 * reports, not by the backlog or the history:
 *
 * - waiting jobs: per queue (found by skipping from one queue to the next), at most `exactUpTo +
 *   1` entries of `jobs_waiting` (queue, run_at, state; schema 13) in run-at order: the due ones
 *   first, so the first is the oldest due job and counts past the cap are flagged `atLeast`
 *   (`addWaitingRead`);
 * - running jobs through `jobs_rescue` (as many as workers hold);
 * - finished jobs through `jobs_finished` (state, finish time) over the window only.
 *
 * Failed and interrupted attempts are the stored errors dated inside the window. A job that
 * failed in the window is running, finished after that failure (in the window), or waiting; a
 * waiting one can hold such an error only if it is in one of two small indexes (schema 13):
 *
 * Rule: a waiting job holding an error dated after `since` has `run_at > since`, or was
 * interrupted (`interruptions > 0`). Every path that appends an error or moves run-at keeps it:
 * - a failed attempt retried (jobs-lease.ts, finalize): run_at = the finalize's now + delay, at or
 *   after the error's date (the runtime dates the error when the attempt ends, then finalizes);
 * - a later snooze (run_at = now + delay) or manual retry of an abandoned job (jobs-admin.ts:
 *   run_at = now, attempt and interruptions reset to 0, errors kept) only move run_at forward,
 *   past every error already stored;
 * - an interruption (release with an error, jobs-lease.ts; rescue of an expired lease,
 *   jobs-rescue.ts) keeps run_at (the job keeps its place) and gives the attempt number back (a
 *   job cut off in its first attempt waits with attempt 0), so `attempt > 0` would miss it — but
 *   it counts the interruption: interruptions > 0 until a manual retry, which moves run_at to now.
 * So the waiting branch reads `jobs_waiting_failed` (waiting with an error) from run_at > since,
 * and `jobs_waiting_interrupted` up to since (disjoint: the two together read each job once).
 * Fresh jobs are in neither. The latter holds the interrupted jobs still waiting: at most what
 * was running when they were cut off, and they keep their place at the head of the queue.
 */
import type { QueueStats, QueueStatsParams, StoredAlert } from '../../driver/driver.js';
import type { AlertFireParams, AlertResolveParams } from '../../driver/params.js';
import { addWaitingRead, emptyStats, sortStats } from '../../driver/queue-stats.js';
import type { PgContext } from './context.js';
import { epochMs, nowSql } from './row.js';

// Each predicate is exactly one partial index's: a planner proves a partial index usable only
// from a predicate that implies its own.
const WAITING = `j.state IN ('pending', 'scheduled')`;
const RUNNING = `j.state = 'running'`;
// Now and the window's start as expressions of the parameters, not columns of a CTE: the planner
// estimates a range on an expression from its value (a CTE's column is opaque to it). With the
// window read from a CTE it took the finished jobs in the window for a third of them, and on 5
// million finished jobs read their errors by a parallel sequential scan (2.2 s) instead of the
// finished-jobs index.
const NOW = nowSql('$1');
const SINCE = `(${NOW} - $2::float8 * interval '1 millisecond')`;
const NOW_MS = epochMs(NOW);
const SINCE_MS = `(${NOW_MS} - $2::float8)`;
// The states are named so the finished-jobs index (state, finish time) serves the window.
const IN_WINDOW = `j.state IN ('completed', 'abandoned', 'cancelled')
  AND j.finished_at > ${SINCE} AND j.finished_at <= ${NOW}`;
// Completions whose rows were deleted as they completed, counted by the second they happened in:
// the seconds after the one the window starts in, up to the current one (a window's first
// fraction of a second is left out rather than a second before it counted).
const DELETED_IN_WINDOW = `c.at_second > floor(${SINCE_MS} / 1000) AND c.at_second <= floor(${NOW_MS} / 1000)`;
const ERRORS_IN_WINDOW = `CROSS JOIN LATERAL jsonb_array_elements(j.errors) e
  WHERE j.errors <> '[]'::jsonb AND (e->>'at')::float8 > ${SINCE_MS} AND (e->>'at')::float8 <= ${NOW_MS}`;
const FAILURE_BUCKET = `CASE WHEN (e->>'interrupted')::boolean IS TRUE THEN 'interrupted' ELSE 'failed' END`;
const NO_WAITING = 'NULL::int, NULL::float8, NULL::boolean';

/** The statement of `queueStats` ($1 now or null, $2 window, $3 the waiting read's limit). */
export const statsSql = (s: string): string => `
WITH RECURSIVE queues(name) AS (
  SELECT (SELECT j.queue FROM ${s}.jobs j WHERE ${WAITING} ORDER BY j.queue LIMIT 1)
  UNION ALL
  SELECT (SELECT j.queue FROM ${s}.jobs j WHERE ${WAITING} AND j.queue > q.name ORDER BY j.queue LIMIT 1)
  FROM queues q WHERE q.name IS NOT NULL
)
SELECT q.name AS queue, 'waiting' AS bucket, count(*)::int AS n, (count(*) FILTER (WHERE x.due))::int AS due,
  ${epochMs('min(x.run_at) FILTER (WHERE x.due)')} AS oldest, bool_or(NOT x.due) AS ends_not_due
FROM queues q CROSS JOIN LATERAL (
  SELECT j.run_at, j.state = 'pending' OR j.run_at <= ${NOW} AS due
  FROM ${s}.jobs j WHERE j.queue = q.name AND ${WAITING} ORDER BY j.run_at LIMIT $3
) x
WHERE q.name IS NOT NULL GROUP BY 1
UNION ALL
SELECT j.queue, 'running', count(*)::int, ${NO_WAITING} FROM ${s}.jobs j WHERE ${RUNNING} GROUP BY 1
UNION ALL
SELECT j.queue, j.state, count(*)::int, ${NO_WAITING} FROM ${s}.jobs j WHERE ${IN_WINDOW} GROUP BY 1, 2
UNION ALL
SELECT j.queue, ${FAILURE_BUCKET}, count(*)::int, ${NO_WAITING}
FROM ${s}.jobs j ${ERRORS_IN_WINDOW} AND ${WAITING} AND j.run_at > ${SINCE} GROUP BY 1, 2
UNION ALL
SELECT j.queue, ${FAILURE_BUCKET}, count(*)::int, ${NO_WAITING}
FROM ${s}.jobs j ${ERRORS_IN_WINDOW} AND ${WAITING} AND j.interruptions > 0 AND j.run_at <= ${SINCE}
GROUP BY 1, 2
UNION ALL
SELECT j.queue, ${FAILURE_BUCKET}, count(*)::int, ${NO_WAITING}
FROM ${s}.jobs j ${ERRORS_IN_WINDOW} AND ${RUNNING} GROUP BY 1, 2
UNION ALL
SELECT j.queue, ${FAILURE_BUCKET}, count(*)::int, ${NO_WAITING}
FROM ${s}.jobs j ${ERRORS_IN_WINDOW} AND ${IN_WINDOW} GROUP BY 1, 2
UNION ALL
SELECT c.queue, 'completed', sum(c.n)::int, ${NO_WAITING} FROM ${s}.deleted_completions c
WHERE ${DELETED_IN_WINDOW} GROUP BY 1
UNION ALL
SELECT name, CASE WHEN paused THEN 'paused' ELSE 'settings' END, 0, ${NO_WAITING} FROM ${s}.queues`;

interface StatsRow {
  queue: string;
  bucket: string;
  n: number;
  due: number | null;
  oldest: number | null;
  ends_not_due: boolean | null;
}

export async function queueStats(ctx: PgContext, params: QueueStatsParams): Promise<QueueStats[]> {
  ctx.assertOpen();
  const limit = params.exactUpTo + 1;
  const rows = await ctx.transaction('queueStats', async (client) => {
    // As in queueCounts: the planner prices each per-queue read at the cap, past jit_above_cost
    // on a large table, and compiling would take longer than the reads.
    await ctx.query('queueStats', 'SET LOCAL jit = off', [], client, false);
    // Not prepared: a custom plan sees the limit; a generic one might prefer a scan to the index.
    return ctx.query<StatsRow>(
      'queueStats',
      statsSql(ctx.s),
      [params.now ?? null, params.windowMs, limit],
      client,
      false,
    );
  });
  const byQueue = new Map<string, QueueStats>();
  for (const row of rows) {
    let stats = byQueue.get(row.queue);
    if (!stats) {
      stats = emptyStats(row.queue);
      byQueue.set(row.queue, stats);
    }
    switch (row.bucket) {
      case 'waiting':
        addWaitingRead(
          stats,
          { seen: row.n, due: row.due ?? 0, oldestDue: row.oldest, endsNotDue: row.ends_not_due === true },
          limit,
        );
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
  return sortStats(byQueue.values());
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
