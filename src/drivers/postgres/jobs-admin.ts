/** Reading and administering jobs: get, count, cancel, retry, delete (listing is in jobs-list.ts). */
import { JOB_STATES, type JobRecord, type JobState } from '../../core/types.js';
import {
  type CancelledJob,
  CHANNELS,
  type DeletedJob,
  type DependencyEdgeState,
  type DependencyPolicy,
  type DependentChange,
  dependencyFirstOrder,
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
import type { PgContext } from './context.js';
import { dependenciesFailed } from './dependencies.js';
import { inTransaction, withLog } from './events.js';
import type { Statement } from './jobs-lease.js';
import {
  compareIds,
  epochMs,
  isJobId,
  JOB_COLUMNS,
  type JobRow,
  nowSql,
  rowToRecord,
  validIds,
  zeroCounts,
} from './row.js';

/** Ids in the order the caller gave them (first occurrence), limited to those `found`. */
const inInputOrder = (ids: readonly string[], found: Set<string>): string[] =>
  [...new Set(ids)].filter((id) => found.has(id));

export async function jobGet(ctx: PgContext, params: JobGetParams): Promise<JobRecord | undefined> {
  ctx.assertOpen();
  if (!isJobId(params.id)) return undefined;
  const [row] = await ctx.query<JobRow>(
    'jobGet',
    `SELECT ${JOB_COLUMNS} FROM ${ctx.s}.jobs j WHERE j.id = $1`,
    [params.id],
  );
  return row ? rowToRecord(row) : undefined;
}

/** An empty filter list means "no filter", like leaving it out. */
const filterValue = (values: readonly string[] | undefined): readonly string[] | null =>
  values && values.length > 0 ? values : null;

/** States every job leaves; each has a partial index (`jobs_blocked`, `jobs_waiting`, `jobs_rescue`). */
const UNFINISHED: readonly JobState[] = ['blocked', 'scheduled', 'pending', 'running'];

/**
 * Counts of some states: one count per state, each naming its state as a constant so the
 * planner can match the partial index of that state. Statistics taken when most jobs waited
 * (as after a bulk enqueue) make a scan of the whole table look cheaper than the index for the
 * few left; when only unfinished states are asked for, the driver runs the statement under
 * `INDEX_COUNT_SETTINGS` (`noSeqScan`), so the count reads index entries of those states only,
 * never the finished history. `states` must be checked states: they are written into the text.
 */
/**
 * How counts of unfinished states are planned: by their partial indexes, entry by entry. Not a
 * scan of the table; not a bitmap scan, which stale statistics (every row pending) price as a
 * parallel one, and which never marks the index entries of rows already gone as dead, so every
 * later count between vacuums would read them again; an index scan marks them and skips them next time.
 */
export const INDEX_COUNT_SETTINGS = [
  'enable_seqscan = off',
  'enable_bitmapscan = off',
  'max_parallel_workers_per_gather = 0',
] as const;

/** `INDEX_COUNT_SETTINGS` for the rest of the transaction, in one statement. */
const INDEX_COUNT_SET_SQL = `SELECT ${INDEX_COUNT_SETTINGS.map((setting) => {
  const [name, value] = setting.split(' = ');
  return `set_config('${name}', '${value}', true)`;
}).join(', ')}`;

export function countStatesStatement(
  s: string,
  states: readonly JobState[],
  queues: readonly string[] | null,
): Statement & { noSeqScan: boolean } {
  return {
    text: states
      .map(
        (state) =>
          `SELECT '${state}'::text AS state, count(*) AS count FROM ${s}.jobs WHERE state = '${state}' AND ($1::text[] IS NULL OR queue = ANY($1::text[]))`,
      )
      .join('\nUNION ALL\n'),
    values: [queues],
    noSeqScan: states.every((state) => UNFINISHED.includes(state)),
  };
}

export async function jobCountByState<S extends JobState = JobState>(
  ctx: PgContext,
  params: JobCountByStateParams<S>,
): Promise<Record<S, number>> {
  ctx.assertOpen();
  const queues = filterValue(checkNames('queues', params.queues));
  const asked = checkStates(params.states) as readonly S[] | undefined;
  const states = asked?.length ? [...new Set(asked)] : undefined;
  if (states) {
    const { text, values, noSeqScan } = countStatesStatement(ctx.s, states, queues);
    const rows = noSeqScan
      ? await ctx.transaction('jobCountByState', async (client) => {
          await ctx.query('jobCountByState', INDEX_COUNT_SET_SQL, [], client);
          return ctx.query<{ state: S; count: string }>('jobCountByState', text, values, client);
        })
      : await ctx.query<{ state: S; count: string }>('jobCountByState', text, values);
    return Object.fromEntries(rows.map((row) => [row.state, Number(row.count)])) as Record<S, number>;
  }
  const rows = await ctx.query<{ state: JobState; count: string }>(
    'jobCountByState',
    `SELECT state, count(*) AS count FROM ${ctx.s}.jobs WHERE ($1::text[] IS NULL OR queue = ANY($1::text[])) GROUP BY state`,
    [queues],
  );
  const counts = zeroCounts();
  for (const row of rows) if (JOB_STATES.includes(row.state)) counts[row.state] = Number(row.count);
  return counts as Record<S, number>;
}

/** Locks the targets first so `previous_state` is the state the cancel actually replaced. */
const cancelSql = (s: string): string => `
WITH clock AS (SELECT ${nowSql('$2')} AS now),
target AS (
  SELECT j.id, j.state FROM ${s}.jobs j
  WHERE j.id = ANY($1::bigint[]) AND j.state IN ('blocked', 'scheduled', 'pending', 'running')
  FOR UPDATE
),
cancelled AS (
  UPDATE ${s}.jobs j
  SET state = 'cancelled', finished_at = clock.now, lease_expires_at = NULL, worker_id = NULL
  FROM target t CROSS JOIN clock
  WHERE j.id = t.id
  RETURNING j.id, j.task, j.queue, j.correlation_id, j.attempt, j.max_attempts, t.state AS previous_state,
            ${epochMs('clock.now')} AS at, j.dependents
),
stopped AS (SELECT pg_notify($3, id::text) FROM cancelled WHERE previous_state = 'running')
SELECT * FROM cancelled WHERE (SELECT count(*) FROM stopped) >= 0`;

export async function jobCancel(ctx: PgContext, params: JobCancelParams): Promise<CancelledJob[]> {
  ctx.assertOpen();
  const ids = validIds(params.ids);
  if (ids.length === 0) return [];
  await ctx.notifier.ready();
  const rows = await ctx.query<ChangedRow>('jobCancel', cancelSql(ctx.s), [
    ids,
    params.now ?? null,
    ctx.channel(CHANNELS.jobCancelled),
  ]);
  // What waits for a cancelled job gets its edges' policy; the caller runs this in a transaction.
  return changedJobs(ctx, params.ids, rows);
}

/** A job a cancel or a delete changed, as its RETURNING gives it. */
interface ChangedRow {
  id: string;
  task: string;
  queue: string;
  correlation_id: string;
  attempt: number;
  max_attempts: number;
  previous_state: JobState;
  at: number;
  dependents: number;
}

/**
 * The jobs a cancel or a delete changed, in the order `named` gives them, each with what that
 * did to the jobs depending on it: their edges' policy applied per job, lowest id first (the
 * order every writer locks in). Runs in the caller's transaction.
 */
async function changedJobs(
  ctx: PgContext,
  named: readonly string[],
  rows: readonly ChangedRow[],
): Promise<CancelledJob[]> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const changes = new Map<string, DependentChange[]>();
  for (const r of [...rows].sort((a, b) => compareIds(a.id, b.id))) {
    if (r.dependents === 0) continue;
    const found = await dependenciesFailed(ctx, [r.id], r.at);
    if (found.length > 0) changes.set(r.id, found);
  }
  return inInputOrder(named, new Set(byId.keys())).map((id) => {
    const r = byId.get(id)!;
    return {
      ...(changes.has(id) ? { dependents: changes.get(id)! } : {}),
      id: r.id,
      task: r.task,
      queue: r.queue,
      correlationId: r.correlation_id,
      attempt: r.attempt,
      maxAttempts: r.max_attempts,
      previousState: r.previous_state,
      at: r.at,
    };
  });
}

