/**
 * Job dependencies on SQLite (see src/driver/dependencies.ts for the edge states). Everything
 * here runs inside the caller's IMMEDIATE transaction: SQLite has one writer at a time, so an
 * edge is resolved by exactly the write that finished (or cancelled, or deleted) its dependency,
 * and a dependent becomes due in that same transaction.
 */
import { DependencyFailedError, DependencyNotFoundError } from '../../core/errors.js';
import type { EpochMs, JobState } from '../../core/types.js';
import type {
  DependencyEdge,
  DependencyEdgeState,
  DependencyPolicy,
  DependentChange,
  JobDependencies,
  JobInsertParams,
} from '../../driver/driver.js';
import type { SqliteContext } from './context.js';
import { keyMarker } from './flow-keys.js';
import { parseId } from './row.js';

/** What a job of an insert batch starts as, from its edges (see `planInsert`). */
export interface InsertPlan {
  /** Edges holding the job (waiting or stuck): > 0 means it is stored `blocked`. */
  waiting: number;
  /** The unfinished dependencies it waits for, by id (batch items once their ids are known). */
  edges: { target: number | { index: number }; onFailure: DependencyPolicy; state: DependencyEdgeState }[];
}

type ChangedRow = {
  id: number;
  task: string;
  queue: string;
  correlation_id: string;
  attempt: number;
  max_attempts: number;
  state: JobState;
  run_at: number;
  concurrency_key: string | null;
};

const CHANGED_COLUMNS =
  'id, task, queue, correlation_id, attempt, max_attempts, state, run_at, concurrency_key';

