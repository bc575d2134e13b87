/**
 * Retention on SQLite: delete finished jobs in small batches through the finished-at index
 * (`jobwire_jobs_finished`), oldest finish first, so a prune reads only the rows it deletes
 * (plus those its filters pass over) and holds the write lock for one short statement.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { EpochMs } from '../../core/types.js';
import type {
  FinishedJobFilter,
  JobDeleteFinishedParams,
  JobFinishedCutoffParams,
} from '../../driver/driver.js';
import type { SqliteContext } from './context.js';

/** The WHERE clause and its arguments for a filter (lists bound as JSON arrays). */
function whereOf(filter: FinishedJobFilter, finishedBefore: EpochMs | undefined): [string, unknown[]] {
  const conditions = ['finished_at IS NOT NULL', 'state IN (SELECT value FROM json_each(?))'];
  const args: unknown[] = [JSON.stringify(filter.states)];
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

/** Build the retention methods (synchronous; the driver wraps them in promises). */
export function createRetentionMethods(ctx: SqliteContext) {
  const { db } = ctx;
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  function jobDeleteFinished(params: JobDeleteFinishedParams): number {
    const [where, args] = whereOf(params, params.finishedBefore);
    const sql = `DELETE FROM jobwire_jobs WHERE id IN (
      SELECT id FROM jobwire_jobs INDEXED BY jobwire_jobs_finished WHERE ${where} ORDER BY finished_at LIMIT ?)
      RETURNING id`;
    return pruneTx.immediate(prepared(sql), [...args, params.limit]);
  }

  // A pruned dependent's edges go with it (a pruned dependency's edges were resolved when it finished).
  const deleteEdges = db.prepare('DELETE FROM jobwire_dependencies WHERE job_id = ?');
  const pruneTx = db.transaction((statement: BetterSqlite3.Statement, args: unknown[]) => {
    const rows = statement.all(...args) as { id: number }[];
    for (const row of rows) deleteEdges.run(row.id);
    return rows.length;
  });

  function jobFinishedCutoff(params: JobFinishedCutoffParams): EpochMs | null {
    const [where, args] = whereOf(params, undefined);
    const sql = `SELECT finished_at FROM jobwire_jobs INDEXED BY jobwire_jobs_finished WHERE ${where}
      ORDER BY finished_at DESC LIMIT 1 OFFSET ?`;
    const row = prepared(sql).get(...args, params.keep) as { finished_at: number } | undefined;
    return row ? row.finished_at : null;
  }

  return { jobDeleteFinished, jobFinishedCutoff };
}
