/**
 * Leases on SQLite: heartbeats (which also store progress), giving jobs back, and rescuing jobs whose worker died.
 * Every write is fenced by the lease token (`FENCE`), like finalization in `jobs.ts`.
 *
 * A lease has expired when the rescuer watched it go unchanged for longer than its `lease_ms`
 * on its own monotonic clock (liveness.ts): processes sharing the file need not agree on the
 * time, and a wall-clock step cannot expire a live lease. `lease_expires_at` (the writer's wall
 * clock) is kept for display and for `RescuedJob.leaseExpiredAt`.
 */
import type { EpochMs, StoredError } from '../../core/types.js';
import { dependentEntry } from '../../driver/dependencies.js';
import {
  CHANNELS,
  DEFAULT_MAX_INTERRUPTIONS,
  type HeartbeatLease,
  type JobHeartbeatManyParams,
  type JobReleaseParams,
  type JobRescueExpiredParams,
  type ReleaseLease,
  type RescuedJob,
} from '../../driver/driver.js';
import { entriesJson, type LogEntry } from '../../driver/event-log.js';
import { LEASE_EXPIRED_ERROR_NAME, leaseExpiredMessage } from '../../driver/lease-expired.js';
import { CLEAR_LEASE_SQL, FENCE, livenessNow, type SqliteContext } from './context.js';
import { dependenciesOf } from './dependencies.js';
import { eventWriterOf } from './events.js';
import { type LivenessReading, observerOf } from './liveness.js';
import { type JobRow, parseId } from './row.js';

