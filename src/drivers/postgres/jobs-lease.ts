/**
 * The running side of a job: claiming, heart-beating, finishing and releasing (rescue is in
 * `jobs-rescue.ts`). Every write after the claim is fenced: it applies only while the job is
 * still `running` under the presented lease token, so a rescued or cancelled job can never be
 * finished twice.
 */
import { storedErrorJson } from '../../core/serialize.js';
import type { EpochMs } from '../../core/types.js';
import { dependentEntry } from '../../driver/dependencies.js';
import {
  CHANNELS,
  DEFAULT_MAX_INTERRUPTIONS,
  type DependentChange,
  type FinalizeItem,
  type FinalizeResult,
  type JobFinalizeManyParams,
  type JobHeartbeatManyParams,
  type JobReleaseParams,
} from '../../driver/driver.js';
import type { LogEntry } from '../../driver/event-log.js';
import type { PgContext } from './context.js';
import { dependenciesCompleted, dependenciesFailed } from './dependencies.js';
import { insertEntries } from './events.js';
import { finalizeLogParams, joinItemEvents, logItemsSql } from './lease-log.js';
import { columnSql, packColumns } from './packed-columns.js';
import { compareIds, epochMs, idParam, isJobId, leaseStartSql, nowSql } from './row.js';

/**
 * How the hot statements (claim, finalize, heartbeat, release) reach `jobs`, whatever the
 * planner statistics say. Statistics taken while no job ran estimate one `running` row, and any
 * statement whose WHERE names `state = 'running'` may then be planned over the `jobs_rescue`
 * partial index — a scan of every running job, once per batch item as the inner side of a
 * nested loop (2,100 running × 1,000 items = 2 M rows filtered, about a second per batch). So:
 *
 * - each batch item is looked up by primary key in a LATERAL subquery that names only `id` and
 *   `lease_token`, which no partial index matches; `OFFSET 0` keeps it from being flattened
 *   into a join and keeps the fence's `state = 'running'` test outside it, so it can only run as
 *   a nested loop driven by the batch;
 * - the UPDATE then joins those rows by `id` and requires `lease_token` and `state` to still
 *   equal what the lookup read. That is the whole fence, yet no condition of the UPDATE names
 *   the constant `'running'`, so no partial index can serve it either. The finalize's UPDATE
 *   names its rows by the addresses the lookup read (`ctid = ANY(…)`, a TID scan: no second
 *   primary-key descent per job, 14 % fewer buffer reads for 500 jobs); the heartbeat's and the
 *   release's by `id = ANY(batch ids)`, through the primary key. A row another transaction
 *   updated after the lookup read it (a heartbeat, a cancel) has a newer version at another
 *   address, which the TID scan does not follow: the statement leaves that item unapplied, and
 *   `refusedItems` finds it still running under its token and writes it in a transaction of its
 *   own (`finalizeWithDependents`, whose UPDATE goes by id and so follows newer versions),
 *   fenced again there — rare, and never applied twice;
 * - the claim's UPDATE names its rows by physical address, `ctid = ANY(array)`: a TID scan, which
 *   no statistics can turn into anything else, instead of a join whose method a generic plan's
 *   10%-of-rows LIMIT guess decides (a merge join along the whole primary key, finished rows
 *   included). The addresses come from the same statement's `FOR UPDATE` lock, so no other
 *   transaction can move those rows in between (a row updated before the lock is locked, and its
 *   address read, in its newest version). It also spares a primary-key descent per job: about a
 *   quarter of the claim UPDATE's buffer reads.
 *
 * `test/postgres-analyzed.test.ts` checks these plans on an analyzed table.
 */

/** A statement as the driver sends it; exported so tests can EXPLAIN exactly that. */
export interface Statement {
  text: string;
  values: unknown[];
}

/**
 * One statement for the whole batch. DISTINCT ON keeps the first item per id, as if the items
 * were applied one by one: among the items that pass the fence, the first one per job applies
 * (after it the job is no longer running, so later ones would be fenced off). The fence is
 * tested on rows looked up by primary key, one per item (see the note at the top).
 */
