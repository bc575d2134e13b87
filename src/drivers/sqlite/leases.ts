/**
 * Leases on SQLite: heartbeats, progress, giving jobs back, and rescuing jobs whose worker died.
 * Every write is fenced by the lease token (`FENCE`), like finalisation in `jobs.ts`.
 */
import type { EpochMs, StoredError } from '../../core/types.js';
import {
  CHANNELS,
  DEFAULT_MAX_INTERRUPTIONS,
  type Lease,
  type ReleaseLease,
  type RescuedJob,
} from '../../driver/driver.js';
import { CLEAR_LEASE_SQL, FENCE, type SqliteContext } from './context.js';
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

  // A release keeps the job's due time, so it waits where it waited before (ahead of jobs
  // enqueued after it); `run_at` is in the past, so the job is due at once.
  const releaseJob = db.prepare(
    `UPDATE jobwire_jobs
     SET state = 'pending', attempt = attempt - 1, started_at = NULL, ${CLEAR_LEASE_SQL}
     ${FENCE}
     RETURNING queue, state`,
  );
  // A cut-off attempt: an interruption. Below the budget it is a release plus the recorded error;
  // the interruption that reaches the budget abandons the job (keeping its last attempt number).
  const interruptJob = db.prepare(
    `UPDATE jobwire_jobs
     SET state = CASE WHEN interruptions + 1 >= @max THEN 'abandoned' ELSE 'pending' END,
         attempt = CASE WHEN interruptions + 1 >= @max THEN attempt ELSE attempt - 1 END,
         started_at = CASE WHEN interruptions + 1 >= @max THEN started_at END,
         finished_at = CASE WHEN interruptions + 1 >= @max THEN @now END,
         interruptions = interruptions + 1,
         errors = json_insert(errors, '$[#]', json(@error)), ${CLEAR_LEASE_SQL}
     WHERE id = @id AND state = 'running' AND lease_token = @token
     RETURNING queue, state`,
  );
  const releaseTx = db.transaction((leases: readonly ReleaseLease[], max: number, now: EpochMs) => {
    const released: string[] = [];
    const queues = new Set<string>();
    for (const lease of leases) {
      const id = parseId(lease.id);
      if (id === undefined) continue;
      const row = (
        lease.interruption === undefined
          ? releaseJob.get(id, lease.leaseToken)
          : interruptJob.get({
              max,
              now,
              error: JSON.stringify({ ...lease.interruption, interrupted: true }),
              id,
              token: lease.leaseToken,
            })
      ) as { queue: string; state: string } | undefined;
      if (!row) continue;
      released.push(lease.id);
      if (row.state === 'pending') queues.add(row.queue);
    }
    return { released, queues };
  });

  function jobRelease(params: {
    leases: readonly ReleaseLease[];
    maxInterruptions?: number;
    now?: EpochMs;
  }): string[] {
    if (params.leases.length === 0) return [];
    const max = params.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS;
    const { released, queues } = releaseTx.immediate(params.leases, max, ctx.now(params.now));
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
  // An expired lease is an interruption, not a failure (see Driver.jobRescueExpired): the attempt
  // number is given back and `run_at` stays, so the job keeps its place in the queue; the
  // interruption that reaches the budget abandons the job instead (keeping its attempt number).
  const rescueExpired = db.prepare(
    `UPDATE jobwire_jobs
     SET state = CASE WHEN interruptions + 1 >= @max THEN 'abandoned' ELSE 'pending' END,
         attempt = CASE WHEN interruptions + 1 >= @max THEN attempt ELSE attempt - 1 END,
         finished_at = CASE WHEN interruptions + 1 >= @max THEN @now END,
         interruptions = interruptions + 1,
         errors = json_insert(errors, '$[#]', json(@error)), ${CLEAR_LEASE_SQL}
     WHERE id = @id AND state = 'running' AND lease_token = @token
     RETURNING state, interruptions`,
  );

  type ExpiredRow = Pick<
    JobRow,
    'id' | 'task' | 'queue' | 'attempt' | 'max_attempts' | 'correlation_id' | 'worker_id' | 'lease_token'
  > & { lease_expires_at: number };

  const rescueTx = db.transaction((limit: number, max: number, now: EpochMs) => {
    const rescued: RescuedJob[] = [];
    for (const row of findExpired.all(now, limit) as ExpiredRow[]) {
      const error: StoredError = {
        name: 'LeaseExpiredError',
        message:
          `lease expired at ${new Date(row.lease_expires_at).toISOString()} while running on worker ` +
          `${row.worker_id ?? '(unknown)'}; the worker died or stopped heart-beating`,
        attempt: row.attempt,
        at: now,
        interrupted: true,
      };
      const written = rescueExpired.get({
        max,
        now,
        error: JSON.stringify(error),
        id: row.id,
        token: row.lease_token,
      }) as { state: 'pending' | 'abandoned'; interruptions: number } | undefined;
      if (!written) continue;
      rescued.push({
        id: String(row.id),
        task: row.task,
        queue: row.queue,
        attempt: row.attempt,
        maxAttempts: row.max_attempts,
        interruptions: written.interruptions,
        correlationId: row.correlation_id,
        previousWorkerId: row.worker_id,
        leaseExpiredAt: row.lease_expires_at,
        newState: written.state,
      });
    }
    return rescued;
  });

  function jobRescueExpired(params: {
    limit: number;
    maxInterruptions?: number;
    now?: EpochMs;
  }): RescuedJob[] {
    if (params.limit < 1) return [];
    const max = params.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS;
    const rescued = rescueTx.immediate(params.limit, max, ctx.now(params.now));
    const queues = new Set(rescued.filter((job) => job.newState === 'pending').map((job) => job.queue));
    for (const queue of queues) ctx.notifier.notify(CHANNELS.jobAvailable, queue);
    return rescued;
  }

  return { jobHeartbeatMany, jobProgress, jobRelease, jobRescueExpired };
}