/** Build the lease methods (synchronous; the driver wraps them in promises). */
export function createLeaseMethods(ctx: SqliteContext) {
  const { db } = ctx;
  const writer = eventWriterOf(ctx);
  const observer = observerOf(ctx);

  // -- heartbeat, release --------------------------------------------------------------------

  // Every heartbeat bumps `heartbeat_seq`: the rescuer sees the lease alive by watching it
  // change (see liveness.ts), not by comparing `lease_expires_at` — written from this process's
  // wall clock, kept for display — with a clock of its own.
  const heartbeat = db.prepare(
    `UPDATE jobwire_jobs
     SET lease_expires_at = ?, lease_ms = ?, heartbeat_seq = heartbeat_seq + 1, progress = coalesce(?, progress)
     ${FENCE}
     RETURNING heartbeat_seq`,
  );
  const heartbeatTx = db.transaction(
    (leases: readonly HeartbeatLease[], expiresAt: EpochMs, leaseMs: number) => {
      const lost: string[] = [];
      const held: { id: number; token: number; seq: number }[] = [];
      for (const lease of leases) {
        const id = parseId(lease.id);
        const row =
          id === undefined
            ? undefined
            : (heartbeat.get(expiresAt, leaseMs, lease.progressJson ?? null, id, lease.leaseToken) as
                | { heartbeat_seq: number }
                | undefined);
        if (id === undefined || row === undefined) lost.push(lease.id);
        else held.push({ id, token: lease.leaseToken, seq: row.heartbeat_seq });
      }
      return { lost, held };
    },
  );

  function jobHeartbeatMany(params: JobHeartbeatManyParams): string[] {
    if (params.leases.length === 0) return [];
    const expiresAt = Math.floor(ctx.now(params.now) + params.leaseMs);
    const { lost, held } = heartbeatTx.immediate(params.leases, expiresAt, Math.ceil(params.leaseMs));
    // Read after the commit: the lease is alive at least as late as this.
    const seen = livenessNow(params.now);
    for (const { id, token, seq } of held) observer.jobWritten(id, { token, seq, expiresAt }, seen);
    for (const id of lost) {
      const parsed = parseId(id);
      if (parsed !== undefined) observer.forgetJob(parsed);
    }
    return lost;
  }

  // A release keeps the job's due time, so it waits where it waited before (ahead of jobs
  // enqueued after it); `run_at` is in the past, so the job is due at once.
  const releaseJob = db.prepare(
    `UPDATE jobwire_jobs
     SET state = 'pending', attempt = attempt - 1, started_at = NULL, ${CLEAR_LEASE_SQL}
     ${FENCE}
     RETURNING queue, state, dependents`,
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
     RETURNING queue, state, dependents`,
  );
  const releaseTx = db.transaction((leases: readonly ReleaseLease[], max: number, now: EpochMs) => {
    const released: string[] = [];
    const queues = new Set<string>();
    const logged: LogEntry[] = [];
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
      ) as { queue: string; state: string; dependents: number } | undefined;
      if (!row) continue;
      released.push(lease.id);
      if (lease.events) logged.push(...lease.events);
      if (row.state === 'pending') queues.add(row.queue);
      // Abandoned by this interruption: what waits for it gets its policy, in this transaction.
      if (row.state === 'abandoned' && row.dependents > 0) {
        for (const change of dependenciesOf(ctx).failed(id, now)) {
          if (lease.events) logged.push(dependentEntry(change));
          if (change.state === 'pending') queues.add(change.queue);
        }
      }
    }
    if (logged.length > 0) writer.appendJson(entriesJson(logged), released, now);
    return { released, queues };
  });

  function jobRelease(params: JobReleaseParams): string[] {
    if (params.leases.length === 0) return [];
    const max = params.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS;
    const { released, queues } = releaseTx.immediate(params.leases, max, ctx.now(params.now));
    for (const lease of params.leases) {
      const id = parseId(lease.id);
      if (id !== undefined) observer.forgetJob(id);
    }
    for (const queue of queues) ctx.notifier.notify(CHANNELS.jobAvailable, queue);
    return released;
  }

  // -- rescue ----------------------------------------------------------------------------------

  type ExpiredRow = Pick<
    JobRow,
    'id' | 'task' | 'queue' | 'attempt' | 'max_attempts' | 'correlation_id' | 'worker_id' | 'lease_token'
  > & { lease_expires_at: number };
  type RunningRow = ExpiredRow & { heartbeat_seq: number; lease_ms: number | null };

  // Every running job: few (at most the pools' concurrency), read through the partial index of
  // running jobs. Which of them expired is decided by observation (see liveness.ts).
  const findRunning = db.prepare(
    `SELECT id, task, queue, attempt, max_attempts, correlation_id, worker_id, lease_expires_at, lease_token,
            heartbeat_seq, lease_ms
     FROM jobwire_jobs
     WHERE state = 'running'`,
  );

  /**
   * The running jobs whose lease state stayed unchanged for longer than their lease on this
   * process's liveness clock, longest overdue first, at most `limit`. A job claimed before
   * schema 2 (no `lease_ms`) falls back to its stored expiry against `now`.
   */
  function findExpired(limit: number, now: EpochMs, seen: LivenessReading): ExpiredRow[] {
    const rows = findRunning.all() as RunningRow[];
    const expired: { row: RunningRow; overdueMs: number }[] = [];
    for (const row of rows) {
      const state = { token: row.lease_token, seq: row.heartbeat_seq, expiresAt: row.lease_expires_at };
      const silentMs = observer.jobSilentFor(row.id, state, seen);
      const overdueMs = row.lease_ms === null ? now - (row.lease_expires_at ?? now) : silentMs - row.lease_ms;
      if (overdueMs > 0) expired.push({ row, overdueMs });
    }
    observer.keepOnlyJobs(new Set(rows.map((row) => row.id)));
    expired.sort((a, b) => b.overdueMs - a.overdueMs || a.row.id - b.row.id);
    return expired.slice(0, limit).map(({ row }) => {
      observer.forgetJob(row.id);
      return row;
    });
  }

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
     RETURNING state, interruptions, dependents`,
  );

  const rescueTx = db.transaction((limit: number, max: number, now: EpochMs, given: EpochMs | undefined) => {
    const rescued: RescuedJob[] = [];
    // The liveness clock is read once the write lock is held, so a heartbeat that committed
    // while this sweep waited for the lock is never taken for silence.
    for (const row of findExpired(limit, now, livenessNow(given))) {
      const error: StoredError = {
        name: LEASE_EXPIRED_ERROR_NAME,
        message: leaseExpiredMessage(row.lease_expires_at, row.worker_id),
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
      }) as { state: 'pending' | 'abandoned'; interruptions: number; dependents: number } | undefined;
      if (!written) continue;
      const dependents =
        written.state === 'abandoned' && written.dependents > 0
          ? dependenciesOf(ctx).failed(row.id, now)
          : [];
      rescued.push({
        ...(dependents.length > 0 ? { dependents } : {}),
        id: String(row.id),
        task: row.task,
        queue: row.queue,
        attempt: row.attempt,
        maxAttempts: row.max_attempts,
        interruptions: written.interruptions,
        correlationId: row.correlation_id,
        previousPoolId: row.worker_id,
        leaseExpiredAt: row.lease_expires_at,
        error,
        newState: written.state,
      });
    }
    return rescued;
  });

  function jobRescueExpired(params: JobRescueExpiredParams): RescuedJob[] {
    if (params.limit < 1) return [];
    const max = params.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS;
    const rescued = rescueTx.immediate(params.limit, max, ctx.now(params.now), params.now);
    const queues = new Set(rescued.filter((job) => job.newState === 'pending').map((job) => job.queue));
    for (const job of rescued) {
      for (const change of job.dependents ?? []) if (change.state === 'pending') queues.add(change.queue);
    }
    for (const queue of queues) ctx.notifier.notify(CHANNELS.jobAvailable, queue);
    return rescued;
  }

  return { jobHeartbeatMany, jobRelease, jobRescueExpired };
}
