/** The `job:started` entries a claim stores in the durable log (shared by both claim paths). */
/**
 * With the log on, the claim also stores one row of `job:started` entries (built here: the
 * database picks the jobs). The same fields as the client's `attemptEventBase` except `workerId`:
 * which worker slot runs the job is decided after the claim, in the claiming process.
 */
export const logStartedSql = (s: string): string => `
),
logged AS (
  INSERT INTO ${s}.events (job_lo, job_hi, entries)
  SELECT min(c.id::bigint), max(c.id::bigint), json_agg(json_build_object('type', 'job:started', 'data',
    json_build_object('jobId', c.id::text, 'task', c.task, 'queue', c.queue, 'correlationId', c.correlation_id,
      'attempt', c.attempt, 'maxAttempts', c.max_attempts, 'poolId', $4::text, 'runAt', c.run_at,
      'startedAt', c.started_at, 'waitMs', greatest(0, c.started_at - c.run_at),
      'metadata', c.metadata::json)) ORDER BY c.id::bigint)::text
  FROM claimed c
  HAVING count(*) > 0
)
SELECT * FROM claimed`;
