/** The `job:started` entries a claim stores in the durable log (shared by both claim paths). */
import { STARTED_CODE } from '../../driver/event-pack.js';

/**
 * One claimed row's compact `job:started` (event-pack.ts: code, then the fields in its order),
 * written as text by concatenation. `json_build_array` looks up every argument's type output
 * function again on every row; this costs about half as much per job (measured on 100,000 rows),
 * and the claim runs it for every job started. Strings go through `to_json` (JSON escaping);
 * numbers and the id print as themselves (times are whole milliseconds, see `epochMs`), metadata
 * is already JSON text. Every operand is text by an explicit cast: `text || <other type>` looks up
 * that type's output function on every call, a cast once per statement (with the pool's JSON,
 * computed once as an InitPlan, about 0.6 µs less per row on 200,000 rows). Every column used is
 * NOT NULL (`started_at` is set by the same claim): a NULL would drop the entry from `string_agg`,
 * so keep it that way if columns change. `pool`: the SQL of the claiming pool's id (the claim's `$4`).
 */
export const startedEntrySql = (
  pool = '$4::text',
): string => `'[${STARTED_CODE},"' || c.id::text || '",' || to_json(c.task)::text || ',' || to_json(c.queue)::text
      || ',' || to_json(c.correlation_id)::text || ',' || c.attempt::text || ',' || c.max_attempts::text
      || ',' || (SELECT to_json(${pool})::text)
      || ',' || c.run_at::bigint::text || ',' || (c.started_at - c.run_at)::bigint::text
      || CASE WHEN c.metadata = '{}' THEN ']' ELSE ',' || c.metadata::text || ']' END`;

/**
 * With the log on, the claim also stores one row of `job:started` entries (built here: the
 * database picks the jobs), in the compact form of event-pack.ts. The same fields as the
 * client's `attemptEventBase` except `workerId`: which worker slot runs the job is decided after
 * the claim, in the claiming process. `select` is the statement's answer, read from `claimed`.
 */
export const logStartedSql = (s: string, select: string): string => `
),
${loggedStartedCte(s)}
${select}`;

/** The CTE of `logStartedSql` alone (`logged`, reading `claimed`), for a claim that selects more. */
export const loggedStartedCte = (s: string): string => `logged AS (
  INSERT INTO ${s}.events (job_lo, job_hi, entries)
  SELECT min(c.id::bigint), max(c.id::bigint),
         '[' || string_agg(${startedEntrySql()}, ',' ORDER BY c.id::bigint) || ']'
  FROM claimed c
  HAVING count(*) > 0
)`;
