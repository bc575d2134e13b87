/**
 * Retention on SQLite: delete finished jobs in small batches through the finished-jobs index
 * (`jobwire_jobs_finished`, by state then finish time), oldest finish first, so a prune reads
 * only the rows of its state it deletes (plus those its queue and task filters pass over) and
 * holds the write lock — and the event loop — for one short statement.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { EpochMs } from '../../core/types.js';
import type {
  DeletedCompletionsPruneParams,
  FinishedJobFilter,
  FinishedState,
  JobDeleteFinishedParams,
  JobFinishedCutoffParams,
} from '../../driver/driver.js';
import type { SqliteContext } from './context.js';
import { statementCache } from './statement-cache.js';

/**
 * The WHERE clause and arguments of one state's branch (lists bound as JSON arrays). The state
 * is a literal: a closed set the retention guards checked, and the index's leading column.
 */
function whereOf(
  state: FinishedState,
  filter: FinishedJobFilter,
  finishedBefore: EpochMs | undefined,
): [string, unknown[]] {
  const conditions = [`state = '${state}'`, 'finished_at IS NOT NULL'];
  const args: unknown[] = [];
  if (finishedBefore !== undefined) {
    conditions.push('finished_at < ?');
    args.push(Math.floor(finishedBefore));
  }
  if (filter.queues && filter.queues.length > 0) {
    conditions.push('queue IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(filter.queues));
  }
  if (filter.excludeQueues && filter.excludeQueues.length > 0) {
    conditions.push('queue NOT IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(filter.excludeQueues));
  }
  if (filter.tasks && filter.tasks.length > 0) {
    conditions.push('task IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(filter.tasks));
  }
  return [conditions.join(' AND '), args];
}

/**
 * The first `?` (bound to a row count) ids and finish times of the filter's jobs in finish
 * order (`DESC` for newest first): one branch per state, each walking only its state's range of
 * `jobwire_jobs_finished` and stopping at the count, merged — so the work is at most
 * states × count rows whatever else the history holds.
 */
function firstFinished(
  filter: FinishedJobFilter,
  finishedBefore: EpochMs | undefined,
  direction: 'ASC' | 'DESC',
): [string, unknown[]] {
  const branches: string[] = [];
  const args: unknown[] = [];
  for (const state of filter.states) {
    const [where, branchArgs] = whereOf(state, filter, finishedBefore);
    branches.push(`SELECT * FROM (SELECT id, finished_at FROM jobwire_jobs INDEXED BY jobwire_jobs_finished
      WHERE ${where} ORDER BY finished_at ${direction} LIMIT @n)`);
    args.push(...branchArgs);
  }
  return [`${branches.join(' UNION ALL ')} ORDER BY finished_at ${direction}`, args];
}

/** The statement `jobDeleteFinished` runs, and its arguments (exported for the plan tests). */
export function deleteFinishedStatement(params: JobDeleteFinishedParams): { sql: string; args: unknown[] } {
  const [first, args] = firstFinished(params, params.finishedBefore, 'ASC');
  return {
    // RETURNING: the pruned ids, whose dependency edges go in the same transaction.
    sql: `DELETE FROM jobwire_jobs WHERE id IN (SELECT id FROM (${first} LIMIT @n)) RETURNING id`,
    args: [...args, { n: params.limit }],
  };
}

/** Build the retention methods (synchronous; the driver wraps them in promises). */
export function createRetentionMethods(ctx: SqliteContext) {
  const { db } = ctx;
  const prepared = statementCache(db);

  function jobDeleteFinished(params: JobDeleteFinishedParams): number {
    const { sql, args } = deleteFinishedStatement(params);
    return pruneTx.immediate(prepared(sql), args);
  }

  // A pruned dependent's edges go with it (a pruned dependency's edges were resolved when it finished).
  const deleteEdges = db.prepare('DELETE FROM jobwire_dependencies WHERE job_id = ?');
  const pruneTx = db.transaction((statement: BetterSqlite3.Statement, args: unknown[]) => {
    const rows = statement.all(...args) as { id: number }[];
    for (const row of rows) deleteEdges.run(row.id);
    return rows.length;
  });

  const pruneDeletedCompletions = db.prepare('DELETE FROM jobwire_deleted_completions WHERE at_second < ?');
  function deletedCompletionsPrune(params: DeletedCompletionsPruneParams): number {
    return pruneDeletedCompletions.run(Math.floor(params.before / 1000)).changes;
  }

  function jobFinishedCutoff(params: JobFinishedCutoffParams): EpochMs | null {
    const [first, args] = firstFinished(params, undefined, 'DESC');
    const sql = `SELECT finished_at FROM (${first}) LIMIT 1 OFFSET @n - 1`;
    const row = prepared(sql).get(...args, { n: params.keep + 1 }) as { finished_at: number } | undefined;
    return row ? row.finished_at : null;
  }

  return { jobDeleteFinished, jobFinishedCutoff, deletedCompletionsPrune };
}
