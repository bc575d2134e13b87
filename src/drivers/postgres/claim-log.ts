/** The `job:started` entries a claim stores in the durable log (shared by both claim paths). */
import { STARTED_CODE } from '../../driver/event-pack.js';

/** The compact `job:started` fields after the code (see event-pack.ts), in its order. */
const fields = `c.id::text, c.task, c.queue, c.correlation_id, c.attempt, c.max_attempts, $4::text,
      c.run_at, c.started_at - c.run_at`;

/**
 * With the log on, the claim also stores one row of `job:started` entries (built here: the
 * database picks the jobs), in the compact form of event-pack.ts. The same fields as the
 * client's `attemptEventBase` except `workerId`: which worker slot runs the job is decided after
 * the claim, in the claiming process.
 */
export const logStartedSql = (s: string): string => `
),
${loggedStartedCte(s)}
SELECT * FROM claimed`;

/** The CTE of `logStartedSql` alone (`logged`, reading `claimed`), for a claim that selects more. */
export const loggedStartedCte = (s: string): string => `logged AS (
  INSERT INTO ${s}.events (job_lo, job_hi, entries)
  SELECT min(c.id::bigint), max(c.id::bigint), json_agg(CASE WHEN c.metadata::text = '{}'
    THEN json_build_array(${STARTED_CODE}, ${fields})
    ELSE json_build_array(${STARTED_CODE}, ${fields}, c.metadata::json) END ORDER BY c.id::bigint)::text
  FROM claimed c
  HAVING count(*) > 0
)`;
