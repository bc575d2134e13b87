/**
 * The job life cycle on SQLite, hot path first: insert, claim, finalize.
 *
 * Every write that moves a running job is fenced with `state = 'running' AND lease_token = ?`
 * (`FENCE`), so a worker whose lease was rescued, cancelled or deleted can no longer touch the
 * row. Writes that span several statements run in IMMEDIATE transactions: they take the write
 * lock up front, so two processes never deadlock upgrading a read lock.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { deduplicatedEvent } from '../../core/dedup.js';
import { claimedEvent, queuedEvent } from '../../core/job-events.js';
import { storedErrorJson } from '../../core/serialize.js';
import type { EpochMs, JobState } from '../../core/types.js';
import { blockedOnInsertEntry, dependentEntry } from '../../driver/dependencies.js';
import {
  CHANNELS,
  type ClaimedJob,
  type DependentChange,
  type FinalizeItem,
  type FinalizeResult,
  type JobClaimParams,
  type JobFinalizeManyParams,
  type JobInsertManyParams,
  type JobInsertManyResult,
  type JobInsertParams,
  type JobInsertResult,
  type QueueLimitExceeded,
} from '../../driver/driver.js';
import { entriesJson, type LogEntry, withDueTime } from '../../driver/event-log.js';
import { packedQueued, packedStarted } from '../../driver/event-pack.js';
import { insertedJobRecord } from '../../driver/inserted-record.js';
import {
  ACTIVE_STATES_SQL,
  APPEND_ERROR_SQL,
  CLEAR_LEASE_SQL,
  FENCE,
  livenessNow,
  type SqliteContext,
} from './context.js';
import { createDedupInserter } from './dedup.js';
import { dependenciesOf } from './dependencies.js';
import { eventWriterOf } from './events.js';
import type { FlowMethods } from './flow.js';
import { observerOf } from './liveness.js';
import {
  CLAIM_COLUMNS,
  CLAIM_ID,
  CLAIM_PRIORITY,
  CLAIM_RUN_AT,
  type ClaimTuple,
  type JobRow,
  parseId,
  rowToClaimed,
  rowToRecord,
} from './row.js';

/** Most scheduled jobs moved to 'pending' by one claim; the rest follow on the next claims. */
const PROMOTE_BATCH = 1000;
/** Claims of up to this many candidates update them one by one (see `claimRows`). */
const CLAIM_BY_ID_MAX = 8;

/** Thrown inside the insert transaction to roll it back when a queue is full. */
class QueueFullAbort {
  constructor(readonly limit: QueueLimitExceeded) {}
}

/**
 * The ids `jobClaim` takes: the first `@limit` due jobs of queues `@q0`, `@q1`, … in claim order.
 * Each queue is read on its own, in the claim index's order, so a claim reads about
 * `limit × queues` index entries however long the backlog is; merging them in one `queue IN (…)`
 * scan would sort every due job of those queues on each claim.
 */
function claimCandidatesSql(queueCount: number): string {
  const perQueue = (i: number) =>
    `SELECT id, priority, run_at FROM jobwire_jobs INDEXED BY jobwire_jobs_claim
     WHERE queue = @q${i} AND state = 'pending' AND concurrency_key IS NULL
       AND NOT EXISTS (SELECT 1 FROM jobwire_queues WHERE name = @q${i} AND paused = 1)
       AND NOT EXISTS (SELECT 1 FROM jobwire_flow_rules WHERE queue = @q${i} AND pattern = '')
     ORDER BY priority DESC, run_at, id
     LIMIT @limit`;
  if (queueCount === 1) return perQueue(0).replace('SELECT id, priority, run_at', 'SELECT id');
  const union = Array.from({ length: queueCount }, (_, i) => `SELECT * FROM (${perQueue(i)})`).join(
    ' UNION ALL ',
  );
  return `SELECT id FROM (${union}) ORDER BY priority DESC, run_at, id LIMIT @limit`;
}

/** The `dependents` column a finishing write returns. */
type Dependents = { dependents: number };

