/**
 * The job life cycle on SQLite, hot path first: insert, claim (claim.ts), finalize.
 *
 * Every write that moves a running job is fenced with `state = 'running' AND lease_token = ?`
 * (`FENCE`), so a worker whose lease was rescued, cancelled or deleted can no longer touch the
 * row. Writes that span several statements run in IMMEDIATE transactions: they take the write
 * lock up front, so two processes never deadlock upgrading a read lock.
 */
import { deduplicatedEvent } from '../../core/dedup.js';
import { queuedEvent } from '../../core/job-events.js';
import { storedErrorJson } from '../../core/serialize.js';
import type { EpochMs, JobState } from '../../core/types.js';
import { blockedOnInsertEntries, dependentEntry } from '../../driver/dependencies.js';
import {
  CHANNELS,
  type DependentChange,
  type FinalizeItem,
  type FinalizeResult,
  type JobFinalizeManyParams,
  type JobInsertManyParams,
  type JobInsertManyResult,
  type JobInsertParams,
  type JobInsertResult,
  type QueueLimitExceeded,
} from '../../driver/driver.js';
import { entriesJson, type LogEntry, withDueTime } from '../../driver/event-log.js';
import { packedQueued } from '../../driver/event-pack.js';
import { directStartCandidate, insertedJobRecord } from '../../driver/inserted-record.js';
import { createClaimMethods } from './claim.js';
import {
  ACTIVE_BY_UNIQUE_KEY_SQL,
  APPEND_ERROR_SQL,
  CLEAR_LEASE_SQL,
  FENCE,
  type SqliteContext,
} from './context.js';
import { createDedupInserter } from './dedup.js';
import { dependenciesOf } from './dependencies.js';
import { eventWriterOf } from './events.js';
import type { FlowMethods } from './flow.js';
import { keyMarker } from './flow-keys.js';
import { createStartedInserter } from './insert-started.js';
import { observerOf } from './liveness.js';
import { type JobRow, parseId, rowToRecord } from './row.js';

/** Thrown inside the insert transaction to roll it back when a queue is full. */
class QueueFullAbort {
  constructor(readonly limit: QueueLimitExceeded) {}
}

/** The `dependents` column a finishing write returns. */
type Dependents = { dependents: number };

