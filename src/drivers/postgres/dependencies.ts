/**
 * Job dependencies on PostgreSQL (see src/driver/dependencies.ts for the edge states). Every
 * function here runs inside a transaction the caller opened (`q` is a context bound to it) and
 * issues its statements after the caller's write locked the rows that write changed, so each
 * statement's snapshot is taken after that lock:
 *
 * - an insert locks the dependencies it names (`FOR UPDATE`, in id order) before it reads their
 *   state, so a dependency finishing at the same moment either finished before (its state says
 *   so, the edge starts resolved) or waits for the insert to commit and then sees the new edge;
 * - a finish (or cancel, or delete) reads the edges after locking the dependency, so it sees every
 *   edge committed before that lock — the hot finalize statement never resolves edges itself (it
 *   leaves jobs with dependents to the transactional path, see jobs-lease.ts);
 * - decrements of a dependent's counter are serialised by its row lock (taken in id order), so
 *   of two dependencies finishing at once in two processes exactly one sees the counter reach 0.
 */
import { DependencyFailedError, DependencyNotFoundError } from '../../core/errors.js';
import type { EpochMs, JobState } from '../../core/types.js';
import {
  CHANNELS,
  type DependencyEdge,
  type DependencyEdgeState,
  type DependencyPolicy,
  type DependentChange,
  type JobDependencies,
  type JobInsertParams,
} from '../../driver/driver.js';
import type { PgContext } from './context.js';
import { flowChanged } from './flow.js';
import { compareIds, epochMs, isJobId } from './row.js';

/** How one job of an insert batch starts (see `planInsert`). */
export interface InsertPlan {
  /** Edges holding the job (waiting or stuck): > 0 means it is stored `blocked`. */
  waiting: number;
  edges: { target: string | { index: number }; onFailure: DependencyPolicy; state: DependencyEdgeState }[];
}

/**
 * Lock the existing jobs a batch names and decide how each job starts: every named job must
 * exist (else DependencyNotFoundError); one already ended without completing resolves its edge by
 * the policy now (`run`: holds nothing; `block`: stuck; `cancel`: DependencyFailedError).
 */
export async function planInsert(
  q: PgContext,
  jobs: readonly JobInsertParams[],
): Promise<(InsertPlan | undefined)[]> {
  const named = new Set<string>();
  for (const job of jobs) for (const dep of job.dependsOn ?? []) if ('jobId' in dep) named.add(dep.jobId);
  const valid = [...named].filter(isJobId).sort(compareIds);
  const rows =
    valid.length === 0
      ? []
      : await q.query<{ id: string; state: JobState }>(
          'jobInsertMany',
          `SELECT j.id::text AS id, j.state FROM ${q.s}.jobs j WHERE j.id = ANY($1::bigint[]) ORDER BY j.id FOR UPDATE`,
          [valid],
        );
  const states = new Map(rows.map((r) => [r.id, r.state]));
  const missing = [...named].filter((id) => !states.has(id));
  if (missing.length > 0) throw new DependencyNotFoundError(missing);
  return jobs.map((job) => {
    if (!job.dependsOn?.length) return undefined;
    const plan: InsertPlan = { waiting: 0, edges: [] };
    for (const dep of job.dependsOn) {
      let state: DependencyEdgeState = 'waiting';
      if ('jobId' in dep) {
        const current = states.get(dep.jobId)!;
        if (current === 'completed') state = 'done';
        else if (current === 'abandoned' || current === 'cancelled') {
          if (dep.onFailure === 'cancel') throw new DependencyFailedError(dep.jobId, current);
          state = dep.onFailure === 'run' ? 'ignored' : 'stuck';
        }
      }
      if (state === 'waiting' || state === 'stuck') plan.waiting++;
      plan.edges.push({
        target: 'jobId' in dep ? dep.jobId : { index: dep.index },
        onFailure: dep.onFailure,
        state,
      });
    }
    return plan;
  });
}

/**
 * Store a batch's edges once its rows exist (`ids[i]` is item i's id) and count them on the
 * dependencies; returns, per blocked item, the ids holding it.
 */
export async function insertEdges(
  q: PgContext,
  plans: readonly (InsertPlan | undefined)[],
  ids: readonly string[],
): Promise<({ all: string[]; stuck: string[] } | undefined)[]> {
  const jobIds: string[] = [];
  const targets: string[] = [];
  const policies: string[] = [];
  const states: string[] = [];
  const blockedOn = plans.map((plan, i) => {
    if (!plan) return undefined;
    const holding: string[] = [];
    const stuck: string[] = [];
    for (const edge of plan.edges) {
      const target = typeof edge.target === 'string' ? edge.target : ids[edge.target.index]!;
      jobIds.push(ids[i]!);
      targets.push(target);
      policies.push(edge.onFailure);
      states.push(edge.state);
      if (edge.state === 'waiting' || edge.state === 'stuck') holding.push(target);
      if (edge.state === 'stuck') stuck.push(target);
    }
    return plan.waiting > 0 ? { all: holding, stuck } : undefined;
  });
  if (jobIds.length === 0) return blockedOn;
  await q.query(
    'jobInsertMany',
    `WITH e AS (
       INSERT INTO ${q.s}.dependencies (job_id, depends_on, on_failure, state)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])
       ON CONFLICT DO NOTHING
       RETURNING depends_on
     ),
     counted AS (
       UPDATE ${q.s}.jobs j SET dependents = j.dependents + c.n
       FROM (SELECT depends_on, count(*) AS n FROM e GROUP BY depends_on) c
       WHERE j.id = c.depends_on
       RETURNING j.id
     )
     SELECT count(*) FROM counted`,
    [jobIds, targets, policies, states],
  );
  return blockedOn;
}