/** Build the job life-cycle methods (synchronous; the driver wraps them in promises). */
export function createJobMethods(ctx: SqliteContext, flowClaim: FlowMethods['flowClaim']) {
  const { db } = ctx;
  const writer = eventWriterOf(ctx);
  const observer = observerOf(ctx);
  const dependencies = () => dependenciesOf(ctx);

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
    return changes === 1 ? { id: Number(lastInsertRowid) } : undefined;
  };
  const dedup = createDedupInserter(ctx, insertRow);
  const activeByUniqueKey = db.prepare(
    `SELECT * FROM jobwire_jobs WHERE unique_key = ? AND state IN ${ACTIVE_STATES_SQL}`,
  );
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
          newByQueue.set(job.queue, (newByQueue.get(job.queue) ?? 0) + 1);
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
          results[index]!.blockedOn = plan.edges
            .filter((edge) => edge.state === 'waiting' || edge.state === 'stuck')
            .map((edge) => String(typeof edge.target === 'number' ? edge.target : ids[edge.target.index]));
        });
      }
      // A batch that only repeats existing unique jobs adds nothing, so it cannot overfill a queue.
      for (const [queue, added] of newByQueue) {
        const maxPending = limits?.get(queue);
        if (maxPending === undefined) continue;
        const { n } = countWaiting.get(queue) as { n: number };
        if (n > maxPending) throw new QueueFullAbort({ queue, maxPending, pending: n - added });
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
          if (!r.duplicate && r.blockedOn) entries.push(blockedOnInsertEntry(r.job, r.blockedOn, now));
        writer.append(entries, now);
      }
      return { results, queuesWithPending };
    },
  );

  function jobInsertMany(params: JobInsertManyParams): JobInsertManyResult {
    if (params.jobs.length === 0) return { inserted: [] };
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

  // -- claim -----------------------------------------------------------------------------------

  // Scheduled jobs that have come due become 'pending' before each claim, a bounded batch at a
  // time (one range read of the scheduled index; nothing to do costs one index probe).
  const promoteDue = db.prepare(
    `UPDATE jobwire_jobs SET state = 'pending'
     WHERE id IN (SELECT id FROM jobwire_jobs WHERE state = 'scheduled' AND run_at <= ? ORDER BY run_at LIMIT ?)`,
  );
  // Whether any scheduled job is due: one probe of the same index. Most claims find none, and
  // the UPDATE above costs about 32 µs even then (its IN list is a temporary table) against
  // 2.6 µs for the probe (back to back on the development machine).
  const anyDue = db
    .prepare(`SELECT 1 FROM jobwire_jobs WHERE state = 'scheduled' AND run_at <= ? LIMIT 1`)
    .pluck();

  // One statement per number of queues. The claim runs in an IMMEDIATE transaction, which takes
  // the write lock before it reads, so concurrent claimers (in this or another process)
  // serialise and never share a job.
  const claimStatements = new Map<number, BetterSqlite3.Statement>();
  const claimStatement = (queueCount: number): BetterSqlite3.Statement => {
    let statement = claimStatements.get(queueCount);
    if (!statement) {
      statement = db
        .prepare(
          `UPDATE jobwire_jobs
         SET state = 'running', attempt = attempt + 1, lease_token = lease_token + 1,
             lease_expires_at = @expiresAt, lease_ms = @leaseMs, heartbeat_seq = 0,
             worker_id = @poolId, started_at = @now
         WHERE id IN (${claimCandidatesSql(queueCount)})
         RETURNING ${CLAIM_COLUMNS}`,
        )
        .raw(true);
      claimStatements.set(queueCount, statement);
    }
    return statement;
  };
  // The same selection, ids only: read first, so that a claim finding nothing (an idle pool's
  // poll) or a few jobs (a job just enqueued) never runs the UPDATE above. Its `IN (subquery)`
  // builds a temporary table each time: 60–130 µs for one row, against 10–15 µs to read the
  // ids and 7–16 µs per UPDATE by id; from about ten rows on, the one statement is cheaper.
  const candidateStatements = new Map<number, BetterSqlite3.Statement>();
  const candidateStatement = (queueCount: number): BetterSqlite3.Statement => {
    let statement = candidateStatements.get(queueCount);
    if (!statement) {
      statement = db.prepare(claimCandidatesSql(queueCount)).pluck();
      candidateStatements.set(queueCount, statement);
    }
    return statement;
  };
  const claimById = db
    .prepare(
      `UPDATE jobwire_jobs
       SET state = 'running', attempt = attempt + 1, lease_token = lease_token + 1,
           lease_expires_at = @expiresAt, lease_ms = @leaseMs, heartbeat_seq = 0,
           worker_id = @poolId, started_at = @now
       WHERE id = @id
       RETURNING ${CLAIM_COLUMNS}`,
    )
    .raw(true);
  /** The ordinary claim's rows: by id when the candidates are few, else in one statement. */
  const claimRows = (queueCount: number, bindings: Record<string, unknown>): ClaimTuple[] => {
    const ids = candidateStatement(queueCount).all(bindings) as number[];
    if (ids.length > CLAIM_BY_ID_MAX) return claimStatement(queueCount).all(bindings) as ClaimTuple[];
    const { expiresAt, leaseMs, poolId, now } = bindings;
    const one = { expiresAt, leaseMs, poolId, now, id: 0 };
    return ids.map((id) => {
      one.id = id;
      return claimById.get(one) as ClaimTuple;
    });
  };
  type FlowBindings = Parameters<FlowMethods['flowClaim']>[2];
  const claimTx = db.transaction(
    (queues: readonly string[], bindings: Record<string, unknown>, now: EpochMs, log: boolean) => {
      const queueCount = queues.length;
      if (anyDue.get(now) !== undefined) promoteDue.run(now, PROMOTE_BATCH);
      // Under the write lock (IMMEDIATE), so the ids read are still free when updated.
      const rows = claimRows(queueCount, bindings);
      // RETURNING gives rows in no promised order; hand them out in claim order.
      rows.sort(
        (a, b) =>
          b[CLAIM_PRIORITY] - a[CLAIM_PRIORITY] ||
          a[CLAIM_RUN_AT] - b[CLAIM_RUN_AT] ||
          a[CLAIM_ID] - b[CLAIM_ID],
      );
      // Keyed jobs and queues with a queue-wide rule take the flow path (flow.ts) for what is left.
      const limit = bindings.limit as number;
      let flowEvents: LogEntry[] = [];
      if (rows.length < limit) {
        const flow = flowClaim(queues, limit - rows.length, bindings as FlowBindings);
        rows.push(...flow.rows);
        flowEvents = flow.events;
      }
      const claimed = rows.map(rowToClaimed);
      if (log && flowEvents.length > 0) writer.append(flowEvents, now);
      if (log && claimed.length > 0) {
        const poolId = bindings.poolId as string;
        // By id, as the PostgreSQL driver stores them.
        const byId = [...claimed].sort((a, b) => Number(a.id) - Number(b.id));
        writer.append(
          byId.map(
            (job) => packedStarted(job, poolId) ?? { type: 'job:started', data: claimedEvent(job, poolId) },
          ),
          now,
        );
      }
      return { claimed, flowEvents };
    },
  );

  function jobClaim(params: JobClaimParams): ClaimedJob[] {
    if (params.queues.length === 0 || params.limit < 1) return [];
    const now = ctx.now(params.now);
    const bindings: Record<string, unknown> = {
      expiresAt: Math.floor(now + params.leaseMs),
      leaseMs: Math.ceil(params.leaseMs),
      poolId: params.poolId,
      now,
      limit: Math.floor(params.limit),
    };
    params.queues.forEach((queue, i) => {
      bindings[`q${i}`] = queue;
    });
    const { claimed, flowEvents } = claimTx.immediate(params.queues, bindings, now, params.log === true);
    if (flowEvents.length > 0) params.onFlowEvents?.(flowEvents);
    // The claim is this process's own write: its lease is alive as of now (read after the
    // commit), on the clock the rescuer measures silence with (see liveness.ts).
    const seen = livenessNow(params.now);
    const lease = { seq: 0, expiresAt: bindings.expiresAt as number };
    for (const job of claimed) observer.jobWritten(Number(job.id), { ...lease, token: job.leaseToken }, seen);
    return claimed;
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

  /** Write one outcome; `wrote` is false for a fenced-off write and for a repeated completion. */
  function finalizeOne(item: FinalizeItem, now: EpochMs): { result: FinalizeResult; wrote: boolean } {
    const id = parseId(item.id);
    if (id === undefined) return { result: { id: item.id, applied: false, at: now }, wrote: false };
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
    const written = items.map((item) => finalizeOne(item, now));
    const logged: LogEntry[] = [];
    const jobIds: string[] = [];
    written.forEach(({ result, wrote }, index) => {
      const entries = items[index]!.events;
      if (!wrote || !entries) return;
      for (const entry of result.runAt === undefined ? entries : withDueTime(entries, result.runAt)) {
        logged.push(entry);
      }
      jobIds.push(result.id);
      for (const change of result.dependents ?? []) {
        logged.push(dependentEntry(change));
        jobIds.push(change.id);
      }
    });
    // One JSON encoding for the whole batch.
    if (logged.length > 0) writer.appendJson(entriesJson(logged), jobIds, now);
    return written.map((w) => w.result);
  });

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
