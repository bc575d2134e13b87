/**
 * Operations people and tools run on jobs: cancel, retry, delete, get, list (./job-list.ts),
 * count. None is on a worker's hot path, so they favour plain SQL over cleverness.
 */
import { type EpochMs, JOB_STATES, type JobRecord, type JobState } from '../../core/types.js';
import {
  type CancelledJob,
  CHANNELS,
  type DeletedJob,
  type DependencyEdgeState,
  type DependencyPolicy,
  edgeAfterRetry,
  edgeHolds,
  type JobCancelParams,
  type JobCountByStateParams,
  type JobDeleteParams,
  type JobGetParams,
  type JobRetryParams,
  type RetriedJob,
  type RetryEdge,
  retryWave,
} from '../../driver/driver.js';
import { checkNames, checkStates } from '../../driver/guards.js';
import { activeStateSql, CLEAR_LEASE_SQL, type SqliteContext } from './context.js';
import { dependenciesOf } from './dependencies.js';
import { keyMarker } from './flow-keys.js';
import { createJobList } from './job-list.js';
import { type JobRow, parseId, rowToRecord } from './row.js';

/** Ids that could exist in this database; anything else matches no job. */
const knownIds = (ids: readonly string[]): number[] =>
  ids.map(parseId).filter((id): id is number => id !== undefined);

/** An empty filter list means "no filter", like leaving it out. */
const hasFilter = (values: readonly string[] | undefined): values is readonly string[] =>
  values !== undefined && values.length > 0;

/** Every state with a zero count, so callers never meet a missing key. */
export const zeroCounts = (): Record<JobState, number> =>
  Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;

/**
 * Retry one finished job (`?` due time, `?` id). The NOT EXISTS skips a job whose unique key
 * another active job took meanwhile: retrying it would break the "one active job per key" promise
 * (and the unique index). Exported so tests can read its plan.
 */
export const RETRY_JOB_SQL = `UPDATE jobwire_jobs
  SET state = 'pending', attempt = 0, interruptions = 0, run_at = ?, finished_at = NULL, result = NULL, ${CLEAR_LEASE_SQL}
  WHERE id = ? AND state IN ('abandoned', 'cancelled', 'completed')
    AND (unique_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM jobwire_jobs AS other
      WHERE other.unique_key = jobwire_jobs.unique_key AND ${activeStateSql('other.state')}))
  RETURNING *`;

/** The columns a cancel and a delete read of each job they change. */
type ChangedRow = Pick<JobRow, 'state' | 'task' | 'queue' | 'correlation_id' | 'attempt' | 'max_attempts'>;

/** A job a cancel or a delete changed at `now`, as it was before (its dependents added after). */
function changedJob(id: number, row: ChangedRow, now: EpochMs): CancelledJob {
  return {
    id: String(id),
    task: row.task,
    queue: row.queue,
    correlationId: row.correlation_id,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    previousState: row.state,
    at: now,
  };
}