const finalizeSql = (
  s: string,
  log: boolean,
  withDependents = false,
  packed = false,
  progress = false,
  deleting = false,
): string => `
WITH clock AS (SELECT ${nowSql('$7')} AS now),
f AS MATERIALIZED (
  SELECT DISTINCT ON (f.id) ${
    deleting
      ? `f.id, f.token, ${DELETE_OUTCOME_SQL} AS outcome, f.result, f.error, f.delay_ms${progress ? ', f.progress' : ''}, f.ord`
      : 'f.*'
  }, j.tid, j.state, j.dependents
  FROM unnest(${finalizeColumns(log, progress)
    .map(([param, type]) => columnSql(param, type, packed))
    .join(', ')})
       WITH ORDINALITY AS f(id, token, outcome, result, error, delay_ms${progress ? ', progress' : ''}, ord)
  CROSS JOIN LATERAL (
    SELECT j.ctid AS tid, j.state, j.dependents${deleting ? ', j.dedup_key' : ''} FROM ${s}.jobs j WHERE j.id = f.id AND j.lease_token = f.token OFFSET 0
  ) j
  WHERE j.state = 'running'${withDependents ? '' : ' AND j.dependents = 0'}
  ORDER BY f.id, f.ord
)${deleting ? deletedCompletionsSql(s) : ''}
, ${deleting ? 'updated' : 'finalized'} AS (
UPDATE ${s}.jobs j
SET state = CASE f.outcome WHEN 'completed' THEN 'completed' WHEN 'abandoned' THEN 'abandoned' ELSE 'scheduled' END,
    result = CASE WHEN f.outcome = 'completed' THEN f.result::json ELSE j.result END,
    finished_at = CASE WHEN f.outcome IN ('completed', 'abandoned') THEN clock.now END,
    run_at = CASE WHEN f.outcome IN ('retry', 'snoozed') THEN clock.now + f.delay_ms * interval '1 millisecond'
                  ELSE j.run_at END,
    errors = CASE WHEN f.error IS NULL THEN j.errors ELSE j.errors || jsonb_build_array(f.error::jsonb) END,
    attempt = CASE WHEN f.outcome = 'snoozed' THEN j.attempt - 1 ELSE j.attempt END,${
      progress ? '\n    progress = COALESCE(f.progress::json, j.progress),' : ''
    }
    lease_expires_at = NULL,
    worker_id = NULL
FROM f CROSS JOIN clock
WHERE ${
  // The transactional path by id: it must follow a row updated meanwhile to its newest version.
  withDependents
    ? `j.id = ANY (${columnSql('$1', 'bigint', packed)})`
    : `j.ctid = ANY (ARRAY(SELECT f.tid FROM f${deleting ? " WHERE f.outcome <> 'delete'" : ''}))`
} AND j.id = f.id AND j.lease_token = f.token AND j.state = f.state
  AND j.dependents = f.dependents
RETURNING f.ord, f.outcome, ${epochMs('j.run_at')} AS run_at${log ? ', j.id' : ''}
)${
  deleting
    ? `
, finalized AS (SELECT * FROM updated UNION ALL SELECT ord, outcome, run_at${log ? ', id' : ''} FROM deleted)`
    : ''
}${log ? logItemsSql(s, 'finalized', '$8', '$9') : ''}
${APPLIED_SQL}${deleting ? DELETED_SQL : ''}`;

/**
 * A completion to delete (`FinalizeItem.deleteAtCompletion`, sent as the outcome `delete`) is
 * written as a plain completion when its job has a dedup key: a `unique` rule's finished
 * states, a throttle's or debounce's window read that row. (A job with dependents never gets
 * here: the lookup leaves it to the transactional path, which keeps it.)
 */
const DELETE_OUTCOME_SQL = `CASE WHEN f.outcome = 'delete' AND j.dedup_key IS NOT NULL THEN 'completed' ELSE f.outcome END`;

