/**
 * Retention on PostgreSQL: delete finished jobs in small batches through the finished-at index
 * (`jobs_finished`), oldest finish first. Rows another transaction holds are skipped (SKIP
 * LOCKED): a prune never waits behind, nor blocks, an admin write on the same jobs.
 */
import type { EpochMs } from '../../core/types.js';
import type {
  FinishedJobFilter,
  JobDeleteFinishedParams,
  JobFinishedCutoffParams,
} from '../../driver/driver.js';
import type { PgContext } from './context.js';
import { epochMs } from './row.js';

/** The filter as SQL over alias `j`: states are literals (a closed, checked set), lists are bound. */
const filterSql = (filter: FinishedJobFilter): string => `
  j.finished_at IS NOT NULL
  AND j.state IN (${filter.states.map((state) => `'${state}'`).join(', ')})
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

export async function jobDeleteFinished(ctx: PgContext, params: JobDeleteFinishedParams): Promise<number> {
  ctx.assertOpen();
  const rows = await ctx.query<{ n: string }>(
    'jobDeleteFinished',
    `WITH doomed AS (
       SELECT j.id FROM ${ctx.s}.jobs j
       WHERE ${filterSql(params)}
         AND ($4::float8 IS NULL OR j.finished_at < to_timestamp($4::float8 / 1000))
       ORDER BY j.finished_at
       LIMIT $5
       FOR UPDATE SKIP LOCKED
     ),
     deleted AS (DELETE FROM ${ctx.s}.jobs j USING doomed WHERE j.id = doomed.id RETURNING j.id),
     -- A pruned dependent's edges go with it (a pruned dependency's edges were resolved when it finished).
     edges AS (DELETE FROM ${ctx.s}.dependencies e USING deleted WHERE e.job_id = deleted.id RETURNING 1)
     SELECT count(*) AS n FROM deleted WHERE (SELECT count(*) FROM edges) >= 0`,
    [...filterArgs(params), params.finishedBefore ?? null, params.limit],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function jobFinishedCutoff(
  ctx: PgContext,
  params: JobFinishedCutoffParams,
): Promise<EpochMs | null> {
  ctx.assertOpen();
  const rows = await ctx.query<{ finished_at: number }>(
    'jobFinishedCutoff',
    `SELECT ${epochMs('j.finished_at')} AS finished_at FROM ${ctx.s}.jobs j
     WHERE ${filterSql(params)}
     ORDER BY j.finished_at DESC
     LIMIT 1 OFFSET $4`,
    [...filterArgs(params), params.keep],
  );
  return rows[0]?.finished_at ?? null;
}
