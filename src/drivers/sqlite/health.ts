/**
 * Queue health on SQLite: per-queue statistics and the stored alert state.
 *
 * The statistics never scan the history: active jobs are read through the partial indexes of
 * their state (claim, scheduled, running), finished ones through the finished-at index over the
 * window only. Failed attempts are the stored errors dated inside the window; a job that failed
 * in the window is either still active or finished after that failure, so those two sets hold
 * every such error.
 */
import type { QueueStats, QueueStatsParams, StoredAlert } from '../../driver/driver.js';
import type { AlertFireParams, AlertResolveParams } from '../../driver/params.js';
import { emptyStats } from '../../driver/queue-stats.js';
import type { SqliteContext } from './context.js';

type ActiveRow = {
  queue: string;
  bucket: 'pending' | 'due' | 'scheduled' | 'running';
  n: number;
  oldest: number | null;
};

const FINISHED_IN_WINDOW = `state IN ('completed', 'abandoned', 'cancelled')
  AND finished_at > @since AND finished_at <= @now`;

/** Build the health methods (synchronous; the driver wraps them in promises). */
export function createHealthMethods(ctx: SqliteContext) {
  const { db } = ctx;

  // One branch per state, so each reads only its partial index (an IN over states would not);
  // pending jobs with a concurrency key wait in their own index (schema 8), so two branches.
  const active = db.prepare(`
    SELECT queue, 'pending' AS bucket, count(*) AS n, min(run_at) AS oldest
      FROM jobwire_jobs WHERE state = 'pending' AND concurrency_key IS NULL GROUP BY queue
    UNION ALL
    SELECT queue, 'pending' AS bucket, count(*) AS n, min(run_at) AS oldest
      FROM jobwire_jobs INDEXED BY jobwire_jobs_flow_waiting
      WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NOT NULL AND state = 'pending' GROUP BY queue
    UNION ALL
    SELECT queue, CASE WHEN run_at <= @now THEN 'due' ELSE 'scheduled' END, count(*), min(run_at)
      FROM jobwire_jobs WHERE state = 'scheduled' GROUP BY 1, 2
    UNION ALL
    SELECT queue, 'running', count(*), NULL FROM jobwire_jobs WHERE state = 'running' GROUP BY queue`);
  // The states are named so the finished-jobs index (state, finish time) serves the window
  // one state's range at a time.
  const finished = db.prepare(`
    SELECT queue, state, count(*) AS n FROM jobwire_jobs
    WHERE ${FINISHED_IN_WINDOW} GROUP BY queue, state`);
  const failures = db.prepare(`
    SELECT j.queue,
      sum(coalesce(json_extract(e.value, '$.interrupted'), 0) = 0) AS failed,
      sum(coalesce(json_extract(e.value, '$.interrupted'), 0) = 1) AS interrupted
    FROM (
      SELECT queue, errors FROM jobwire_jobs WHERE state = 'pending' AND concurrency_key IS NULL AND errors <> '[]'
      UNION ALL SELECT queue, errors FROM jobwire_jobs INDEXED BY jobwire_jobs_flow_waiting
        WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NOT NULL AND state = 'pending'
          AND errors <> '[]'
      UNION ALL SELECT queue, errors FROM jobwire_jobs WHERE state = 'scheduled' AND errors <> '[]'
      UNION ALL SELECT queue, errors FROM jobwire_jobs WHERE state = 'running' AND errors <> '[]'
      UNION ALL SELECT queue, errors FROM jobwire_jobs
        WHERE ${FINISHED_IN_WINDOW} AND errors <> '[]'
    ) j, json_each(j.errors) e
    WHERE json_extract(e.value, '$.at') > @since AND json_extract(e.value, '$.at') <= @now
    GROUP BY j.queue`);
  const settings = db.prepare('SELECT name, paused FROM jobwire_queues');

  function queueStats(params: QueueStatsParams): QueueStats[] {
    const now = ctx.now(params.now);
    const since = now - params.windowMs;
    const byQueue = new Map<string, QueueStats>();
    const entry = (queue: string): QueueStats => {
      let stats = byQueue.get(queue);
      if (!stats) {
        stats = emptyStats(queue);
        byQueue.set(queue, stats);
      }
      return stats;
    };
    // One read transaction: every number describes the same moment.
    db.transaction(() => {
      for (const row of settings.all() as { name: string; paused: number }[]) {
        entry(row.name).paused = row.paused === 1;
      }
      for (const row of active.all({ now }) as ActiveRow[]) {
        const stats = entry(row.queue);
        if (row.bucket === 'running') stats.running += row.n;
        else if (row.bucket === 'scheduled') stats.scheduled += row.n;
        else {
          stats.pending += row.n;
          if (
            row.oldest !== null &&
            (stats.oldestPendingRunAt === null || row.oldest < stats.oldestPendingRunAt)
          ) {
            stats.oldestPendingRunAt = row.oldest;
          }
        }
      }
      for (const row of finished.all({ since, now }) as { queue: string; state: string; n: number }[]) {
        const stats = entry(row.queue);
        if (row.state === 'completed') stats.completed += row.n;
        else if (row.state === 'abandoned') stats.abandoned += row.n;
        else if (row.state === 'cancelled') stats.cancelled += row.n;
      }
      for (const row of failures.all({ since, now }) as {
        queue: string;
        failed: number;
        interrupted: number;
      }[]) {
        const stats = entry(row.queue);
        stats.failedAttempts += row.failed;
        stats.interruptedAttempts += row.interrupted;
      }
    })();
    return [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  const insertAlert = db.prepare(
    `INSERT INTO jobwire_alerts (id, queue, kind, value, threshold, fired_at)
     VALUES (@id, @queue, @kind, @value, @threshold, @firedAt) ON CONFLICT (id) DO NOTHING`,
  );
  const listAlerts = db.prepare(
    'SELECT id, queue, kind, value, threshold, fired_at AS firedAt FROM jobwire_alerts ORDER BY id',
  );
  const deleteAlert = db.prepare('DELETE FROM jobwire_alerts WHERE id = ?');

  function alertFire(params: AlertFireParams): boolean {
    return insertAlert.run({ ...params.alert }).changes === 1;
  }

  function alertList(): StoredAlert[] {
    return listAlerts.all() as StoredAlert[];
  }

  function alertResolve(params: AlertResolveParams): boolean {
    return deleteAlert.run(params.id).changes === 1;
  }

  return { alertFire, alertList, alertResolve, queueStats };
}
