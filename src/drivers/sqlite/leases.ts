/**
 * Leases on SQLite: heartbeats, progress, giving jobs back, and rescuing jobs whose worker died.
 * Every write is fenced by the lease token (`FENCE`), like finalisation in `jobs.ts`.
 */
import type { EpochMs, StoredError } from '../../core/types.js';
import { CHANNELS, type Lease, type RescuedJob } from '../../driver/driver.js';
import { APPEND_ERROR_SQL, CLEAR_LEASE_SQL, FENCE, type SqliteContext } from './context.js';
import { type JobRow, parseId } from './row.js';

/** Build the lease methods (synchronous; the driver wraps them in promises). */
export function createLeaseMethods(ctx: SqliteContext) {
  const { db } = ctx;

  // -- heartbeat, progress, release ------------------------------------------------------------

  const heartbeat = db.prepare(
    `UPDATE jobwire_jobs SET lease_expires_at = ?, progress = coalesce(?, progress) ${FENCE}`,
  );
  const heartbeatTx = db.transaction(
    (leases: readonly (Lease & { progressJson?: string })[], expiresAt: EpochMs) => {
      const lost: string[] = [];
      for (const lease of leases) {
        const id = parseId(lease.id);
        const held =
          id !== undefined &&
          heartbeat.run(expiresAt, lease.progressJson ?? null, id, lease.leaseToken).changes === 1;
        if (!held) lost.push(lease.id);
      }
      return lost;
    },
  );

  function jobHeartbeatMany(params: {
    leases: readonly (Lease & { progressJson?: string })[];
    leaseMs: number;
    now?: EpochMs;
  }): string[] {
    if (params.leases.length === 0) return [];
    return heartbeatTx.immediate(params.leases, Math.floor(ctx.now(params.now) + params.leaseMs));
  }

  const setProgress = db.prepare(`UPDATE jobwire_jobs SET progress = ? ${FENCE}`);

  function jobProgress(params: Lease & { progressJson: string }): boolean {
    const id = parseId(params.id);
    return id !== undefined && setProgress.run(params.progressJson, id, params.leaseToken).changes === 1;
  }

  const releaseJob = db.prepare(
    `UPDATE jobwire_jobs
     SET state = 'pending', run_at = ?, attempt = attempt - 1, started_at = NULL, ${CLEAR_LEASE_SQL}
     ${FENCE}
     RETURNING queue`,
  );
  const releaseTx = db.transaction((leases: readonly Lease[], now: EpochMs) => {
    const released: string[] = [];
    const queues = new Set<string>();
    for (const lease of leases) {
      const id = parseId(lease.id);
      if (id === undefined) continue;
      const row = releaseJob.get(now, id, lease.leaseToken) as { queue: string } | undefined;
      if (!row) continue;
      released.push(lease.id);
      queues.add(row.queue);
    }
    return { released, queues };
  });

  function jobRelease(params: { leases: readonly Lease[]; now?: EpochMs }): string[] {
    if (params.leases.length === 0) return [];
    const { released, queues } = releaseTx.immediate(params.leases, ctx.now(params.now));
    for (const queue of queues) ctx.notifier.notify(CHANNELS.jobAvailable, queue);
    return released;
  }

  // -- rescue ----------------------------------------------------------------------------------

  const findExpired = db.prepare(
    `SELECT id, task, queue, attempt, max_attempts, correlation_id, worker_id, lease_expires_at, lease_token
     FROM jobwire_jobs
     WHERE state = 'running' AND lease_expires_at < ?
     ORDER BY lease_expires_at, id
     LIMIT ?`,
  );
  const requeueExpired = db.prepare(
    `UPDATE jobwire_jobs SET state = 'pending', run_at = ?, ${APPEND_ERROR_SQL}, ${CLEAR_LEASE_SQL} ${FENCE}`,
  );
  const abandonExpired = db.prepare(
    `UPDATE jobwire_jobs SET state = 'abandoned', finished_at = ?, ${APPEND_ERROR_SQL}, ${CLEAR_LEASE_SQL} ${FENCE}`,
  );

  type ExpiredRow = Pick<
    JobRow,
    'id' | 'task' | 'queue' | 'attempt' | 'max_attempts' | 'correlation_id' | 'worker_id' | 'lease_token'
  > & { lease_expires_at: number };

  const rescueTx = db.transaction((limit: number, now: EpochMs) => {
    const rescued: RescuedJob[] = [];
    for (const row of findExpired.all(now, limit) as ExpiredRow[]) {
      const error: StoredError = {
        name: 'LeaseExpiredError',
        message:
          `lease expired at ${new Date(row.lease_expires_at).toISOString()} while running on worker ` +
          `${row.worker_id ?? '(unknown)'}; the worker died or stopped heart-beating`,
        attempt: row.attempt,
        at: now,
      };
      const attemptsLeft = row.attempt < row.max_attempts;
      const statement = attemptsLeft ? requeueExpired : abandonExpired;
      statement.run(now, JSON.stringify(error), row.id, row.lease_token);
      rescued.push({
        id: String(row.id),
        task: row.task,
        queue: row.queue,
        attempt: row.attempt,
        maxAttempts: row.max_attempts,
        correlationId: row.correlation_id,
        previousWorkerId: row.worker_id,
        leaseExpiredAt: row.lease_expires_at,
        newState: attemptsLeft ? 'pending' : 'abandoned',
      });
    }
    return rescued;
  });

  function jobRescueExpired(params: { limit: number; now?: EpochMs }): RescuedJob[] {
    if (params.limit < 1) return [];
    const rescued = rescueTx.immediate(params.limit, ctx.now(params.now));
    const queues = new Set(rescued.filter((job) => job.newState === 'pending').map((job) => job.queue));
    for (const queue of queues) ctx.notifier.notify(CHANNELS.jobAvailable, queue);
    return rescued;
  }

  return { jobHeartbeatMany, jobProgress, jobRelease, jobRescueExpired };
}