/**
 * The deleting finalize's own CTEs: the fenced DELETE of the completions to delete (by the
 * addresses the lookup read, re-checked as the UPDATE is), and their count added to this
 * second's row of `deleted_completions` for the queue, under this connection's server process
 * id, so finalizes of several connections never wait on one counter row. `queueStats` adds
 * those counts to the completed jobs it finds; the leader's pruner deletes rows past a day.
 */
const deletedCompletionsSql = (s: string): string => `
, deleted AS (
DELETE FROM ${s}.jobs j
USING f
WHERE j.ctid = ANY (ARRAY(SELECT f.tid FROM f WHERE f.outcome = 'delete'))
  AND j.id = f.id AND j.lease_token = f.token AND j.state = f.state
  AND j.dependents = f.dependents AND j.dedup_key IS NULL
RETURNING f.ord, 'completed'::text AS outcome, ${epochMs('j.run_at')} AS run_at, j.id, j.queue
)
, counted AS (
INSERT INTO ${s}.deleted_completions AS c (queue, at_second, shard, n)
SELECT d.queue, floor(extract(epoch FROM clock.now))::bigint, pg_backend_pid(), count(*)::int
FROM deleted d CROSS JOIN clock GROUP BY d.queue, clock.now
ON CONFLICT (at_second, queue, shard) DO UPDATE SET n = c.n + excluded.n
)`;

/** The deleting finalize's extra answer column: the positions of the items whose row it deleted. */
const DELETED_SQL = `,
  (SELECT string_agg(ord::text, ',') FROM deleted) AS deleted`;

/** The finalize statement's item columns and their element types, in `unnest` order. */
const FINALIZE_COLUMNS: readonly (readonly [string, string])[] = [
  ['$1', 'bigint'],
  ['$2', 'bigint'],
  ['$3', 'text'],
  ['$4', 'text'],
  ['$5', 'text'],
  ['$6', 'float8'],
];

/**
 * The columns with, when an item carries progress no heartbeat stored, the progress column: the
 * parameter after the log's two, or in their place when the log is off.
 */
function finalizeColumns(log: boolean, progress: boolean): readonly (readonly [string, string])[] {
  return progress ? [...FINALIZE_COLUMNS, [log ? '$10' : '$8', 'text']] : FINALIZE_COLUMNS;
}

/**
 * The answer of a fenced batch write: ONE row whatever the batch size — the applied items'
 * positions (1-based, comma-separated), the due times of applied retry and snoozed items as
 * `position:epoch-ms` pairs, and the statement time (also when nothing applied). A row per item
 * cost the client more to parse than the rest of the reply.
 */
const APPLIED_SQL = `SELECT (SELECT string_agg(ord::text, ',') FROM finalized) AS applied,
  (SELECT string_agg(ord::text || ':' || run_at::bigint::text, ',') FROM finalized
   WHERE outcome IN ('retry', 'snoozed')) AS due,
  (SELECT ${epochMs('now')} FROM clock) AS at`;

/** `APPLIED_SQL`'s row (and `DELETED_SQL`'s column in a deleting finalize). */
interface AppliedRow {
  applied: string | null;
  due: string | null;
  at: number;
  deleted?: string | null;
}

/** Item index (0-based) → due time written (or undefined for completions and abandonments). */
function appliedItems(row: AppliedRow): Map<number, EpochMs | undefined> {
  const applied = new Map<number, EpochMs | undefined>();
  if (row.applied) for (const ord of row.applied.split(',')) applied.set(Number(ord) - 1, undefined);
  if (row.due)
    for (const pair of row.due.split(',')) {
      const colon = pair.indexOf(':');
      applied.set(Number(pair.slice(0, colon)) - 1, Number(pair.slice(colon + 1)));
    }
  return applied;
}

