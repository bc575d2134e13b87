/**
 * An enqueue that starts its job at once for a pool of this process (`DirectStart` in
 * driver/params.ts): in one IMMEDIATE transaction the job is inserted — already running under a
 * first lease, as a claim would leave it, with `job:queued` (pending) and `job:started` in the
 * log, when a claim by that pool would take it first; pending otherwise — so the pool runs it
 * without a claim transaction of its own (about half of the time from enqueue to start here).
 */
import { claimedEvent, queuedEvent } from '../../core/job-events.js';
import type { EpochMs, JobRecord } from '../../core/types.js';
import type { DirectStart, JobInsertParams, JobInsertResult } from '../../driver/driver.js';
import { CHANNELS } from '../../driver/driver.js';
import type { LogEntry } from '../../driver/event-log.js';
import { packedQueued, packedStarted } from '../../driver/event-pack.js';
import { insertedJobRecord, startedJob } from '../../driver/inserted-record.js';
import { livenessNow, type SqliteContext } from './context.js';
import type { InsertRow } from './dedup.js';
import { eventWriterOf } from './events.js';
import { observerOf } from './liveness.js';

/** The log's `job:queued` of a stored job (compact when its times allow). */
const queuedEntry = (job: JobRecord, now: EpochMs): LogEntry =>
  packedQueued(job, now) ?? { type: 'job:queued', data: queuedEvent(job, now) };

/** Build `insertStarted` (synchronous; the driver wraps it in a promise). */
export function createStartedInserter(ctx: SqliteContext, insertRow: InsertRow) {
  const { db } = ctx;
  const writer = eventWriterOf(ctx);
  const observer = observerOf(ctx);
  const paused = db.prepare(`SELECT 1 FROM jobwire_queues WHERE name = ? AND paused = 1`).pluck();
  const queueRule = db.prepare(`SELECT 1 FROM jobwire_flow_rules WHERE queue = ? AND pattern = ''`).pluck();
  // What a claim would take before the new job: a due unkeyed waiting job of at least its
  // priority (older, as ids and due times only grow). Pending ones through the claim index;
  // scheduled ones that came due are promoted by the next claim, so they count too.
  const pendingAhead = db
    .prepare(
      `SELECT 1 FROM jobwire_jobs INDEXED BY jobwire_jobs_claim
       WHERE queue = ? AND state = 'pending' AND concurrency_key IS NULL AND priority >= ? LIMIT 1`,
    )
    .pluck();
  const dueAhead = db
    .prepare(
      `SELECT 1 FROM jobwire_jobs INDEXED BY jobwire_jobs_scheduled
       WHERE state = 'scheduled' AND run_at <= ? AND queue = ? AND concurrency_key IS NULL
         AND priority >= ? LIMIT 1`,
    )
    .pluck();
  // The claimed row straight away (START_ATTEMPT_SQL's values for a first attempt): inserting
  // it pending and then claiming it by id cost a second write of the row and its claim-index
  // entry, about a fifth of a direct start.
  const insertRunning = db.prepare(
    `INSERT INTO jobwire_jobs (task, queue, payload, state, priority, max_attempts, run_at, created_at,
       correlation_id, metadata, timeout_ms, backoff, attempt, lease_token, lease_expires_at, lease_ms,
       heartbeat_seq, worker_id, started_at)
     VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, 0, ?, ?)`,
  );

  /** Whether a claim by the pool, now, would take a new job of `queue` at `priority` first. */
  const wouldClaimFirst = (queue: string, priority: number, queues: readonly string[], now: EpochMs) => {
    if (paused.get(queue) !== undefined || queueRule.get(queue) !== undefined) return false;
    for (const served of new Set(queues)) {
      if (paused.get(served) !== undefined) continue;
      if (pendingAhead.get(served, priority) !== undefined) return false;
      if (dueAhead.get(now, served, priority) !== undefined) return false;
    }
    return true;
  };

  const insertTx = db.transaction((job: JobInsertParams, start: DirectStart, now: EpochMs, log: boolean) => {
    if (!wouldClaimFirst(job.queue, job.priority, start.queues, now)) {
      // A candidate has no unique key, so nothing can skip the row.
      const { id } = insertRow(job, 'pending', now, now)!;
      const queued = insertedJobRecord(job, { id: String(id), state: 'pending', runAt: now, createdAt: now });
      if (log) writer.append([queuedEntry(queued, now)], now);
      return { result: { job: queued, duplicate: false } as JobInsertResult, expiresAt: 0 };
    }
    const expiresAt = Math.floor(now + start.leaseMs);
    const { lastInsertRowid } = insertRunning.run(
      job.task,
      job.queue,
      job.payloadJson,
      job.priority,
      job.maxAttempts,
      now,
      now,
      job.correlationId,
      job.metadataJson,
      job.timeoutMs,
      job.backoff === null ? null : JSON.stringify(job.backoff),
      expiresAt,
      Math.ceil(start.leaseMs),
      start.poolId,
      now,
    );
    const fields = { id: String(lastInsertRowid), runAt: now, createdAt: now, startedAt: now, leaseToken: 1 };
    const { record, claimed } = startedJob(job, fields, start);
    if (log) {
      const queued = { ...record, state: 'pending' as const };
      const started = packedStarted(claimed, start.poolId) ?? {
        type: 'job:started',
        data: claimedEvent(claimed, start.poolId),
      };
      writer.append([queuedEntry(queued, now), started], now);
    }
    return { result: { job: record, duplicate: false, started: claimed } as JobInsertResult, expiresAt };
  });

  /** Insert `job` (a `directStartCandidate`), started for `start`'s pool when a claim would take it. */
  function insertStarted(
    job: JobInsertParams,
    start: DirectStart,
    log: boolean,
    given: EpochMs | undefined,
  ): JobInsertResult {
    const { result, expiresAt } = insertTx.immediate(job, start, ctx.now(given), log);
    if (!result.started) {
      ctx.notifier.notify(CHANNELS.jobAvailable, job.queue);
      return result;
    }
    // As after a claim: the lease is alive as of now, on the clock the rescuer measures with.
    const seen = livenessNow(given);
    observer.jobWritten(
      Number(result.started.id),
      { seq: 0, expiresAt, token: result.started.leaseToken },
      seen,
    );
    return result;
  }

  return { insertStarted };
}
