/**
 * An enqueue that starts its job at once for a pool of this process (`DirectStart` in
 * driver/params.ts): in one IMMEDIATE transaction the job is inserted and, when a claim by that
 * pool would take it first, claimed by id right away — the claim's own UPDATE, lease and
 * `job:started` — so the pool runs it without a claim transaction of its own (about half of the
 * time from enqueue to start on this driver).
 */
import { claimedEvent, queuedEvent } from '../../core/job-events.js';
import type { EpochMs } from '../../core/types.js';
import type { DirectStart, JobInsertParams, JobInsertResult } from '../../driver/driver.js';
import { CHANNELS } from '../../driver/driver.js';
import type { LogEntry } from '../../driver/event-log.js';
import { packedQueued, packedStarted } from '../../driver/event-pack.js';
import { insertedJobRecord, startedJob } from '../../driver/inserted-record.js';
import { livenessNow, type SqliteContext, START_ATTEMPT_SQL } from './context.js';
import type { InsertRow } from './dedup.js';
import { eventWriterOf } from './events.js';
import { observerOf } from './liveness.js';
import { CLAIM_COLUMNS, type ClaimTuple, rowToClaimed } from './row.js';

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
  const startById = db
    .prepare(`UPDATE jobwire_jobs SET ${START_ATTEMPT_SQL} WHERE id = @id RETURNING ${CLAIM_COLUMNS}`)
    .raw(true);

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
    const go = wouldClaimFirst(job.queue, job.priority, start.queues, now);
    // A candidate has no unique key, so nothing can skip the row.
    const { id } = insertRow(job, 'pending', now, now)!;
    const queued = insertedJobRecord(job, { id: String(id), state: 'pending', runAt: now, createdAt: now });
    const entries: LogEntry[] = [
      packedQueued(queued, now) ?? { type: 'job:queued', data: queuedEvent(queued, now) },
    ];
    if (!go) {
      if (log) writer.append(entries, now);
      return { result: { job: queued, duplicate: false } as JobInsertResult, expiresAt: 0 };
    }
    const expiresAt = Math.floor(now + start.leaseMs);
    const row = startById.get({
      id,
      expiresAt,
      leaseMs: Math.ceil(start.leaseMs),
      poolId: start.poolId,
      now,
    }) as ClaimTuple;
    const claimed = rowToClaimed(row);
    if (log) {
      entries.push(
        packedStarted(claimed, start.poolId) ?? {
          type: 'job:started',
          data: claimedEvent(claimed, start.poolId),
        },
      );
      writer.append(entries, now);
    }
    const fields = {
      id: claimed.id,
      runAt: now,
      createdAt: now,
      startedAt: claimed.startedAt,
      leaseToken: claimed.leaseToken,
    };
    const { record } = startedJob(job, fields, start);
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