/** Build the job life-cycle methods (synchronous; the driver wraps them in promises). */
export function createJobMethods(ctx: SqliteContext, flowClaim: FlowMethods['flowClaim']) {
  const { db } = ctx;
  const writer = eventWriterOf(ctx);
  const observer = observerOf(ctx);
  const dependencies = () => dependenciesOf(ctx);
  const { jobClaim } = createClaimMethods(ctx, flowClaim);
  const markKey = keyMarker(db);

  // -- insert ----------------------------------------------------------------------------------

  const insertJob = db.prepare(
    `INSERT INTO jobwire_jobs (task, queue, payload, state, priority, max_attempts, run_at, created_at,
       unique_key, correlation_id, metadata, timeout_ms, backoff, dedup, dedup_key, concurrency_key)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  /**
   * Insert one row due at `runAt` (skipped when its unique key is held); every insert comes here.
   * `run` and the connection's last rowid, not `RETURNING id`: RETURNING stages each row for a
   * result set, on every job enqueued.
   */
  const insertRow = (
    job: JobInsertParams,
    state: JobState,
    runAt: EpochMs,
    now: EpochMs,
  ): { id: number } | undefined => {
    const rule = job.dedup ?? null;
    const { changes, lastInsertRowid } = insertJob.run(
      job.task,
      job.queue,
      job.payloadJson,
      state,
      job.priority,
      job.maxAttempts,
      runAt,
      now,
      job.uniqueKey,
      job.correlationId,
      job.metadataJson,
      job.timeoutMs,
      job.backoff === null ? null : JSON.stringify(job.backoff),
      rule === null ? null : JSON.stringify(rule),
      rule === null || rule.rule === 'unique' ? null : rule.key,
      job.concurrencyKey ?? null,
    );
    // DO NOTHING skipped the row: only the unique index makes it do so.
    if (changes !== 1) return undefined;
    // Waiting work for its key (flow-keys.ts); a blocked job's key is marked when it is released.
    if (job.concurrencyKey != null && (state === 'pending' || state === 'scheduled'))
      markKey(job.queue, job.concurrencyKey);
    return { id: Number(lastInsertRowid) };
  };
  const dedup = createDedupInserter(ctx, insertRow);
  const { insertStarted } = createStartedInserter(ctx, insertRow);
  const activeByUniqueKey = db.prepare(ACTIVE_BY_UNIQUE_KEY_SQL);
  const countWaiting = db.prepare(
    `SELECT count(*) AS n FROM jobwire_jobs WHERE queue = ? AND state IN ('scheduled', 'pending')`,
  );

  const insertTx = db.transaction(
    (
      jobs: readonly JobInsertParams[],
      limits: ReadonlyMap<string, number> | undefined,
      now: EpochMs,
      log: boolean,
    ) => {
      const results: JobInsertResult[] = [];
      // Only duplicates and debounces need their own entries; `job:queued` ones are built below.
      const ruledEntries = new Map<number, LogEntry>();
      const newByQueue = new Map<string, number>();
      const queuesWithPending = new Set<string>();
      // Checked before the first row is written (throws on an unknown or failed dependency).
      const plans = jobs.some((job) => job.dependsOn?.length) ? dependencies().planInsert(jobs) : undefined;
      const ids: number[] = [];
      for (const [index, job] of jobs.entries()) {
        if (job.dedup) {
          // Never with dependsOn (refused before it gets here): its id only keeps `ids` aligned.
          const { result, added, entry } = dedup.apply(job, now);
          ids.push(Number(result.job.id));
          if (entry.type !== 'job:queued') ruledEntries.set(results.length, entry);
          results.push(result);
          if (added) newByQueue.set(job.queue, (newByQueue.get(job.queue) ?? 0) + 1);
          const wrote = added || result.matchedBy === 'debounce';
          if (wrote && result.job.state === 'pending') queuesWithPending.add(job.queue);
          continue;
        }
        const runAt = Math.floor(job.runAt ?? now + job.delayMs);
        const blocked = (plans?.[index]?.waiting ?? 0) > 0;
        const state: JobState = blocked ? 'blocked' : runAt > now ? 'scheduled' : 'pending';
        const row = insertRow(job, state, runAt, now);
        if (row) {
          ids.push(row.id);
          // Only the id is read back: the rest of the record is what we just wrote.
          const record = insertedJobRecord(job, { id: String(row.id), state, runAt, createdAt: now });
          results.push({ job: record, duplicate: false });
          // maxPending counts waiting jobs (scheduled, pending): a blocked one is not, until released.
          if (!blocked) newByQueue.set(job.queue, (newByQueue.get(job.queue) ?? 0) + 1);
          if (state === 'pending') queuesWithPending.add(job.queue);
          continue;
        }
        // Only the unique index can make DO NOTHING skip a row, so an active holder exists.
        const existingRow = activeByUniqueKey.get(job.uniqueKey) as JobRow;
        ids.push(existingRow.id);
        const existing = rowToRecord(existingRow);
        results.push({ job: existing, duplicate: true, matchedBy: 'unique' });
        const entry = {
          type: 'job:deduplicated',
          data: deduplicatedEvent(existing, 'unique', job.uniqueKey!, now),
        };
        ruledEntries.set(results.length - 1, entry);
      }
      if (plans) {
        dependencies().insertEdges(plans, ids);
        plans.forEach((plan, index) => {
          if (!plan || plan.waiting === 0) return;
          const idOf = (edge: (typeof plan.edges)[number]) =>
            String(typeof edge.target === 'number' ? edge.target : ids[edge.target.index]);
          results[index]!.blockedOn = plan.edges
            .filter((edge) => edge.state === 'waiting' || edge.state === 'stuck')
            .map(idOf);
          const stuck = plan.edges.filter((edge) => edge.state === 'stuck').map(idOf);
          if (stuck.length > 0) results[index]!.stuckOn = stuck;
        });
      }
      // A batch that only repeats existing unique jobs adds nothing, so it cannot overfill a queue.
      for (const [queue, added] of newByQueue) {
        const maxPending = limits?.get(queue);
        if (maxPending === undefined) continue;
        const { n } = countWaiting.get(queue) as { n: number };
        if (n > maxPending)
          throw new QueueFullAbort({ queue, maxPending, pending: n - added, adding: added });
      }
      if (log) {
        const entries: LogEntry[] = [];
        results.forEach((r, i) => {
          const ruled = ruledEntries.get(i);
          if (ruled) entries.push(ruled);
          else if (!r.duplicate)
            entries.push(packedQueued(r.job, now) ?? { type: 'job:queued', data: queuedEvent(r.job, now) });
        });
        for (const r of results)
          if (!r.duplicate && r.blockedOn)
            entries.push(...blockedOnInsertEntries(r.job, r.blockedOn, now, r.stuckOn));
        writer.append(entries, now);
      }
      return { results, queuesWithPending };
    },
  );

  function jobInsertMany(params: JobInsertManyParams): JobInsertManyResult {
    if (params.jobs.length === 0) return { inserted: [] };
    const candidate = directStartCandidate(params);
    if (candidate)
      return { inserted: [insertStarted(candidate, params.start!, params.log === true, params.now)] };
    const now = ctx.now(params.now);
    let outcome: ReturnType<typeof insertTx>;
    try {
      outcome = insertTx.immediate(params.jobs, params.maxPendingByQueue, now, params.log === true);
    } catch (err) {
      if (err instanceof QueueFullAbort) return { queueFull: err.limit };
      throw err;
    }
    for (const queue of outcome.queuesWithPending) ctx.notifier.notify(CHANNELS.jobAvailable, queue);
    return { inserted: outcome.results };
  }

  // -- finalize --------------------------------------------------------------------------------

  // Jobs that edges name (`dependents` > 0) are finished by the `…WithDependents` statements,
  // which return the count so the edges are resolved in the same transaction. Most jobs have
  // none: their statement stays a plain UPDATE (a RETURNING clause costs SQLite about as much
  // again), and only a refused write is tried with the other statement.
  const completeJob = db.prepare(
    `UPDATE jobwire_jobs SET state = 'completed', result = ?, finished_at = ?, ${CLEAR_LEASE_SQL} ${FENCE}
     AND dependents = 0`,
  );
  const completeWithDependents = db.prepare(
    `UPDATE jobwire_jobs SET state = 'completed', result = ?, finished_at = ?, ${CLEAR_LEASE_SQL} ${FENCE}
     RETURNING dependents`,
  );
  // A completion repeated under the same lease (see Driver.jobFinalizeMany) is acknowledged.
  const completedUnder = db.prepare(
    `SELECT 1 FROM jobwire_jobs WHERE id = ? AND state = 'completed' AND lease_token = ?`,
  );
  const retryJob = db.prepare(
    `UPDATE jobwire_jobs SET state = 'scheduled', run_at = ?, ${APPEND_ERROR_SQL}, ${CLEAR_LEASE_SQL} ${FENCE}`,
  );
  const abandonJob = db.prepare(
    `UPDATE jobwire_jobs SET state = 'abandoned', finished_at = ?, ${APPEND_ERROR_SQL}, ${CLEAR_LEASE_SQL} ${FENCE}
     AND dependents = 0`,
  );
  const abandonWithDependents = db.prepare(
    `UPDATE jobwire_jobs SET state = 'abandoned', finished_at = ?, ${APPEND_ERROR_SQL}, ${CLEAR_LEASE_SQL} ${FENCE}
     RETURNING dependents`,
  );
  const snoozeJob = db.prepare(
    `UPDATE jobwire_jobs SET state = 'scheduled', run_at = ?, attempt = attempt - 1, ${CLEAR_LEASE_SQL} ${FENCE}`,
  );

  // A completion whose row goes (`deleteAtCompletion`): not a job others depend on (they read its
  // result) nor one with a dedup key (its rule reads the row); those are completed in place.
  const deleteCompleted = db.prepare(
    `DELETE FROM jobwire_jobs ${FENCE} AND dependents = 0 AND dedup_key IS NULL RETURNING queue`,
  );
  // The batch's deletions by queue, added to the second's count `queueStats` reads.
  const countDeleted = db.prepare(
    `INSERT INTO jobwire_deleted_completions (queue, at_second, shard, n) VALUES (?, ?, 0, ?)
     ON CONFLICT (at_second, queue, shard) DO UPDATE SET n = n + excluded.n`,
  );

  // Progress the handler reported after the last heartbeat, stored with the outcome (fenced alike).
  const storeProgress = db.prepare(`UPDATE jobwire_jobs SET progress = ? ${FENCE}`);

  /** Write one outcome; `wrote` is false for a fenced-off write and for a repeated completion. */
  function finalizeOne(
    item: FinalizeItem,
    now: EpochMs,
    deletedByQueue: Map<string, number>,
  ): { result: FinalizeResult; wrote: boolean } {
    const id = parseId(item.id);
    if (id === undefined) return { result: { id: item.id, applied: false, at: now }, wrote: false };
    if (item.outcome === 'completed' && item.deleteAtCompletion) {
      const row = deleteCompleted.get(id, item.leaseToken) as { queue: string } | undefined;
      if (row) {
        deletedByQueue.set(row.queue, (deletedByQueue.get(row.queue) ?? 0) + 1);
        return { result: { id: item.id, applied: true, at: now, deleted: true }, wrote: true };
      }
    }
    if (item.progressJson !== undefined) storeProgress.run(item.progressJson, id, item.leaseToken);
    if (item.outcome === 'completed') {
      let wrote = completeJob.run(item.resultJson, now, id, item.leaseToken).changes === 1;
      const row = wrote
        ? undefined
        : (completeWithDependents.get(item.resultJson, now, id, item.leaseToken) as Dependents | undefined);
      wrote ||= row !== undefined;
      const applied = wrote || completedUnder.get(id, item.leaseToken) !== undefined;
      const result: FinalizeResult = { id: item.id, applied, at: now };
      if (row?.dependents) result.dependents = dependencies().completed(id, now);
      return { result, wrote };
    }
    if (item.outcome === 'abandoned') {
      const error = storedErrorJson(item.error);
      let wrote = abandonJob.run(now, error, id, item.leaseToken).changes === 1;
      const row = wrote
        ? undefined
        : (abandonWithDependents.get(now, error, id, item.leaseToken) as Dependents | undefined);
      wrote ||= row !== undefined;
      const result: FinalizeResult = { id: item.id, applied: wrote, at: now };
      if (row?.dependents) result.dependents = dependencies().failed(id, now);
      return { result, wrote };
    }
    const runAt = Math.floor(now + item.delayMs);
    const applied =
      item.outcome === 'retry'
        ? retryJob.run(runAt, storedErrorJson(item.error), id, item.leaseToken).changes === 1
        : snoozeJob.run(runAt, id, item.leaseToken).changes === 1;
    // runAt only when the write happened: a fenced-off worker must not report a new due time.
    const result = applied ? { id: item.id, applied, runAt, at: now } : { id: item.id, applied, at: now };
    return { result, wrote: applied };
  }

  const finalizeTx = db.transaction((items: readonly FinalizeItem[], now: EpochMs) => {
    const results: FinalizeResult[] = [];
    const logged: LogEntry[] = [];
    const jobIds: string[] = [];
    const deletedByQueue = new Map<string, number>();
    for (const item of items) {
      const { result, wrote } = finalizeOne(item, now, deletedByQueue);
      results.push(result);
      if (wrote && item.events) logWritten(item.events, result, logged, jobIds);
    }
    const second = Math.floor(now / 1000);
    for (const [queue, n] of deletedByQueue) countDeleted.run(queue, second, n);
    // One JSON encoding for the whole batch.
    if (logged.length > 0) writer.appendJson(entriesJson(logged), jobIds, now);
    return results;
  });

  /** Add a written outcome's entries (and its dependents' changes) to the batch's. */
  function logWritten(
    entries: readonly LogEntry[],
    result: FinalizeResult,
    logged: LogEntry[],
    jobIds: string[],
  ): void {
    for (const entry of result.runAt === undefined ? entries : withDueTime(entries, result.runAt)) {
      logged.push(entry);
    }
    jobIds.push(result.id);
    for (const change of result.dependents ?? []) {
      logged.push(dependentEntry(change));
      jobIds.push(change.id);
    }
  }

  function jobFinalizeMany(params: JobFinalizeManyParams): FinalizeResult[] {
    if (params.items.length === 0) return [];
    const results = finalizeTx.immediate(params.items, ctx.now(params.now));
    for (const result of results) if (result.dependents) notifyUnblocked(result.dependents);
    // Applied or fenced off, this process no longer holds these leases: stop watching them.
    for (const item of params.items) {
      const id = parseId(item.id);
      if (id !== undefined) observer.forgetJob(id);
    }
    return results;
  }

  /** Wake pools for the queues that got a due job from a dependency's end. */
  function notifyUnblocked(changes: readonly DependentChange[]): void {
    const queues = new Set(changes.filter((c) => c.state === 'pending').map((c) => c.queue));
    for (const queue of queues) ctx.notifier.notify(CHANNELS.jobAvailable, queue);
  }

  return { jobClaim, jobFinalizeMany, jobInsertMany, notifyUnblocked };
}
