/** Listing jobs newest first, a bounded read per page (see JobPage and JOB_LIST_SCAN_CAP). */
import type BetterSqlite3 from 'better-sqlite3';
import { InvalidOptionError } from '../../core/errors.js';
import { preview } from '../../core/preview.js';
import { JOB_LIST_SCAN_CAP, type JobListParams, type JobPage } from '../../driver/driver.js';
import { checkNames, checkStates } from '../../driver/guards.js';
import { type JobRow, parseCursor, rowToRecord } from './row.js';
import { statementCache } from './statement-cache.js';

/** Above every id: the first page's bound, so one statement serves every page. */
const NO_CURSOR = 9223372036854775807n;

/** A statement as `jobList` runs it: the SQL and its arguments (exported for the plan tests). */
export interface ListStatement {
  sql: string;
  args: unknown[];
  /** The read stops at JOB_LIST_SCAN_CAP jobs (false: running jobs, read through their index). */
  capped: boolean;
}

/**
 * The page statement for `params`. The inner select reads at most JOB_LIST_SCAN_CAP jobs below
 * the cursor along the primary key; the filters apply outside it, so whatever their selectivity
 * the read is bounded, and the outer LIMIT stops it once the page fills (the subquery is a
 * co-routine already in id order: no sort). Filter lists are bound as one JSON array each, a
 * single value as `=`, so a handful of statements cover every shape. Throws InvalidOptionError
 * for a bad filter or cursor, checked in the same order on every driver.
 */
export function listStatement(params: JobListParams): ListStatement {
  const conditions: string[] = [];
  const filterArgs: unknown[] = [];
  const filters = [
    ['state', checkStates(params.states)],
    ['queue', checkNames('queues', params.queues)],
    ['task', checkNames('tasks', params.tasks)],
  ] as const;
  for (const [column, values] of filters) {
    if (values === undefined || values.length === 0) continue; // an empty list means no filter
    if (values.length === 1) {
      conditions.push(`${column} = ?`);
      filterArgs.push(values[0]);
    } else {
      conditions.push(`${column} IN (SELECT value FROM json_each(?))`);
      filterArgs.push(JSON.stringify(values));
    }
  }
  let before: number | bigint = NO_CURSOR;
  if (params.before !== undefined && params.before !== null) {
    const parsed = parseCursor(params.before);
    if (parsed === undefined) {
      throw new InvalidOptionError('before', `${preview(params.before)} is not a cursor returned by jobList`);
    }
    before = parsed;
  }
  const limit = Math.max(0, Math.floor(params.limit));
  if (params.states?.length === 1 && params.states[0] === 'running') {
    // Running jobs alone: read through their own index, as many as run at once whatever the
    // table's size (they are the old jobs of a backlog, which a capped walk from the newest
    // reaches only after many empty pages). INDEXED BY: the planner would rather walk the
    // primary key backwards for the order; the sort here is of the running jobs only.
    return {
      sql: `SELECT * FROM jobwire_jobs INDEXED BY jobwire_jobs_running
  WHERE state = 'running' AND id < ?${conditions.length > 1 ? ` AND ${conditions.slice(1).join(' AND ')}` : ''}
  ORDER BY id DESC LIMIT ?`,
      args: [before, ...filterArgs.slice(1), limit + 1],
      capped: false,
    };
  }
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  return {
    sql: `SELECT * FROM (
  SELECT * FROM jobwire_jobs WHERE id < ? ORDER BY id DESC LIMIT ${JOB_LIST_SCAN_CAP}
) ${where} ORDER BY id DESC LIMIT ?`,
    // One extra row tells whether an older page exists.
    args: [before, ...filterArgs, limit + 1],
    capped: true,
  };
}

/** `jobList` over `db`, with its statements prepared once per shape. */
export function createJobList(db: BetterSqlite3.Database): (params: JobListParams) => JobPage {
  const prepared = statementCache(db);
  // Where a short page's scan ended: the JOB_LIST_SCAN_CAP-th id below the cursor, if there is one.
  const scanEnd = db.prepare(
    `SELECT count(*) AS n, min(id) AS last FROM (
       SELECT id FROM jobwire_jobs WHERE id < ? ORDER BY id DESC LIMIT ${JOB_LIST_SCAN_CAP})`,
  );

  // One read transaction: the page and where its scan ended see the same rows, so a job deleted
  // by another process in between cannot move the end below a job the page never read.
  const read = db.transaction((params: JobListParams): JobPage => {
    const { sql, args, capped } = listStatement(params);
    const limit = Math.max(0, Math.floor(params.limit));
    const rows = prepared(sql).all(...args) as JobRow[];
    if (rows.length > limit) {
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { jobs: page.map(rowToRecord), nextCursor: last ? String(last.id) : null };
    }
    if (!capped) return { jobs: rows.map(rowToRecord), nextCursor: null };
    // Short: the cap was reached (go on below the last job read) or the table ended.
    const end = scanEnd.get(args[0]) as { n: number; last: number | null };
    return {
      jobs: rows.map(rowToRecord),
      nextCursor: end.n >= JOB_LIST_SCAN_CAP && end.last !== null ? String(end.last) : null,
    };
  });
  return (params) => read(params);
}