/**
 * A job whose unique key is now held by an active job stays where it is; among retried jobs that
 * share a key, the first named wins (as if retried one by one). The lock on `target` keeps a
 * concurrent retry from racing us.
 */
const retrySql = (s: string): string => `
WITH clock AS (SELECT ${nowSql('$2')} AS now),
named AS (SELECT id, min(ord) AS ord FROM unnest($1::bigint[]) WITH ORDINALITY AS i(id, ord) GROUP BY id),
target AS (
  SELECT j.id, j.unique_key, n.ord FROM ${s}.jobs j JOIN named n ON n.id = j.id
  WHERE j.state IN ('abandoned', 'cancelled', 'completed')
  ORDER BY j.id
  FOR UPDATE OF j
),
eligible AS (
  SELECT t.id FROM (
    SELECT t.*, row_number() OVER (PARTITION BY t.unique_key ORDER BY t.ord) AS nth FROM target t
  ) t
  WHERE t.unique_key IS NULL
     OR (t.nth = 1 AND NOT EXISTS (
           SELECT 1 FROM ${s}.jobs a
           WHERE a.unique_key = t.unique_key AND a.state IN ('scheduled', 'pending', 'running')))
),
retried AS (
  UPDATE ${s}.jobs j
  SET state = 'pending', attempt = 0, interruptions = 0, run_at = clock.now, result = NULL, finished_at = NULL,
      lease_expires_at = NULL, worker_id = NULL
  FROM eligible e CROSS JOIN clock
  WHERE j.id = e.id
  RETURNING ${JOB_COLUMNS}
),
woken AS (SELECT pg_notify($3, q.queue) FROM (SELECT DISTINCT queue FROM retried) q)
SELECT * FROM retried WHERE (SELECT count(*) FROM woken) >= 0`;

