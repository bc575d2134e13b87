/**
 * Queue health on SQLite: per-queue statistics and the stored alert state.
 *
 * The statistics cost what they report, not the backlog or the history (every read names its
 * index, so a changed index fails loudly instead of turning into a scan):
 *
 * - waiting jobs: per queue (found by skipping from one queue to the next), at most `exactUpTo +
 *   1` entries of the waiting-jobs index (queue, run_at, state; schema 13) in run-at order, read
 *   from the index alone: the due ones come first, so the first is the oldest due job and counts
 *   past the cap are flagged `atLeast` (`addWaitingRead`);
 * - running jobs through their partial index; finished ones through the finished-jobs index
 *   (state, finish time) over the window only.
 *
 * Failed and interrupted attempts are the stored errors dated inside the window, read from the
 * running jobs, the jobs finished in the window, and the waiting jobs that can hold such an
 * error: those with an error and run_at > since, and the interrupted ones with run_at <= since
 * (the rule and its proof for every path that stores an error: drivers/postgres/health.ts; the
 * SQLite paths in jobs.ts, leases.ts and admin.ts write run_at, attempt and interruptions the
 * same way). Both sets sit in small partial indexes (schema 13) that fresh jobs never enter.
 */
import type { QueueStats, QueueStatsParams, StoredAlert } from '../../driver/driver.js';
import type { AlertFireParams, AlertResolveParams } from '../../driver/params.js';
import { addWaitingRead, emptyStats, sortStats } from '../../driver/queue-stats.js';
import type { SqliteContext } from './context.js';

const WAITING = "state IN ('pending', 'scheduled')";
const FINISHED_IN_WINDOW = `state IN ('completed', 'abandoned', 'cancelled')
  AND finished_at > @since AND finished_at <= @now`;

/** The statements of `queueStats`, exported for the plan test. */
export const STATS_SQL = {
  /** The next queue with waiting jobs after @after ('' for the first). */
  nextQueue: `SELECT queue FROM jobwire_jobs INDEXED BY jobwire_jobs_waiting
    WHERE ${WAITING} AND queue > @after ORDER BY queue LIMIT 1`,
  /** One queue's waiting jobs, up to @limit in run-at order (due: pending, or run-at passed). */
  waiting: `SELECT count(*) AS n, coalesce(sum(due), 0) AS due, min(CASE WHEN due THEN run_at END) AS oldest,
      coalesce(max(NOT due), 0) AS endsNotDue
    FROM (SELECT run_at, state = 'pending' OR run_at <= @now AS due
      FROM jobwire_jobs INDEXED BY jobwire_jobs_waiting
      WHERE ${WAITING} AND queue = @queue ORDER BY run_at LIMIT @limit)`,
  running: `SELECT queue, count(*) AS n FROM jobwire_jobs INDEXED BY jobwire_jobs_running
    WHERE state = 'running' GROUP BY queue`,
  // The states are named so the finished-jobs index (state, finish time) serves the window
  // one state's range at a time.
  finished: `SELECT queue, state, count(*) AS n FROM jobwire_jobs INDEXED BY jobwire_jobs_finished
    WHERE ${FINISHED_IN_WINDOW} GROUP BY queue, state`,
  /**
   * Completions whose rows were deleted as they completed, by the second they happened in: the
   * seconds after the one the window starts in, up to the current one (as on PostgreSQL).
   */
  deleted: `SELECT queue, sum(n) AS n FROM jobwire_deleted_completions
    WHERE at_second > @since / 1000 AND at_second <= @now / 1000 GROUP BY queue`,
  failures: `SELECT j.queue,
      sum(coalesce(json_extract(e.value, '$.interrupted'), 0) = 0) AS failed,
      sum(coalesce(json_extract(e.value, '$.interrupted'), 0) = 1) AS interrupted
    FROM (
      SELECT queue, errors FROM jobwire_jobs INDEXED BY jobwire_jobs_waiting_failed
        WHERE ${WAITING} AND errors <> '[]' AND run_at > @since
      UNION ALL SELECT queue, errors FROM jobwire_jobs INDEXED BY jobwire_jobs_waiting_interrupted
        WHERE ${WAITING} AND interruptions > 0 AND run_at <= @since
      UNION ALL SELECT queue, errors FROM jobwire_jobs INDEXED BY jobwire_jobs_running
        WHERE state = 'running' AND errors <> '[]'
      UNION ALL SELECT queue, errors FROM jobwire_jobs INDEXED BY jobwire_jobs_finished
        WHERE ${FINISHED_IN_WINDOW} AND errors <> '[]'
    ) j, json_each(j.errors) e
    WHERE json_extract(e.value, '$.at') > @since AND json_extract(e.value, '$.at') <= @now
    GROUP BY j.queue`,
};

/** Build the health methods (synchronous; the driver wraps them in promises). */
export function createHealthMethods(ctx: SqliteContext) {
  const { db } = ctx;
  const nextQueue = db.prepare(STATS_SQL.nextQueue).pluck();
  const waiting = db.prepare(STATS_SQL.waiting);
  const running = db.prepare(STATS_SQL.running);
  const finished = db.prepare(STATS_SQL.finished);
  const failures = db.prepare(STATS_SQL.failures);
  const deleted = db.prepare(STATS_SQL.deleted);
  const settings = db.prepare('SELECT name, paused FROM jobwire_queues');

  function queueStats(params: QueueStatsParams): QueueStats[] {
    const now = ctx.now(params.now);
    const since = now - params.windowMs;
    const limit = params.exactUpTo + 1;
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
      // One seek per queue with waiting jobs, then one capped read of it.
      for (let queue = nextQueue.get({ after: '' }) as string | undefined; queue !== undefined; ) {
        const read = waiting.get({ queue, now, limit }) as {
          n: number;
          due: number;
          oldest: number | null;
          endsNotDue: number;
        };
        addWaitingRead(
          entry(queue),
          { seen: read.n, due: read.due, oldestDue: read.oldest, endsNotDue: read.endsNotDue === 1 },
          limit,
        );
        queue = nextQueue.get({ after: queue }) as string | undefined;
      }
      for (const row of running.all() as { queue: string; n: number }[]) entry(row.queue).running += row.n;
      for (const row of finished.all({ since, now }) as { queue: string; state: string; n: number }[]) {
        const stats = entry(row.queue);
        if (row.state === 'completed') stats.completed += row.n;
        else if (row.state === 'abandoned') stats.abandoned += row.n;
        else if (row.state === 'cancelled') stats.cancelled += row.n;
      }
      const seconds = { since: Math.floor(since / 1000) * 1000, now: Math.floor(now / 1000) * 1000 };
      for (const row of deleted.all(seconds) as { queue: string; n: number }[])
        entry(row.queue).completed += row.n;
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
    return sortStats(byQueue.values());
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
