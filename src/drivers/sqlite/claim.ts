/**
 * The SQLite claim: starts the first due jobs of a pool's queues, in priority order, in one
 * IMMEDIATE transaction — it takes the write lock before it reads, so concurrent claimers (in
 * this or another process) serialise and never share a job. Keyed jobs and queues with a
 * queue-wide rule go on to the flow path (flow.ts) for what is left.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { claimedEvent } from '../../core/job-events.js';
import type { EpochMs } from '../../core/types.js';
import { startedBatchJson } from '../../driver/claim-columns.js';
import { byClaimOrder, packedToClaimed } from '../../driver/claim-pack.js';
import { type ClaimedJob, type JobClaimParams, SUSPECT_INTERRUPTIONS } from '../../driver/driver.js';
import type { LogEntry } from '../../driver/event-log.js';
import { packedStarted } from '../../driver/event-pack.js';
import { livenessNow, type SqliteContext, START_ATTEMPT_SQL } from './context.js';
import { eventWriterOf } from './events.js';
import type { FlowMethods } from './flow.js';
import { observerOf } from './liveness.js';
import { CLAIM_PACKED_SQL } from './row.js';

/** Most scheduled jobs moved to 'pending' by one claim; the rest follow on the next claims. */
const PROMOTE_BATCH = 1000;
/** Claims of up to this many candidates update them one by one (see `claimRows`). */
const CLAIM_BY_ID_MAX = 8;

/**
 * The ids `jobClaim` takes: the first `@limit` due jobs of queues `@q0`, `@q1`, … in claim order.
 * Each queue is read on its own, in the claim index's order, so a claim reads about
 * `limit × queues` index entries however long the backlog is; merging them in one `queue IN (…)`
 * scan would sort every due job of those queues on each claim. With `excludeSuspects` (the pool
 * holds a suspect, records.ts) jobs interrupted that often are left out; only then, since that
 * test reads the row: otherwise the partial index alone answers.
 */
function claimCandidatesSql(queueCount: number, excludeSuspects: boolean): string {
  const perQueue = (i: number) =>
    `SELECT id, priority, run_at FROM jobwire_jobs INDEXED BY jobwire_jobs_claim
     WHERE queue = @q${i} AND state = 'pending' AND concurrency_key IS NULL
       ${excludeSuspects ? `AND interruptions < ${SUSPECT_INTERRUPTIONS}` : ''}
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

/** Build `jobClaim` (synchronous; the driver wraps it in a promise). */
export function createClaimMethods(ctx: SqliteContext, flowClaim: FlowMethods['flowClaim']) {
  const { db } = ctx;
  const writer = eventWriterOf(ctx);
  const observer = observerOf(ctx);

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
  const claimStatements = new Map<string, BetterSqlite3.Statement>();
  const claimStatement = (queueCount: number, exclude: boolean): BetterSqlite3.Statement => {
    let statement = claimStatements.get(`${queueCount}:${exclude}`);
    if (!statement) {
      statement = db
        .prepare(
          `UPDATE jobwire_jobs
         SET ${START_ATTEMPT_SQL}
         WHERE id IN (${claimCandidatesSql(queueCount, exclude)})
         RETURNING ${CLAIM_PACKED_SQL}`,
        )
        .pluck();
      claimStatements.set(`${queueCount}:${exclude}`, statement);
    }
    return statement;
  };
  // The same selection, ids only: read first, so that a claim finding nothing (an idle pool's
  // poll) or a few jobs (a job just enqueued) never runs the UPDATE above. Its `IN (subquery)`
  // builds a temporary table each time: 60–130 µs for one row, against 10–15 µs to read the
  // ids and 7–16 µs per UPDATE by id; from about ten rows on, the one statement is cheaper.
  const candidateStatements = new Map<string, BetterSqlite3.Statement>();
  const candidateStatement = (queueCount: number, exclude: boolean): BetterSqlite3.Statement => {
    let statement = candidateStatements.get(`${queueCount}:${exclude}`);
    if (!statement) {
      statement = db.prepare(claimCandidatesSql(queueCount, exclude)).pluck();
      candidateStatements.set(`${queueCount}:${exclude}`, statement);
    }
    return statement;
  };
  const claimById = db
    .prepare(
      `UPDATE jobwire_jobs
       SET ${START_ATTEMPT_SQL}
       WHERE id = @id
       RETURNING ${CLAIM_PACKED_SQL}`,
    )
    .pluck();
  /** The ordinary claim's packed rows: by id when the candidates are few, else in one statement. */
  const claimRows = (queueCount: number, bindings: Record<string, unknown>): string[] => {
    const exclude = bindings.exclude === 1;
    const ids = candidateStatement(queueCount, exclude).all(bindings) as number[];
    if (ids.length > CLAIM_BY_ID_MAX) return claimStatement(queueCount, exclude).all(bindings) as string[];
    const { expiresAt, leaseMs, poolId, now } = bindings;
    const one = { expiresAt, leaseMs, poolId, now, id: 0 };
    return ids.map((id) => {
      one.id = id;
      return claimById.get(one) as string;
    });
  };
  type FlowBindings = Parameters<FlowMethods['flowClaim']>[2];
  const claimTx = db.transaction(
    (queues: readonly string[], bindings: Record<string, unknown>, now: EpochMs, log: boolean) => {
      const queueCount = queues.length;
      if (anyDue.get(now) !== undefined) promoteDue.run(now, PROMOTE_BATCH);
      // Under the write lock (IMMEDIATE), so the ids read are still free when updated.
      // RETURNING gives rows in no promised order; hand them out in claim order. Pushed one by
      // one: a `map` of the by-id path's array and one of the statement's have different array
      // maps, and the log's builders below were compiled again for the second.
      const claimed: ClaimedJob[] = [];
      for (const row of claimRows(queueCount, bindings)) claimed.push(packedToClaimed(row));
      claimed.sort(byClaimOrder);
      // Keyed jobs and queues with a queue-wide rule take the flow path (flow.ts) for what is left.
      const limit = bindings.limit as number;
      let flowEvents: LogEntry[] = [];
      if (claimed.length < limit) {
        const flow = flowClaim(queues, limit - claimed.length, bindings as FlowBindings);
        claimed.push(...flow.jobs);
        flowEvents = flow.events;
      }
      if (log && flowEvents.length > 0) writer.append(flowEvents, now);
      if (log && claimed.length > 0) {
        const poolId = bindings.poolId as string;
        // One batch entry for the claim, as the PostgreSQL driver stores it (event-pack.ts).
        const batch = startedBatchJson(claimed, poolId);
        if (batch !== undefined) {
          // Pushed, as the finalize's list is: one array map for the writer's loop.
          const ids: string[] = [];
          for (const job of claimed) ids.push(job.id);
          writer.appendJson(`[${batch}]`, ids, now);
        } else
          writer.append(
            claimed.map(
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
      exclude: params.excludeSuspects === true ? 1 : 0,
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

  return { jobClaim };
}