/**
 * The finalize statement `jobFinalizeMany` runs (for a non-empty batch). It leaves alone jobs
 * that have dependents: `dependents` > 0 in the lookup, or changed since (a dependent inserted
 * after the statement's snapshot bumps it, and the UPDATE's re-check of `j.dependents =
 * f.dependents` then fails). Those are finished by `withDependents`, the same statement without
 * the lookup's condition, in a transaction that then resolves their edges (dependencies.ts).
 * The condition is a join with the lookup, not `j.dependents = 0` in the UPDATE: a constant there
 * made the planner misjudge the UPDATE's rows (finalize took 5× as long on a fresh table).
 */
export function finalizeStatement(
  s: string,
  params: JobFinalizeManyParams,
  withDependents = false,
): Statement {
  const { items } = params;
  const log = items.some((i) => i.events !== undefined);
  const progress = items.some((i) => i.progressJson !== undefined);
  // The transactional path keeps every row: its jobs have dependents, which read the result.
  const deleting = !withDependents && items.some(deletesRow);
  const values = [
    items.map((i) => idParam(i.id)),
    items.map((i) => i.leaseToken),
    items.map((i) => (deleting && deletesRow(i) ? 'delete' : i.outcome)),
    items.map((i) => (i.outcome === 'completed' ? i.resultJson : null)),
    items.map((i) => (i.outcome === 'retry' || i.outcome === 'abandoned' ? storedErrorJson(i.error) : null)),
    items.map((i) => (i.outcome === 'retry' || i.outcome === 'snoozed' ? Math.floor(i.delayMs) : null)),
    params.now ?? null,
    ...(log ? finalizeLogParams(items) : []),
    ...(progress ? [items.map((i) => i.progressJson ?? null)] : []),
  ];
  // The item columns as delimited texts (packed-columns.ts) whenever they can be.
  const packed = packColumns(values);
  return {
    text: finalizeSql(s, log, withDependents, packed !== undefined, progress, deleting),
    values: packed ?? values,
  };
}

/** A completion whose row is to be deleted (`FinalizeItem.deleteAtCompletion`). */
const deletesRow = (item: FinalizeItem): boolean =>
  item.outcome === 'completed' && item.deleteAtCompletion === true;

export async function jobFinalizeMany(
  ctx: PgContext,
  params: JobFinalizeManyParams,
): Promise<FinalizeResult[]> {
  ctx.assertOpen();
  const { items } = params;
  if (items.length === 0) return [];
  // Jobs known to have dependents when claimed go straight to the transactional path; the hot
  // statement would only refuse them (it re-checks every other job itself).
  if (items.some((item) => item.hasDependents)) {
    const hinted = items.flatMap((item, index) => (item.hasDependents ? [index] : []));
    const rest = items.flatMap((item, index) => (item.hasDependents ? [] : [index]));
    const [slow, hot] = await Promise.all([
      finalizeWithDependents(
        ctx,
        params,
        hinted.map((index) => items[index]!),
      ),
      rest.length === 0 ? [] : jobFinalizeMany(ctx, { ...params, items: rest.map((index) => items[index]!) }),
    ]);
    const results: FinalizeResult[] = new Array(items.length);
    hinted.forEach((index, i) => {
      results[index] = slow[i]!;
    });
    rest.forEach((index, i) => {
      results[index] = hot[i]!;
    });
    return results;
  }
  const { text, values } = finalizeStatement(ctx.s, params);
  const [row] = await ctx.query<AppliedRow>('jobFinalizeMany', text, values);
  const { at } = row!;
  const applied = appliedItems(row!);
  const deleted = new Set(row!.deleted ? row!.deleted.split(',').map((ord) => Number(ord) - 1) : []);
  const { acknowledged, withDependents } = await refusedItems(ctx, items, applied);
  const results: FinalizeResult[] = items.map((item, index) => {
    if (!applied.has(index))
      return { id: item.id, applied: acknowledged.has(`${item.id}:${item.leaseToken}`), at };
    // runAt only when the write happened: a fenced-off worker must not report a new due time.
    const runAt = applied.get(index);
    if (deleted.has(index)) return { id: item.id, applied: true, at, deleted: true };
    return runAt !== undefined
      ? { id: item.id, applied: true, runAt, at }
      : { id: item.id, applied: true, at };
  });
  if (withDependents.length > 0) {
    const slow = await finalizeWithDependents(
      ctx,
      params,
      withDependents.map((index) => items[index]!),
    );
    withDependents.forEach((index, i) => {
      results[index] = slow[i]!;
    });
  }
  return results;
}