const CHANGED = `j.id::text AS id, j.task, j.queue, j.correlation_id, j.attempt, j.max_attempts, j.state,
  ${epochMs('j.run_at')} AS run_at`;

interface ChangedRow {
  id: string;
  task: string;
  queue: string;
  correlation_id: string;
  attempt: number;
  max_attempts: number;
  state: JobState;
  run_at: number;
}

const toChange = (row: ChangedRow, dependencyId: string, at: EpochMs): DependentChange => ({
  id: row.id,
  task: row.task,
  queue: row.queue,
  correlationId: row.correlation_id,
  attempt: row.attempt,
  maxAttempts: row.max_attempts,
  state: row.state as DependentChange['state'],
  dependencyId,
  runAt: row.run_at,
  at,
});

/** Lock `ids` in id order (so two writers touching the same dependents cannot deadlock). */
async function lockJobs(q: PgContext, ids: readonly string[]): Promise<void> {
  await q.query(
    'dependencies',
    `SELECT 1 FROM ${q.s}.jobs j WHERE j.id = ANY($1::bigint[]) ORDER BY j.id FOR UPDATE`,
    [ids],
  );
}

/**
 * One statement: edges `released` (a CTE of `job_id, depends_on`, defined by `edgesSql`) stop
 * holding their dependents; the dependents are locked in id order, their counters go down, and
 * those that reach 0 while blocked become due (and their queues are notified on commit). The
 * UPDATE computes from the newest row version (READ COMMITTED re-reads a row a concurrent
 * transaction changed), so two of these racing on one dependent both count.
 */
const releaseSql = (s: string, edgesSql: string): string => `
WITH released AS (${edgesSql}),
c AS (SELECT r.job_id, count(*) AS n, max(r.depends_on) AS dep FROM released r GROUP BY r.job_id),
locked AS (
  SELECT j.id, j.state FROM ${s}.jobs j WHERE j.id IN (SELECT c.job_id FROM c) ORDER BY j.id FOR UPDATE
),
changed AS (
  UPDATE ${s}.jobs j
  SET dependencies_waiting = j.dependencies_waiting - c.n,
      state = CASE WHEN j.state = 'blocked' AND j.dependencies_waiting - c.n <= 0
                   THEN CASE WHEN j.run_at > to_timestamp($2::float8 / 1000) THEN 'scheduled' ELSE 'pending' END
                   ELSE j.state END
  FROM c JOIN locked l ON l.id = c.job_id
  WHERE j.id = c.job_id
  RETURNING l.state AS previous_state, c.dep::text AS dep, ${CHANGED}
),
woken AS (
  SELECT pg_notify($3, q.queue)
  FROM (SELECT DISTINCT queue FROM changed WHERE previous_state = 'blocked' AND state = 'pending') q
)
SELECT * FROM changed WHERE previous_state = 'blocked' AND state <> 'blocked' AND (SELECT count(*) FROM woken) >= 0`;

const changesOf = (rows: (ChangedRow & { dep: string })[], at: EpochMs): DependentChange[] =>
  rows.sort((a, b) => compareIds(a.id, b.id)).map((row) => toChange(row, row.dep, at));

/**
 * Edges stop holding these dependents (`released`: dependent id → the dependency that released
 * it); those whose counter reaches 0 become due. Returns them.
 */
async function release(
  q: PgContext,
  released: readonly { jobId: string; dependencyId: string }[],
  at: EpochMs,
): Promise<DependentChange[]> {
  if (released.length === 0) return [];
  const rows = await q.query<ChangedRow & { dep: string }>(
    'dependencies',
    releaseSql(q.s, 'SELECT * FROM unnest($1::bigint[], $4::bigint[]) AS r(job_id, depends_on)'),
    [released.map((r) => r.jobId), at, q.channel(CHANNELS.jobAvailable), released.map((r) => r.dependencyId)],
  );
  // A dependent that became due may be keyed: claims here and elsewhere must not trust an idle
  // mark taken before (flow.ts; at worst another process hears of it after its 1 s bound).
  if (rows.length > 0) flowChanged(q, true);
  return changesOf(rows, at);
}

/**
 * Jobs `ids` completed: their waiting and stuck edges are done, and the dependents they held
 * last become due — one statement. Returns what that did.
 */