export async function jobRetry(ctx: PgContext, params: JobRetryParams): Promise<RetriedJob[]> {
  ctx.assertOpen();
  const ids = validIds(params.ids);
  if (ids.length === 0) return [];
  await ctx.notifier.ready();
  const channel = ctx.channel(CHANNELS.jobAvailable);
  const retry = async (on: PgContext, named: readonly string[]) =>
    on.query<JobRow>('jobRetry', retrySql(ctx.s), [named, params.now ?? null, channel]);
  const inOrder = (rows: readonly JobRow[], holds: ReadonlyMap<string, Holds> = new Map()) => {
    const byId = new Map(rows.map((r) => [r.id, r]));
    return inInputOrder(params.ids, new Set(byId.keys())).map((id): RetriedJob => {
      const record: RetriedJob = rowToRecord(byId.get(id)!);
      const held = holds.get(id);
      if (held) {
        record.state = 'blocked';
        record.blockedOn = held.on;
        if (held.stuck.length > 0) record.stuckOn = held.stuck;
      }
      return record;
    });
  };
  const once = async () => {
    // Most retried jobs have no dependencies: one statement, as before dependencies existed.
    const [first] = await ctx.query<{ any: boolean }>(
      'jobRetry',
      `SELECT EXISTS (SELECT 1 FROM ${ctx.s}.dependencies e WHERE e.job_id = ANY($1::bigint[])) AS any`,
      [ids],
    );
    if (!first?.any) return withLog(ctx, 'jobRetry', params.log, async (on) => inOrder(await retry(on, ids)));
    return inTransaction(ctx, 'jobRetry', params.log, async (on) => {
      const { rows, holds } = await retryWithDependencies(on, ids, retry);
      return inOrder(rows, holds);
    });
  };
  try {
    return await once();
  } catch (err) {
    // A concurrent insert took one of the keys between our check and our write (or a writer
    // locking along another path chose us as its deadlock's victim): look again.
    if (!isUniqueViolation(err) && !isDeadlock(err)) throw err;
    return once();
  }
}

/** The dependencies holding a job a retry put back `blocked`. */
interface Holds {
  on: string[];
  stuck: string[];
}

/**
 * Retry `ids`, some with dependencies (see `Driver.jobRetry`). The named jobs and their
 * dependencies are locked first, dependencies before dependents (the order a finish locks them
 * in), so a dependency finishing meanwhile either finished before (its state says so) or waits,
 * then sees the edges set here. Then the waves of `retryWave`, then each retried job's edges.
 */