/**
 * What became of the items the statement did not apply: completions fenced off because the job
 * is already `completed` under the same token — a retried write whose first reply was lost (see
 * Driver.jobFinalizeMany) — and items whose job is still running under their token, left alone
 * because the job has dependents or because another transaction updated its row after the
 * statement's lookup read it (the TID scan does not follow it, see the note at the top); both are
 * written by the transactional path. Looked up only when an item was refused, which is rare, so
 * the hot path stays one statement.
 */
async function refusedItems(
  ctx: PgContext,
  items: readonly FinalizeItem[],
  applied: ReadonlyMap<number, unknown>,
): Promise<{ acknowledged: Set<string>; withDependents: number[] }> {
  const refused = items.map((_, index) => index).filter((index) => !applied.has(index));
  const ids = [...new Set(refused.map((index) => items[index]!.id).filter(isJobId))];
  if (ids.length === 0) return { acknowledged: new Set(), withDependents: [] };
  const rows = await ctx.query<{ id: string; lease_token: string; state: string }>(
    'jobFinalizeMany',
    `SELECT j.id, j.lease_token, j.state FROM ${ctx.s}.jobs j
     WHERE j.id = ANY($1::bigint[]) AND j.state IN ('completed', 'running')`,
    [ids],
  );
  const key = (id: string, token: string | number) => `${id}:${token}`;
  const completed = new Set(rows.filter((r) => r.state === 'completed').map((r) => key(r.id, r.lease_token)));
  const running = new Set(rows.filter((r) => r.state === 'running').map((r) => key(r.id, r.lease_token)));
  const seen = new Set<string>();
  const withDependents = refused.filter((index) => {
    const item = items[index]!;
    const k = key(item.id, item.leaseToken);
    // The first item per job applies, as in the statement.
    if (!running.has(k) || seen.has(item.id)) return false;
    seen.add(item.id);
    return true;
  });
  const acknowledged = new Set(
    refused
      .map((index) => items[index]!)
      .filter((item) => item.outcome === 'completed' && completed.has(key(item.id, item.leaseToken)))
      .map((item) => key(item.id, item.leaseToken)),
  );
  return { acknowledged, withDependents };
}

/**
 * Finish jobs that have dependents: the same fenced statement, then their edges, in one
 * transaction (see dependencies.ts), so a dependent becomes due in the transaction that
 * completes its last dependency. The dependents' events follow the items' in the log.
 */
