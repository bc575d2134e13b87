/** Listing jobs newest first, a bounded read per page (see JobPage and JOB_LIST_SCAN_CAP). */
import { InvalidOptionError } from '../../core/errors.js';
import { preview } from '../../core/preview.js';
import { JOB_LIST_SCAN_CAP, type JobListParams, type JobPage } from '../../driver/driver.js';
import { checkNames, checkStates } from '../../driver/guards.js';
import type { PgContext } from './context.js';
import type { Statement } from './jobs-lease.js';
import { isJobId, JOB_COLUMNS, type JobRow, rowToRecord } from './row.js';

/**
 * The inner select reads at most JOB_LIST_SCAN_CAP jobs below the cursor: a backward scan of the
 * primary key whose bound is an index condition even in a generic plan (`id < coalesce($4, max)`;
 * `($4 IS NULL OR id < $4)` is not one). The filters stay outside it, so no plan can trade that
 * scan for a parallel or filtered one that walks the table, and the outer LIMIT stops the scan as
 * soon as the page fills. The row numbered JOB_LIST_SCAN_CAP, the last one read, comes out too,
 * matching or not (`edge`): it is where the next page starts when this one comes back short. One
 * statement, so the page and its edge come from one snapshot (a delete between two reads could
 * otherwise move the edge below a job never read). The filters are bound, null meaning "none".
 */
const listSql = (s: string): string => `
SELECT ${JOB_COLUMNS}, j.hit, j.n = ${JOB_LIST_SCAN_CAP} AS edge FROM (
  SELECT j.*,
         ($1::text[] IS NULL OR j.state = ANY($1::text[]))
           AND ($2::text[] IS NULL OR j.queue = ANY($2::text[]))
           AND ($3::text[] IS NULL OR j.task = ANY($3::text[])) AS hit,
         row_number() OVER (ORDER BY j.id DESC) AS n
  FROM (
    SELECT * FROM ${s}.jobs j
    WHERE j.id < coalesce($4::bigint, 9223372036854775807)
    ORDER BY j.id DESC
    LIMIT ${JOB_LIST_SCAN_CAP}
  ) j
) j
WHERE j.hit OR j.n = ${JOB_LIST_SCAN_CAP}
ORDER BY j.id DESC
LIMIT $5`;

/**
 * Running jobs alone are read through their own index (`jobs_rescue`, over running jobs only):
 * there are only as many as the cluster runs at once, whatever the table's size, and they are
 * the old jobs of a backlog, which a capped walk from the newest would reach only after many
 * empty pages. `ORDER BY j.id + 0` keeps the planner from walking the primary key backwards for
 * the order instead (the index gives no id order; the sort is of the running jobs only).
 */
const runningSql = (s: string): string => `
SELECT ${JOB_COLUMNS}, true AS hit, false AS edge FROM ${s}.jobs j
WHERE j.state = 'running'
  AND ($1::text[] IS NULL OR j.queue = ANY($1::text[]))
  AND ($2::text[] IS NULL OR j.task = ANY($2::text[]))
  AND j.id < coalesce($3::bigint, 9223372036854775807)
ORDER BY j.id + 0 DESC
LIMIT $4`;

/** An empty filter list means "no filter", like leaving it out. */
const filterValue = (values: readonly string[] | undefined): readonly string[] | null =>
  values && values.length > 0 ? values : null;

/**
 * The statement `jobList` runs for `params` in schema `s` (exported for the plan tests). Throws
 * InvalidOptionError for a bad filter or cursor, checked in the same order on every driver so
 * two bad inputs name the same field.
 */
export function listStatement(s: string, params: JobListParams): Statement {
  const states = filterValue(checkStates(params.states));
  const queues = filterValue(checkNames('queues', params.queues));
  const tasks = filterValue(checkNames('tasks', params.tasks));
  const before = params.before ?? null;
  if (before !== null && !isJobId(before)) {
    throw new InvalidOptionError('before', `${preview(before)} is not a cursor returned by jobList`);
  }
  const limit = Math.max(0, Math.floor(params.limit));
  // One match beyond the page tells that an older page exists; the edge row fits in the same
  // LIMIT, since it comes out last and only when fewer than limit + 1 matches came before it.
  if (states?.length === 1 && states[0] === 'running') {
    return { text: runningSql(s), values: [queues, tasks, before, limit + 1] };
  }
  return { text: listSql(s), values: [states, queues, tasks, before, limit + 1] };
}

export async function jobList(ctx: PgContext, params: JobListParams): Promise<JobPage> {
  ctx.assertOpen();
  const limit = Math.max(0, Math.floor(params.limit));
  const { text, values } = listStatement(ctx.s, params);
  const rows = await ctx.query<JobRow & { hit: boolean; edge: boolean }>('jobList', text, values);
  const hits = rows.filter((row) => row.hit);
  if (hits.length > limit) {
    const page = hits.slice(0, limit);
    const last = page[page.length - 1];
    return { jobs: page.map(rowToRecord), nextCursor: last ? last.id : null };
  }
  // Short: the cap was reached (go on below the last job read) or the table ended.
  const edge = rows.find((row) => row.edge);
  return { jobs: hits.map(rowToRecord), nextCursor: edge ? edge.id : null };
}