async function retryWithDependencies(
  q: PgContext,
  ids: readonly string[],
  retry: (on: PgContext, named: readonly string[]) => Promise<JobRow[]>,
): Promise<{ rows: JobRow[]; holds: Map<string, Holds> }> {
  const named = [...new Set(ids)];
  const deps = await q.query<{ depends_on: string }>(
    'jobRetry',
    `SELECT DISTINCT e.depends_on::text AS depends_on FROM ${q.s}.dependencies e WHERE e.job_id = ANY($1::bigint[])`,
    [named],
  );
  const locking = [...new Set([...named, ...deps.map((d) => d.depends_on)])];
  const among = await q.query<{ job_id: string; depends_on: string }>(
    'jobRetry',
    `SELECT e.job_id::text AS job_id, e.depends_on::text AS depends_on FROM ${q.s}.dependencies e
     WHERE e.job_id = ANY($1::bigint[]) AND e.depends_on = ANY($1::bigint[])`,
    [locking],
  );
  const order = dependencyFirstOrder(
    locking,
    among.map((e) => ({ jobId: e.job_id, dependsOn: e.depends_on })),
  );
  await q.query(
    'jobRetry',
    `SELECT 1 FROM ${q.s}.jobs j WHERE j.id = ANY($1::bigint[])
     ORDER BY array_position($1::bigint[], j.id) FOR UPDATE`,
    [order],
  );
  const readEdges = async (of: readonly string[]): Promise<Map<string, RetryEdge[]>> => {
    const rows = await q.query<{
      job_id: string;
      depends_on: string;
      on_failure: DependencyPolicy;
      state: DependencyEdgeState;
      dependency_state: JobState | null;
    }>(
      'jobRetry',
      `SELECT e.job_id::text AS job_id, e.depends_on::text AS depends_on, e.on_failure, e.state,
              j.state AS dependency_state
       FROM ${q.s}.dependencies e LEFT JOIN ${q.s}.jobs j ON j.id = e.depends_on
       WHERE e.job_id = ANY($1::bigint[])`,
      [of],
    );
    const edges = new Map<string, RetryEdge[]>();
    for (const r of rows) {
      const edge: RetryEdge = {
        jobId: r.job_id,
        dependsOn: r.depends_on,
        onFailure: r.on_failure,
        state: r.state,
        dependencyState: r.dependency_state,
      };
      edges.set(r.job_id, [...(edges.get(r.job_id) ?? []), edge]);
    }
    return edges;
  };

  const rows: JobRow[] = [];
  let pending = named;
  while (pending.length > 0) {
    const { now, later } = retryWave(pending, await readEdges(pending));
    if (now.length === 0) break;
    rows.push(...(await retry(q, now)));
    pending = later;
  }

  // Each retried job with dependencies: its edges as its dependencies stand now.
  const holds = new Map<string, Holds>();
  const edges = await readEdges(rows.map((r) => r.id));
  const changed = { jobIds: [] as string[], dependsOn: [] as string[], states: [] as string[] };
  const counts = { ids: [] as string[], n: [] as number[] };
  for (const [jobId, list] of edges) {
    const on: string[] = [];
    const stuck: string[] = [];
    for (const edge of list) {
      const state = edgeAfterRetry(edge);
      if (state !== edge.state) {
        changed.jobIds.push(jobId);
        changed.dependsOn.push(edge.dependsOn);
        changed.states.push(state);
      }
      if (edgeHolds(state)) on.push(edge.dependsOn);
      if (state === 'stuck') stuck.push(edge.dependsOn);
    }
    counts.ids.push(jobId);
    counts.n.push(on.length);
    if (on.length > 0) holds.set(jobId, { on: on.sort(compareIds), stuck: stuck.sort(compareIds) });
  }
  if (changed.jobIds.length > 0) {
    await q.query(
      'jobRetry',
      `UPDATE ${q.s}.dependencies e SET state = v.state
       FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS v(job_id, depends_on, state)
       WHERE e.job_id = v.job_id AND e.depends_on = v.depends_on`,
      [changed.jobIds, changed.dependsOn, changed.states],
    );
  }
  if (counts.ids.length > 0) {
    await q.query(
      'jobRetry',
      `UPDATE ${q.s}.jobs j
       SET dependencies_waiting = v.n, state = CASE WHEN v.n > 0 THEN 'blocked' ELSE j.state END
       FROM unnest($1::bigint[], $2::int[]) AS v(id, n)
       WHERE j.id = v.id`,
      [counts.ids, counts.n],
    );
  }
  return { rows, holds };
}

function isDeadlock(err: unknown): boolean {
  const cause = err instanceof Error ? (err.cause ?? err) : err;
  return (cause as { code?: unknown } | null)?.code === '40P01';
}

function isUniqueViolation(err: unknown): boolean {
  const cause = err instanceof Error ? (err.cause ?? err) : err;
  return (cause as { code?: unknown } | null)?.code === '23505';
}

/**
 * Deleted dependencies can never complete: what waits for them gets its edges' policy, and the
 * edges of deleted dependents go. The caller runs this in a transaction (index.ts), with the
 * events its `log` makes of the result.
 */
export async function jobDelete(ctx: PgContext, params: JobDeleteParams): Promise<DeletedJob[]> {
  ctx.assertOpen();
  const ids = validIds(params.ids);
  if (ids.length === 0) return [];
  const rows = await ctx.query<ChangedRow>(
    'jobDelete',
    `DELETE FROM ${ctx.s}.jobs WHERE id = ANY($1::bigint[])
     RETURNING id, task, queue, correlation_id, attempt, max_attempts, state AS previous_state, dependents,
               ${epochMs(nowSql('$2'))} AS at`,
    [ids, params.now ?? null],
  );
  if (rows.length > 0) {
    await ctx.query('jobDelete', `DELETE FROM ${ctx.s}.dependencies e WHERE e.job_id = ANY($1::bigint[])`, [
      rows.map((r) => r.id),
    ]);
  }
  // What waited for each deleted job gets its edges' policy, as for a cancel.
  return changedJobs(ctx, params.ids, rows);
}