async function finalizeWithDependents(
  ctx: PgContext,
  params: JobFinalizeManyParams,
  items: readonly FinalizeItem[],
): Promise<FinalizeResult[]> {
  const { text, values } = finalizeStatement(ctx.s, { ...params, items }, true);
  const logOn = items.some((i) => i.events !== undefined);
  const results = await ctx.transaction('jobFinalizeMany', async (client) => {
    const q = ctx.within(client);
    // Locked first, in id order (as an insert naming them as dependencies locks them, so the two
    // cannot deadlock) — even a single row: the statement below then starts after any insert
    // that bumped `dependents` committed, so its lookup reads the count its UPDATE re-checks.
    // Without the lock an insert committing in between made the re-check refuse the item, the
    // pool took the job for lost, and it ran again after its lease expired.
    // Their waiting dependents are locked in the same id-ordered statement: the edges below are
    // resolved by several statements (completions, then each abandonment's policies), each
    // locking in id order but not all together, and two finalizes sharing dependents then
    // deadlocked (40P01: about one per 20 s with three workers on shared flows, a second lost
    // each time to deadlock_timeout and a pool:error).
    const ids = [...new Set(items.map((item) => item.id).filter(isJobId))].sort(compareIds);
    if (ids.length > 0)
      await q.query(
        'jobFinalizeMany',
        `SELECT 1 FROM ${ctx.s}.jobs j
         WHERE j.id = ANY($1::bigint[])
            OR j.id IN (SELECT e.job_id FROM ${ctx.s}.dependencies e
                        WHERE e.depends_on = ANY($1::bigint[]) AND e.state IN ('waiting', 'stuck'))
         ORDER BY j.id FOR UPDATE`,
        [ids],
      );
    const [answer] = await q.query<AppliedRow>('jobFinalizeMany', text, values);
    const { at } = answer!;
    const applied = appliedItems(answer!);
    const out: FinalizeResult[] = [];
    const entries: LogEntry[] = [];
    // The completions' edges in one statement; each change names the dependency that caused it.
    const completedIds = items.filter((item, index) => applied.has(index) && item.outcome === 'completed');
    const byDependency = new Map<string, DependentChange[]>();
    for (const change of await dependenciesCompleted(
      q,
      completedIds.map((item) => item.id),
      at,
    )) {
      byDependency.set(change.dependencyId, [...(byDependency.get(change.dependencyId) ?? []), change]);
    }
    for (const [index, item] of items.entries()) {
      if (!applied.has(index)) {
        out.push({ id: item.id, applied: false, at });
        continue;
      }
      const runAt = applied.get(index);
      const result: FinalizeResult =
        runAt !== undefined ? { id: item.id, applied: true, runAt, at } : { id: item.id, applied: true, at };
      const changes =
        item.outcome === 'completed'
          ? (byDependency.get(item.id) ?? [])
          : item.outcome === 'abandoned'
            ? await dependenciesFailed(q, [item.id], at)
            : [];
      if (changes.length > 0) result.dependents = changes;
      if (logOn) for (const change of changes) entries.push(dependentEntry(change));
      out.push(result);
    }
    await insertEntries(q, entries, client);
    return out;
  });
  return results;
}

/** Extends the leases that pass the fence; looked up by primary key like finalization. */
const heartbeatSql = (s: string): string => `
WITH f AS MATERIALIZED (
  SELECT f.*, j.state FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS f(id, token, progress)
  CROSS JOIN LATERAL (SELECT j.state FROM ${s}.jobs j WHERE j.id = f.id AND j.lease_token = f.token OFFSET 0) j
  WHERE j.state = 'running'
)
UPDATE ${s}.jobs j
SET lease_expires_at = ${leaseStartSql('$5')} + $4::float8 * interval '1 millisecond',
    progress = COALESCE(f.progress::json, j.progress)
FROM f
WHERE j.id = ANY ($1::bigint[]) AND j.id = f.id AND j.lease_token = f.token AND j.state = f.state
RETURNING j.id, f.token`;

/** The heartbeat statement `jobHeartbeatMany` runs (for a non-empty batch). */
export function heartbeatStatement(s: string, params: JobHeartbeatManyParams): Statement {
  const { leases } = params;
  return {
    text: heartbeatSql(s),
    values: [
      leases.map((l) => idParam(l.id)),
      leases.map((l) => l.leaseToken),
      leases.map((l) => l.progressJson ?? null),
      Math.floor(params.leaseMs),
      params.now ?? null,
    ],
  };
}

export async function jobHeartbeatMany(ctx: PgContext, params: JobHeartbeatManyParams): Promise<string[]> {
  ctx.assertOpen();
  const { leases } = params;
  if (leases.length === 0) return [];
  const { text, values } = heartbeatStatement(ctx.s, params);
  const rows = await ctx.query<{ id: string; token: string }>('jobHeartbeatMany', text, values);
  // Keyed by id and token: the same job may be named twice, once with a stale token.
  const held = new Set(rows.map((r) => `${r.id}:${r.token}`));
  return leases.filter((l) => !held.has(`${l.id}:${l.leaseToken}`)).map((l) => l.id);
}