export async function dependenciesCompleted(
  q: PgContext,
  ids: readonly string[],
  at: EpochMs,
): Promise<DependentChange[]> {
  if (ids.length === 0) return [];
  const rows = await q.query<ChangedRow & { dep: string }>(
    'dependencies',
    releaseSql(
      q.s,
      `UPDATE ${q.s}.dependencies e SET state = 'done'
       WHERE e.depends_on = ANY($1::bigint[]) AND e.state IN ('waiting', 'stuck')
       RETURNING e.job_id, e.depends_on`,
    ),
    [ids, at, q.channel(CHANNELS.jobAvailable)],
  );
  return changesOf(rows, at);
}

/**
 * Jobs `ids` ended without completing (abandoned, cancelled, deleted): each waiting edge gets its
 * policy, and the dependents that cancels are handled the same way, level by level.
 */
export async function dependenciesFailed(
  q: PgContext,
  ids: readonly string[],
  at: EpochMs,
): Promise<DependentChange[]> {
  const out: DependentChange[] = [];
  let frontier = [...ids];
  while (frontier.length > 0) {
    const edges = await q.query<{ job_id: string; depends_on: string; on_failure: DependencyPolicy }>(
      'dependencies',
      `UPDATE ${q.s}.dependencies e
       SET state = CASE e.on_failure WHEN 'run' THEN 'ignored' WHEN 'block' THEN 'stuck' ELSE 'cancelled' END
       WHERE e.depends_on = ANY($1::bigint[]) AND e.state = 'waiting'
       RETURNING e.job_id::text AS job_id, e.depends_on::text AS depends_on, e.on_failure`,
      [frontier],
    );
    frontier = [];
    if (edges.length === 0) break;
    const by = (policy: DependencyPolicy) => edges.filter((e) => e.on_failure === policy);
    out.push(
      ...(await release(
        q,
        by('run').map((e) => ({ jobId: e.job_id, dependencyId: e.depends_on })),
        at,
      )),
    );
    const blocked = by('block');
    if (blocked.length > 0) {
      const rows = await q.query<ChangedRow>(
        'dependencies',
        `SELECT ${CHANGED} FROM ${q.s}.jobs j WHERE j.id = ANY($1::bigint[]) AND j.state = 'blocked' ORDER BY j.id`,
        [blocked.map((e) => e.job_id)],
      );
      const cause = new Map(blocked.map((e) => [e.job_id, e.depends_on]));
      out.push(...rows.map((row) => toChange(row, cause.get(row.id)!, at)));
    }
    const cancel = by('cancel');
    if (cancel.length > 0) {
      const cancelIds = [...new Set(cancel.map((e) => e.job_id))].sort(compareIds);
      await lockJobs(q, cancelIds);
      const rows = await q.query<ChangedRow>(
        'dependencies',
        `UPDATE ${q.s}.jobs j SET state = 'cancelled', finished_at = to_timestamp($2::float8 / 1000)
         WHERE j.id = ANY($1::bigint[]) AND j.state = 'blocked'
         RETURNING ${CHANGED}`,
        [cancelIds, at],
      );
      const cause = new Map(cancel.map((e) => [e.job_id, e.depends_on]));
      rows.sort((a, b) => compareIds(a.id, b.id));
      out.push(...rows.map((row) => toChange(row, cause.get(row.id)!, at)));
      frontier = rows.map((row) => row.id);
    }
  }
  return out;
}

interface EdgeRow {
  job_id: string;
  depends_on: string;
  on_failure: DependencyPolicy;
  state: DependencyEdgeState;
  task: string | null;
  job_state: JobState | null;
  result: string | null;
}

const toEdge = (row: EdgeRow): DependencyEdge => ({
  jobId: row.job_id,
  dependsOn: row.depends_on,
  onFailure: row.on_failure,
  state: row.state,
  other:
    row.task === null || row.job_state === null
      ? null
      : { task: row.task, state: row.job_state, resultJson: row.result },
});

export async function jobDependencies(ctx: PgContext, params: { id: string }): Promise<JobDependencies> {
  ctx.assertOpen();
  if (!isJobId(params.id)) return { dependencies: [], dependents: [] };
  const rows = await ctx.query<EdgeRow & { side: 'dependency' | 'dependent' }>(
    'jobDependencies',
    `SELECT 'dependency' AS side, e.job_id::text AS job_id, e.depends_on::text AS depends_on, e.on_failure, e.state,
            j.task, j.state AS job_state, j.result::text AS result
     FROM ${ctx.s}.dependencies e LEFT JOIN ${ctx.s}.jobs j ON j.id = e.depends_on
     WHERE e.job_id = $1::bigint
     UNION ALL
     SELECT 'dependent', e.job_id::text, e.depends_on::text, e.on_failure, e.state, j.task, j.state, NULL
     FROM ${ctx.s}.dependencies e LEFT JOIN ${ctx.s}.jobs j ON j.id = e.job_id
     WHERE e.depends_on = $1::bigint`,
    [params.id],
  );
  const side = (name: string, key: 'job_id' | 'depends_on') =>
    rows
      .filter((r) => r.side === name)
      .sort((a, b) => compareIds(a[key], b[key]))
      .map(toEdge);
  return { dependencies: side('dependency', 'depends_on'), dependents: side('dependent', 'job_id') };
}