/** Build the admin methods (synchronous; the driver wraps them in promises). */
export function createAdminMethods(ctx: SqliteContext) {
  const { db } = ctx;

  const stateOf = db.prepare(
    'SELECT state, task, queue, correlation_id, attempt, max_attempts, dependents FROM jobwire_jobs WHERE id = ?',
  );
  // A blocked job can be cancelled too; a cancel resolves the edges of its dependents.
  const cancelJob = db.prepare(
    `UPDATE jobwire_jobs SET state = 'cancelled', finished_at = ?, ${CLEAR_LEASE_SQL}
     WHERE id = ? AND state IN ('blocked', 'scheduled', 'pending', 'running')`,
  );
  const cancelTx = db.transaction((ids: readonly number[], now: EpochMs) => {
    const cancelled: CancelledJob[] = [];
    for (const id of ids) {
      const row = stateOf.get(id) as (ChangedRow & { dependents: number }) | undefined;
      if (!row || cancelJob.run(now, id).changes === 0) continue;
      const job = changedJob(id, row, now);
      if (row.dependents > 0) job.dependents = dependenciesOf(ctx).failed(id, now);
      cancelled.push(job);
    }
    return cancelled;
  });

  function jobCancel(params: JobCancelParams): CancelledJob[] {
    const cancelled = cancelTx.immediate(knownIds(params.ids), ctx.now(params.now));
    // The worker running a cancelled job learns of it here (or from its next heartbeat).
    for (const job of cancelled) {
      if (job.previousState === 'running') ctx.notifier.notify(CHANNELS.jobCancelled, job.id);
      for (const change of job.dependents ?? []) {
        if (change.state === 'pending') ctx.notifier.notify(CHANNELS.jobAvailable, change.queue);
      }
    }
    return cancelled;
  }

  const retryJob = db.prepare(RETRY_JOB_SQL);
  const markKey = keyMarker(db);
  const edgesOfJob = db.prepare(
    `SELECT d.depends_on, d.on_failure, d.state, j.state AS dependency_state
     FROM jobwire_dependencies d LEFT JOIN jobwire_jobs j ON j.id = d.depends_on
     WHERE d.job_id = ?`,
  );
  const setEdge = db.prepare('UPDATE jobwire_dependencies SET state = ? WHERE job_id = ? AND depends_on = ?');
  const setHolding = db.prepare(
    `UPDATE jobwire_jobs SET dependencies_waiting = @n, state = CASE WHEN @n > 0 THEN 'blocked' ELSE state END
     WHERE id = @id`,
  );
  type RetriedRow = JobRow & { blockedOn?: string[]; stuckOn?: string[] };
  type EdgeRow = {
    depends_on: number;
    on_failure: DependencyPolicy;
    state: DependencyEdgeState;
    dependency_state: JobState | null;
  };
  /** The edges of `id`, with its dependencies' states now (read inside the transaction). */
  const edgesOf = (id: number): RetryEdge[] =>
    (edgesOfJob.all(id) as EdgeRow[]).map((e) => ({
      jobId: String(id),
      dependsOn: String(e.depends_on),
      onFailure: e.on_failure,
      state: e.state,
      dependencyState: e.dependency_state,
    }));

  /**
   * A retried job with dependencies waits for them again: its edges are set from its
   * dependencies' states now, and it goes back to `blocked` while one holds it.
   */
  function holdAgain(row: RetriedRow): void {
    const edges = edgesOf(row.id);
    if (edges.length === 0) return;
    const holding: string[] = [];
    const stuck: string[] = [];
    for (const edge of edges) {
      const state = edgeAfterRetry(edge);
      if (state !== edge.state) setEdge.run(state, row.id, Number(edge.dependsOn));
      if (edgeHolds(state)) holding.push(edge.dependsOn);
      if (state === 'stuck') stuck.push(edge.dependsOn);
    }
    setHolding.run({ n: holding.length, id: row.id });
    if (holding.length === 0) return;
    row.state = 'blocked';
    row.blockedOn = holding.sort((a, b) => Number(a) - Number(b));
    if (stuck.length > 0) row.stuckOn = stuck.sort((a, b) => Number(a) - Number(b));
  }

  // Retried in waves (see retryWave): a dependency named in the same call is retried before the
  // dependents it cancelled, which then wait for it; the edges are set once every wave is done.
  const retryTx = db.transaction((ids: readonly number[], now: EpochMs) => {
    const rows: RetriedRow[] = [];
    let pending = [...new Set(ids)].map(String);
    while (pending.length > 0) {
      const edges = new Map(pending.map((id) => [id, edgesOf(Number(id))]));
      const { now: wave, later } = retryWave(pending, edges);
      if (wave.length === 0) break;
      for (const id of wave) {
        const row = retryJob.get(now, Number(id)) as JobRow | undefined;
        if (row) rows.push(row);
      }
      pending = later;
    }
    for (const row of rows) {
      holdAgain(row);
      // Retried to pending: waiting work for its key (flow-keys.ts).
      if (row.state === 'pending' && row.concurrency_key != null) markKey(row.queue, row.concurrency_key);
    }
    // In the caller's order, as one statement per id gave them before.
    const at = new Map<number, number>();
    for (const [i, id] of ids.entries()) if (!at.has(id)) at.set(id, i);
    return rows.sort((a, b) => at.get(a.id)! - at.get(b.id)!);
  });

  function jobRetry(params: JobRetryParams): RetriedJob[] {
    const rows = retryTx.immediate(knownIds(params.ids), ctx.now(params.now));
    for (const queue of new Set(rows.filter((row) => row.state === 'pending').map((row) => row.queue))) {
      ctx.notifier.notify(CHANNELS.jobAvailable, queue);
    }
    return rows.map((row) => {
      const record: RetriedJob = rowToRecord(row);
      if (row.blockedOn) record.blockedOn = row.blockedOn;
      if (row.stuckOn) record.stuckOn = row.stuckOn;
      return record;
    });
  }

  const deleteJob = db.prepare(
    `DELETE FROM jobwire_jobs WHERE id = ?
     RETURNING id, state, task, queue, correlation_id, attempt, max_attempts, dependents`,
  );
  // A deleted dependency can never complete: its waiting edges get their policy, as for a cancel.
  const deleteTx = db.transaction((ids: readonly number[], now: EpochMs) => {
    const deleted: DeletedJob[] = [];
    for (const id of ids) {
      const row = deleteJob.get(id) as (ChangedRow & { dependents: number }) | undefined;
      if (!row) continue;
      const job: DeletedJob = changedJob(id, row, now);
      const changes = dependenciesOf(ctx).deleting(id, row.dependents > 0, now);
      if (changes.length > 0) job.dependents = changes;
      deleted.push(job);
    }
    return deleted;
  });

  function jobDelete(params: JobDeleteParams): DeletedJob[] {
    const deleted = deleteTx.immediate(knownIds(params.ids), ctx.now(params.now));
    const changes = deleted.flatMap((job) => job.dependents ?? []);
    const queues = new Set(changes.filter((c) => c.state === 'pending').map((c) => c.queue));
    for (const queue of queues) ctx.notifier.notify(CHANNELS.jobAvailable, queue);
    return deleted;
  }

  const getJob = db.prepare('SELECT * FROM jobwire_jobs WHERE id = ?');

  function jobGet(params: JobGetParams): JobRecord | undefined {
    const id = parseId(params.id);
    if (id === undefined) return undefined;
    const row = getJob.get(id) as JobRow | undefined;
    return row && rowToRecord(row);
  }

  const jobList = createJobList(db);

  const countAll = db.prepare('SELECT state, count(*) AS n FROM jobwire_jobs GROUP BY state');
  const countInQueues = db.prepare(
    'SELECT state, count(*) AS n FROM jobwire_jobs WHERE queue IN (SELECT value FROM json_each(?)) GROUP BY state',
  );

  // Counts of some states (`states`): each WHERE repeats a partial index's condition word for
  // word, which is how SQLite matches one, so waiting and running jobs are counted from
  // `jobwire_jobs_waiting` and `jobwire_jobs_running` without reading finished jobs.
  const QUEUE_FILTER = '(@queues IS NULL OR queue IN (SELECT value FROM json_each(@queues)))';
  const countSome = {
    waiting: db.prepare(
      `SELECT state, count(*) AS n FROM jobwire_jobs WHERE state IN ('pending', 'scheduled') AND ${QUEUE_FILTER} GROUP BY state`,
    ),
    running: db.prepare(
      `SELECT 'running' AS state, count(*) AS n FROM jobwire_jobs WHERE state = 'running' AND ${QUEUE_FILTER}`,
    ),
    other: db.prepare(
      `SELECT state, count(*) AS n FROM jobwire_jobs
       WHERE state IN (SELECT value FROM json_each(@states)) AND ${QUEUE_FILTER} GROUP BY state`,
    ),
  };

  function jobCountByState<S extends JobState = JobState>(
    params: JobCountByStateParams<S>,
  ): Record<S, number> {
    const queues = checkNames('queues', params.queues);
    const states = checkStates(params.states) as readonly S[] | undefined;
    if (states?.length) {
      const asked = new Set<JobState>(states);
      const bind = { queues: hasFilter(queues) ? JSON.stringify(queues) : null };
      const rows: { state: JobState; n: number }[] = [];
      // One read transaction: the counts describe one moment, as a single statement's would.
      db.transaction(() => {
        if (asked.has('pending') || asked.has('scheduled'))
          rows.push(...(countSome.waiting.all(bind) as typeof rows));
        if (asked.has('running')) rows.push(...(countSome.running.all(bind) as typeof rows));
        const other = [...asked].filter((s) => s !== 'pending' && s !== 'scheduled' && s !== 'running');
        if (other.length > 0) {
          rows.push(...(countSome.other.all({ ...bind, states: JSON.stringify(other) }) as typeof rows));
        }
      })();
      const counts = Object.fromEntries([...asked].map((state) => [state, 0])) as Record<JobState, number>;
      for (const row of rows) if (asked.has(row.state)) counts[row.state] = row.n;
      return counts as Record<S, number>;
    }
    const rows = (hasFilter(queues) ? countInQueues.all(JSON.stringify(queues)) : countAll.all()) as {
      state: JobState;
      n: number;
    }[];
    const counts = zeroCounts();
    for (const row of rows) counts[row.state] = row.n;
    return counts as Record<S, number>;
  }

  return { jobCancel, jobCountByState, jobDelete, jobGet, jobList, jobRetry };
}