/**
 * An interruption that would abandon a job with dependents is not written here: the lease stays
 * and the rescuer abandons the job once it expires, in the transaction that also resolves its
 * dependents' edges (jobs-rescue.ts). Like finalization, the first item per job that passes the fence applies, and the rows are
 * looked up by primary key (see the note at the top: joined on the fence, a release of many
 * leases on an analyzed table scanned every running job per item). A release keeps the job's
 * due time, so it waits where it waited before (ahead of jobs enqueued after it). A lease with
 * an interruption error also counts the interruption; the one that reaches the budget ($5)
 * abandons the job instead, keeping its last attempt number.
 */
const releaseSql = (s: string, log: boolean): string => `
WITH clock AS (SELECT ${nowSql('$3')} AS now),
f AS MATERIALIZED (
  SELECT DISTINCT ON (f.id) f.*, j.state, f.error IS NOT NULL AND j.interruptions + 1 >= $5 AS abandon
  FROM unnest($1::bigint[], $2::bigint[], $6::text[]) WITH ORDINALITY AS f(id, token, error, ord)
  CROSS JOIN LATERAL (
    SELECT j.state, j.interruptions FROM ${s}.jobs j WHERE j.id = f.id AND j.lease_token = f.token OFFSET 0
  ) j
  WHERE j.state = 'running'
  ORDER BY f.id, f.ord
),
released AS (
  UPDATE ${s}.jobs j
  SET state = CASE WHEN f.abandon THEN 'abandoned' ELSE 'pending' END,
      attempt = CASE WHEN f.abandon THEN j.attempt ELSE j.attempt - 1 END,
      started_at = CASE WHEN f.abandon THEN j.started_at END,
      finished_at = CASE WHEN f.abandon THEN clock.now END,
      interruptions = j.interruptions + CASE WHEN f.error IS NULL THEN 0 ELSE 1 END,
      errors = CASE WHEN f.error IS NULL THEN j.errors ELSE j.errors || jsonb_build_array(f.error::jsonb) END,
      lease_expires_at = NULL, worker_id = NULL
  FROM f CROSS JOIN clock
  WHERE j.id = ANY ($1::bigint[]) AND j.id = f.id AND j.lease_token = f.token AND j.state = f.state
    AND NOT (f.abandon AND j.dependents > 0)
  RETURNING f.ord, j.queue, j.state${log ? ', j.id' : ''}
)${log ? logItemsSql(s, 'released', '$7') : ''},
woken AS (SELECT pg_notify($4, q.queue) FROM (SELECT DISTINCT queue FROM released WHERE state = 'pending') q)
SELECT ord FROM released WHERE (SELECT count(*) FROM woken) >= 0`;

/**
 * The release statement `jobRelease` runs (for a non-empty batch); `channel` is the notifier
 * channel that announces the released jobs' queues.
 */
export function releaseStatement(s: string, params: JobReleaseParams, channel: string): Statement {
  const { leases } = params;
  const log = leases.some((l) => l.events !== undefined);
  return {
    text: releaseSql(s, log),
    values: [
      leases.map((l) => idParam(l.id)),
      leases.map((l) => l.leaseToken),
      params.now ?? null,
      channel,
      params.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS,
      leases.map((l) =>
        l.interruption === undefined ? null : JSON.stringify({ ...l.interruption, interrupted: true }),
      ),
      ...(log ? [joinItemEvents(leases)] : []),
    ],
  };
}

export async function jobRelease(ctx: PgContext, params: JobReleaseParams): Promise<string[]> {
  ctx.assertOpen();
  const { leases } = params;
  if (leases.length === 0) return [];
  await ctx.notifier.ready();
  const { text, values } = releaseStatement(ctx.s, params, ctx.channel(CHANNELS.jobAvailable));
  const rows = await ctx.query<{ ord: string }>('jobRelease', text, values);
  const released = new Set(rows.map((r) => Number(r.ord) - 1));
  return leases.filter((_, index) => released.has(index)).map((l) => l.id);
}