/** Build the dependency helpers (synchronous; callers run them inside their transaction). */
export function createDependencyMethods(ctx: SqliteContext) {
  const markKey = keyMarker(ctx.db);
  const { db } = ctx;

  const stateOf = db.prepare('SELECT state FROM jobwire_jobs WHERE id = ?');
  const insertEdge = db.prepare(
    'INSERT OR IGNORE INTO jobwire_dependencies (job_id, depends_on, on_failure, state) VALUES (?, ?, ?, ?)',
  );
  const addDependent = db.prepare('UPDATE jobwire_jobs SET dependents = dependents + 1 WHERE id = ?');
  const setWaiting = db.prepare('UPDATE jobwire_jobs SET dependencies_waiting = ? WHERE id = ?');

  /**
   * How each job of a batch starts: every named job must exist (else DependencyNotFoundError);
   * one that already ended without completing resolves its edge by the policy now (`run`: the
   * edge holds nothing; `block`: stuck; `cancel`: DependencyFailedError). Throws before anything
   * of the batch is written.
   */
  function planInsert(jobs: readonly JobInsertParams[]): (InsertPlan | undefined)[] {
    const missing = new Set<string>();
    const plans = jobs.map((job): InsertPlan | undefined => {
      if (!job.dependsOn?.length) return undefined;
      const plan: InsertPlan = { waiting: 0, edges: [] };
      for (const dep of job.dependsOn) {
        if ('index' in dep) {
          plan.edges.push({ target: { index: dep.index }, onFailure: dep.onFailure, state: 'waiting' });
          plan.waiting++;
          continue;
        }
        const id = parseId(dep.jobId);
        const row = id === undefined ? undefined : (stateOf.get(id) as { state: JobState } | undefined);
        if (id === undefined || !row) {
          missing.add(dep.jobId);
          continue;
        }
        let state: DependencyEdgeState = 'waiting';
        if (row.state === 'completed') state = 'done';
        else if (row.state === 'abandoned' || row.state === 'cancelled') {
          if (dep.onFailure === 'cancel') throw new DependencyFailedError(dep.jobId, row.state);
          state = dep.onFailure === 'run' ? 'ignored' : 'stuck';
        }
        if (state === 'waiting' || state === 'stuck') plan.waiting++;
        plan.edges.push({ target: id, onFailure: dep.onFailure, state });
      }
      return plan;
    });
    if (missing.size > 0) throw new DependencyNotFoundError([...missing]);
    return plans;
  }

  /** Store the edges of a batch whose rows are inserted (`ids[i]` is item i's new id). */
  function insertEdges(plans: readonly (InsertPlan | undefined)[], ids: readonly number[]): void {
    plans.forEach((plan, i) => {
      if (!plan) return;
      const jobId = ids[i]!;
      for (const edge of plan.edges) {
        const target = typeof edge.target === 'number' ? edge.target : ids[edge.target.index]!;
        if (insertEdge.run(jobId, target, edge.onFailure, edge.state).changes === 1) addDependent.run(target);
      }
      if (plan.waiting > 0) setWaiting.run(plan.waiting, jobId);
    });
  }

  // -- resolution ------------------------------------------------------------------------------

  const holdingEdges = db.prepare(
    `SELECT job_id FROM jobwire_dependencies WHERE depends_on = ? AND state IN ('waiting', 'stuck')`,
  );
  const markDone = db.prepare(
    `UPDATE jobwire_dependencies SET state = 'done' WHERE depends_on = ? AND state IN ('waiting', 'stuck')`,
  );
  const waitingEdges = db.prepare(
    `SELECT job_id, on_failure FROM jobwire_dependencies WHERE depends_on = ? AND state = 'waiting'`,
  );
  const setEdge = db.prepare('UPDATE jobwire_dependencies SET state = ? WHERE job_id = ? AND depends_on = ?');
  const decrement = db.prepare(
    'UPDATE jobwire_jobs SET dependencies_waiting = dependencies_waiting - 1 WHERE id = ?',
  );
  const unblock = db.prepare(
    `UPDATE jobwire_jobs SET state = CASE WHEN run_at > @now THEN 'scheduled' ELSE 'pending' END
     WHERE id = @id AND state = 'blocked' AND dependencies_waiting <= 0
     RETURNING ${CHANGED_COLUMNS}`,
  );
  const cancelBlocked = db.prepare(
    `UPDATE jobwire_jobs SET state = 'cancelled', finished_at = @now
     WHERE id = @id AND state = 'blocked'
     RETURNING ${CHANGED_COLUMNS}`,
  );
  const blockedRow = db.prepare(
    `SELECT ${CHANGED_COLUMNS} FROM jobwire_jobs WHERE id = ? AND state = 'blocked'`,
  );

  const change = (row: ChangedRow, dependencyId: number, now: EpochMs): DependentChange => ({
    id: String(row.id),
    task: row.task,
    queue: row.queue,
    correlationId: row.correlation_id,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    state: row.state as DependentChange['state'],
    dependencyId: String(dependencyId),
    runAt: row.run_at,
    at: now,
  });

  /** One edge stops holding `jobId`: the last one makes it due. */
  function release(jobId: number, dependencyId: number, now: EpochMs, out: DependentChange[]): void {
    decrement.run(jobId);
    const row = unblock.get({ id: jobId, now }) as ChangedRow | undefined;
    if (!row) return;
    // Released to pending or scheduled: waiting work for its key (flow-keys.ts).
    if (row.concurrency_key !== null) markKey(row.queue, row.concurrency_key);
    out.push(change(row, dependencyId, now));
  }

  /** Job `id` completed: its waiting and stuck edges are done. Returns what that did. */
  function completed(id: number, now: EpochMs): DependentChange[] {
    const out: DependentChange[] = [];
    const dependents = holdingEdges.all(id) as { job_id: number }[];
    if (dependents.length === 0) return out;
    markDone.run(id);
    for (const { job_id } of dependents) release(job_id, id, now, out);
    return out;
  }

  /**
   * Job `id` ended without completing (abandoned, cancelled, deleted): each waiting edge gets its
   * policy, and every dependent cancelled by it is treated the same way in turn (a work list, not
   * recursion: a chain can be long). Returns what that did, in order.
   */
  function failed(id: number, now: EpochMs): DependentChange[] {
    const out: DependentChange[] = [];
    const work = [id];
    for (let next = work.pop(); next !== undefined; next = work.pop()) {
      const edges = waitingEdges.all(next) as { job_id: number; on_failure: DependencyPolicy }[];
      for (const edge of edges) {
        if (edge.on_failure === 'run') {
          setEdge.run('ignored', edge.job_id, next);
          release(edge.job_id, next, now, out);
        } else if (edge.on_failure === 'block') {
          setEdge.run('stuck', edge.job_id, next);
          const row = blockedRow.get(edge.job_id) as ChangedRow | undefined;
          if (row) out.push(change(row, next, now));
        } else {
          setEdge.run('cancelled', edge.job_id, next);
          const row = cancelBlocked.get({ id: edge.job_id, now }) as ChangedRow | undefined;
          if (row) {
            out.push(change(row, next, now));
            work.push(row.id);
          }
        }
      }
    }
    return out;
  }

  const deleteEdgesOf = db.prepare('DELETE FROM jobwire_dependencies WHERE job_id = ?');

  /**
   * Job `id` was deleted: its own edges go, and what waited for it gets its policy (it can never
   * complete). The changes are returned to the delete, which reports them (`job:deleted`'s dependents).
   */
  function deleting(id: number, hasDependents: boolean, now: EpochMs): DependentChange[] {
    deleteEdgesOf.run(id);
    return hasDependents ? failed(id, now) : [];
  }

  // -- reading ---------------------------------------------------------------------------------

  const dependenciesOf = db.prepare(
    `SELECT d.job_id, d.depends_on, d.on_failure, d.state, j.task, j.state AS job_state, j.result
     FROM jobwire_dependencies d LEFT JOIN jobwire_jobs j ON j.id = d.depends_on
     WHERE d.job_id = ? ORDER BY d.depends_on`,
  );
  const dependentsOf = db.prepare(
    `SELECT d.job_id, d.depends_on, d.on_failure, d.state, j.task, j.state AS job_state, NULL AS result
     FROM jobwire_dependencies d LEFT JOIN jobwire_jobs j ON j.id = d.job_id
     WHERE d.depends_on = ? ORDER BY d.job_id`,
  );
  type EdgeRow = {
    job_id: number;
    depends_on: number;
    on_failure: DependencyPolicy;
    state: DependencyEdgeState;
    task: string | null;
    job_state: JobState | null;
    result: string | null;
  };
  const toEdge = (row: EdgeRow): DependencyEdge => ({
    jobId: String(row.job_id),
    dependsOn: String(row.depends_on),
    onFailure: row.on_failure,
    state: row.state,
    other:
      row.task === null || row.job_state === null
        ? null
        : { task: row.task, state: row.job_state, resultJson: row.result },
  });

  function jobDependencies(params: { id: string }): JobDependencies {
    const id = parseId(params.id);
    if (id === undefined) return { dependencies: [], dependents: [] };
    return {
      dependencies: (dependenciesOf.all(id) as EdgeRow[]).map(toEdge),
      dependents: (dependentsOf.all(id) as EdgeRow[]).map(toEdge),
    };
  }

  return { planInsert, insertEdges, completed, failed, deleting, jobDependencies };
}

/** The dependency helpers of a connection (one per database handle). */
const helpers = new WeakMap<object, ReturnType<typeof createDependencyMethods>>();
export function dependenciesOf(ctx: SqliteContext): ReturnType<typeof createDependencyMethods> {
  let found = helpers.get(ctx.db);
  if (!found) {
    found = createDependencyMethods(ctx);
    helpers.set(ctx.db, found);
  }
  return found;
}
