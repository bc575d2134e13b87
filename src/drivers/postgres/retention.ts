/**
 * Retention on PostgreSQL: delete finished jobs in small batches through the finished-jobs
 * index (`jobs_finished`, by state then finish time), oldest finish first. Rows another transaction holds are skipped (SKIP
 * LOCKED): a prune never waits behind, nor blocks, an admin write on the same jobs.
 */
import type { EpochMs } from '../../core/types.js';
import type {
  DeletedCompletionsPruneParams,
  FinishedJobFilter,
  FinishedState,
  JobDeleteFinishedParams,
  JobFinishedCutoffParams,
} from '../../driver/driver.js';
import type { PgContext } from './context.js';
import { epochMs } from './row.js';

/**
 * One state's rows matching the filter, as SQL over alias `j`: the state is a literal (a closed,
 * checked set, and the leading column of `jobs_finished`), lists are bound.
 */
const branchWhere = (state: FinishedState): string => `
  j.state = '${state}' AND j.finished_at IS NOT NULL
  AND ($1::text[] IS NULL OR j.queue = ANY($1::text[]))
  AND ($2::text[] IS NULL OR NOT (j.queue = ANY($2::text[])))
  AND ($3::text[] IS NULL OR j.task = ANY($3::text[]))`;

const listOrNull = (values: readonly string[] | undefined): readonly string[] | null =>
  values && values.length > 0 ? values : null;

const filterArgs = (filter: FinishedJobFilter): unknown[] => [
  listOrNull(filter.queues),
  listOrNull(filter.excludeQueues),
  listOrNull(filter.tasks),
];

/**
 * The first `count` (an SQL expression) jobs of the filter on schema `s` in finish order: one branch per
 * state, each reading only its state's range of `jobs_finished` up to the count, merged — so a
 * batch reads at most states × count rows whatever else the history holds. `extra` adds a
 * condition (and `lock` a row lock) to each branch.
 */
function firstFinished(
  s: string,
  filter: FinishedJobFilter,
  direction: 'ASC' | 'DESC',
  count: string,
  columns: string,
  extra = '',
  lock = '',
): string {
  return filter.states
    .map(
      // Each branch a subquery of its own: a row lock is not allowed on a branch of a UNION.
      (state) => `SELECT * FROM (SELECT ${columns} FROM ${s}.jobs j WHERE ${branchWhere(state)} ${extra}
         ORDER BY j.finished_at ${direction} LIMIT ${count} ${lock}) "${state}"`,
    )
    .join(' UNION ALL ');
}

/** The statement `jobDeleteFinished` sends (exported for the plan tests). */
export function deleteFinishedStatement(
  s: string,
  params: JobDeleteFinishedParams,
): { text: string; values: unknown[] } {
  const first = firstFinished(
    s,
    params,
    'ASC',
    '$5',
    'j.id, j.finished_at',
    // Two texts, not `($4 IS NULL OR finished_at < …)`: the driver prepares its statements, and a
    // generic plan of that OR cannot seek the cutoff in jobs_finished, so a prune with nothing
    // old enough walked every kept job of the state (seconds at millions of them).
    params.finishedBefore === undefined
      ? 'AND $4::float8 IS NULL'
      : 'AND j.finished_at < to_timestamp($4::float8 / 1000)',
    'FOR UPDATE SKIP LOCKED',
  );
  return {
    text: `WITH doomed AS (
       SELECT id FROM (${first}) f ORDER BY f.finished_at LIMIT $5
     ),
     deleted AS (DELETE FROM ${s}.jobs j USING doomed WHERE j.id = doomed.id RETURNING j.id),
     -- A pruned dependent's edges go with it (a pruned dependency's edges were resolved when it finished).
     edges AS (DELETE FROM ${s}.dependencies e USING deleted WHERE e.job_id = deleted.id RETURNING 1)
     SELECT count(*) AS n FROM deleted WHERE (SELECT count(*) FROM edges) >= 0`,
    values: [...filterArgs(params), params.finishedBefore ?? null, params.limit],
  };
}

export async function jobDeleteFinished(ctx: PgContext, params: JobDeleteFinishedParams): Promise<number> {
  ctx.assertOpen();
  const { text, values } = deleteFinishedStatement(ctx.s, params);
  const rows = await ctx.query<{ n: string }>('jobDeleteFinished', text, values);
  return Number(rows[0]?.n ?? 0);
}

export async function deletedCompletionsPrune(
  ctx: PgContext,
  params: DeletedCompletionsPruneParams,
): Promise<number> {
  ctx.assertOpen();
  const rows = await ctx.query<{ n: string }>(
    'deletedCompletionsPrune',
    `WITH gone AS (DELETE FROM ${ctx.s}.deleted_completions WHERE at_second < floor($1::float8 / 1000) RETURNING 1)
     SELECT count(*) AS n FROM gone`,
    [params.before],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function jobFinishedCutoff(
  ctx: PgContext,
  params: JobFinishedCutoffParams,
): Promise<EpochMs | null> {
  ctx.assertOpen();
  const first = firstFinished(ctx.s, params, 'DESC', '$4::bigint + 1', 'j.finished_at');
  const rows = await ctx.query<{ finished_at: number }>(
    'jobFinishedCutoff',
    `SELECT ${epochMs('f.finished_at')} AS finished_at FROM (${first}) f
     ORDER BY f.finished_at DESC
     LIMIT 1 OFFSET $4`,
    [...filterArgs(params), params.keep],
  );
  return rows[0]?.finished_at ?? null;
}
