/**
 * The claim statement: it starts due unkeyed jobs (see "How the hot statements reach `jobs`" in
 * jobs-lease.ts for the plan it keeps). `jobClaim` (claim.ts) sends it alone or within the
 * flow-claim function (flow-claim.ts).
 */
import type { JobClaimParams } from '../../driver/driver.js';
import { logStartedSql } from './claim-log.js';
import { packedClaimSql } from './claim-row.js';
import type { Statement } from './jobs-lease.js';
import { CLAIM_COLUMNS, leaseStartSql, notSuspectSql, nowSql } from './row.js';

/**
 * Each queue is read on its own (a LATERAL subquery per queue name) in the claim index's order,
 * so a claim reads about `limit × queues` index entries however long the backlog is; one
 * `queue = ANY(…)` scan would sort every due job of those queues on every claim. SKIP LOCKED
 * lets concurrent claimers pass over each other's rows instead of queueing on them. Rows locked
 * but not picked by the outer LIMIT are released when the statement commits.
 *
 * A claim commits without waiting for the WAL flush (`synchronous_commit` off for this one
 * transaction): if the server crashes before the flush the claim is simply lost — the jobs are
 * pending again with their old lease token, so whatever the worker writes for them is fenced
 * off and they run again. What must survive a crash (enqueues, outcomes) still waits for it.
 * That takes a disk flush off the path from enqueue to start.
 *
 * It answers one text column `job` per claimed job (claim-row.ts), then `extraColumns` (the
 * flow-claim function's own columns, as NULLs).
 */
export const claimSql = (s: string, log: boolean, extraColumns = ''): string => `
WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true) AS setting),
picked AS (
  SELECT c.ctid
  FROM unnest($1::text[]) AS q(name)
  CROSS JOIN LATERAL (
    SELECT j.ctid, j.id, j.priority, j.run_at FROM ${s}.jobs j
    WHERE j.queue = q.name AND j.state IN ('pending', 'scheduled') AND j.concurrency_key IS NULL
      AND j.run_at <= ${nowSql('$5')} AND ${notSuspectSql('j', '$6')}
    ORDER BY j.priority DESC, j.run_at, j.id
    LIMIT $2
    FOR UPDATE OF j SKIP LOCKED
  ) c
  WHERE NOT EXISTS (SELECT 1 FROM ${s}.queues p WHERE p.name = q.name AND p.paused)
    AND NOT EXISTS (SELECT 1 FROM ${s}.flow_rules l WHERE l.queue = q.name AND l.pattern = '')
  ORDER BY c.priority DESC, c.run_at, c.id
  LIMIT $2
)
${log ? ', claimed AS (' : ''}UPDATE ${s}.jobs j
SET state = 'running', attempt = j.attempt + 1, lease_token = j.lease_token + 1,
    lease_expires_at = ${leaseStartSql('$5')} + $3::float8 * interval '1 millisecond',
    worker_id = $4, started_at = ${nowSql('$5')}
FROM async_commit
WHERE j.ctid = ANY (ARRAY(SELECT picked.ctid FROM picked))
RETURNING ${
  log
    ? `${CLAIM_COLUMNS}${logStartedSql(s, `SELECT ${packedClaimSql('claimed', true)}${extraColumns} FROM claimed`)}`
    : `${packedClaimSql('j')}${extraColumns}`
}`;

/** The claim statement `jobClaim` runs. */
export function claimStatement(s: string, params: JobClaimParams): Statement {
  return {
    text: claimSql(s, params.log === true),
    values: [
      [...new Set(params.queues)],
      Math.floor(params.limit),
      Math.floor(params.leaseMs),
      params.poolId,
      params.now ?? null,
      params.excludeSuspects === true,
    ],
  };
}
