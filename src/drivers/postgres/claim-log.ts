/** The `job:started` a claim stores in the durable log (shared by both claim paths). */
import { STARTED_BATCH_CODE, STARTED_CODE } from '../../driver/event-codes.js';

/**
 * One started row's compact `job:started` (event-pack.ts: code, then the fields in its order),
 * written as text by concatenation, for an enqueue that starts its job at once
 * (insert-started.ts); a claim stores its jobs' as one batch entry (`loggedStartedCte`).
 * `json_build_array` looks up every argument's type output function again on every row; this
 * costs about half as much per job (measured on 100,000 rows). Strings go through `to_json`
 * (JSON escaping); numbers and the id print as themselves (times are whole milliseconds, see
 * `epochMs`), metadata is already JSON text. Every operand is text by an explicit cast: `text ||
 * <other type>` looks up that type's output function on every call, a cast once per statement
 * (with the pool's JSON, computed once as an InitPlan, about 0.6 µs less per row on 200,000
 * rows). Every column used is NOT NULL (`started_at` is set by the same statement): a NULL would
 * make the whole entry NULL, so keep it that way if columns change. `pool`: the SQL of the
 * starting pool's id.
 */
export const startedEntrySql = (
  pool = '$4::text',
): string => `'[${STARTED_CODE},"' || c.id::text || '",' || to_json(c.task)::text || ',' || to_json(c.queue)::text
      || ',' || to_json(c.correlation_id)::text || ',' || c.attempt::text || ',' || c.max_attempts::text
      || ',' || (SELECT to_json(${pool})::text)
      || ',' || c.run_at::bigint::text || ',' || (c.started_at - c.run_at)::bigint::text
      || CASE WHEN c.metadata = '{}' THEN ']' ELSE ',' || c.metadata::text || ']' END`;

/**
 * With the log on, the claim also stores one row holding its jobs' `job:started` (built here: the
 * database picks the jobs) as ONE batch entry of event-pack.ts, column by column: each field is
 * one aggregate over the claimed rows, so a row costs an array element per field instead of an
 * entry text of its own. The same fields as the client's `attemptEventBase` except `workerId`:
 * which worker slot runs the job is decided after the claim, in the claiming process. `select` is
 * the statement's answer, read from `claimed`.
 */
export const logStartedSql = (s: string, select: string): string => `
),
${loggedStartedCte(s)}
${select}`;

/**
 * The CTE of `logStartedSql` alone (`logged`, reading `claimed`), for a claim that selects more.
 *
 * Why columns: the entry per row (`startedEntrySql`, a dozen concatenations and three `to_json`
 * calls) aggregated in id order sorted every entry's text and built several large intermediate
 * copies; alternated 100,000-job drains (log on, 5 rounds) measured the server at 34.4 µs/job
 * with it and 30.2 with this, 38.5k → 41.2k jobs/s (bench/results/2026-12-03-s32-started-batch.md).
 * No ORDER BY: the aggregates of one SELECT read the same rows in the same order, so the i-th
 * element of every column is the same job, and the jobs of one claim all started at once (the
 * log promises each job's order, which one claim cannot break). The id and the strings go
 * through `json_agg` (JSON escaping), numbers and the metadata (already JSON text) through
 * `string_agg`, which skips a NULL and so would shift its column: every column used is NOT NULL.
 */
export const loggedStartedCte = (s: string): string => `logged AS (
  INSERT INTO ${s}.events (job_lo, job_hi, entries)
  SELECT min(c.id), max(c.id),
    '[[${STARTED_BATCH_CODE},' || (SELECT to_json($4::text)::text) || ',' || json_agg(c.id::text)::text
    || ',' || json_agg(c.task)::text || ',' || json_agg(c.queue)::text || ',' || json_agg(c.correlation_id)::text
    || ',[' || string_agg(c.attempt::text, ',') || '],[' || string_agg(c.max_attempts::text, ',')
    || '],[' || string_agg(c.run_at::bigint::text, ',') || '],[' || string_agg((c.started_at - c.run_at)::bigint::text, ',')
    || '],[' || string_agg(c.metadata, ',') || ']]]'
  FROM claimed c
  HAVING count(*) > 0
)`;
