/**
 * Rescuing jobs whose lease expired (their worker died, froze or lost its connection): one
 * statement picks the expired leases, records the interruption and wakes the queues.
 */
import type { StoredError } from '../../core/types.js';
import {
  CHANNELS,
  DEFAULT_MAX_INTERRUPTIONS,
  type DependentChange,
  type JobRescueExpiredParams,
  type RescuedJob,
} from '../../driver/driver.js';
import { LEASE_EXPIRED_ERROR_NAME, UNKNOWN_POOL } from '../../driver/lease-expired.js';
import type { PgContext } from './context.js';
import { dependenciesFailed } from './dependencies.js';
import { compareIds, epochMs, nowSql, rescueNowSql } from './row.js';

/**
 * `leaseExpiredMessage` in SQL: the rescue is one statement, so the message is built where the
 * row is. The conformance suite checks that both drivers store exactly that function's words.
 */
const LEASE_EXPIRED_MESSAGE = `'lease expired at ' || to_char(e.lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  || ' while running on pool ' || COALESCE(e.worker_id, '${UNKNOWN_POOL}')
  || '; its process died, froze or lost its connection before renewing the lease'`;

/**
 * An expired lease is an interruption, not a failure (see Driver.jobRescueExpired): the attempt
 * number is given back and `run_at` stays, so the job keeps its place in the queue; the
 * interruption that reaches the budget ($4) abandons the job instead (keeping its attempt number).
 */
const rescueSql = (s: string): string => `
WITH clock AS (SELECT ${nowSql('$2')} AS now),
expired AS (
  SELECT j.id, j.worker_id, j.lease_expires_at, j.interruptions + 1 >= $4 AS abandon FROM ${s}.jobs j
  WHERE j.state = 'running' AND j.lease_expires_at < ${rescueNowSql('$2')}
  ORDER BY j.lease_expires_at, j.id
  LIMIT $1
  FOR UPDATE OF j SKIP LOCKED
),
rescued AS (
  UPDATE ${s}.jobs j
  SET state = CASE WHEN e.abandon THEN 'abandoned' ELSE 'pending' END,
      attempt = CASE WHEN e.abandon THEN j.attempt ELSE j.attempt - 1 END,
      finished_at = CASE WHEN e.abandon THEN clock.now END,
      interruptions = j.interruptions + 1,
      errors = j.errors || jsonb_build_array(jsonb_build_object(
        'name', '${LEASE_EXPIRED_ERROR_NAME}', 'message', ${LEASE_EXPIRED_MESSAGE},
        'attempt', j.attempt, 'at', ${epochMs('clock.now')}, 'interrupted', true)),
      lease_expires_at = NULL, worker_id = NULL
  FROM expired e CROSS JOIN clock
  WHERE j.id = e.id
  RETURNING j.id, j.task, j.queue, j.attempt + CASE WHEN e.abandon THEN 0 ELSE 1 END AS attempt,
            j.max_attempts, j.interruptions, j.correlation_id, j.state,
            e.worker_id AS previous_pool_id, ${epochMs('e.lease_expires_at')} AS lease_expired_at,
            j.errors -> -1 AS error, j.dependents, ${epochMs('clock.now')} AS at
),
woken AS (SELECT pg_notify($3, q.queue) FROM (SELECT DISTINCT queue FROM rescued WHERE state = 'pending') q)
SELECT * FROM rescued WHERE (SELECT count(*) FROM woken) >= 0`;

interface RescueRow {
  id: string;
  task: string;
  queue: string;
  attempt: number;
  max_attempts: number;
  interruptions: number;
  correlation_id: string;
  state: 'pending' | 'abandoned';
  previous_pool_id: string | null;
  lease_expired_at: number;
  error: StoredError;
  dependents: number;
  at: number;
}

export async function jobRescueExpired(
  ctx: PgContext,
  params: JobRescueExpiredParams,
): Promise<RescuedJob[]> {
  ctx.assertOpen();
  if (params.limit < 1) return [];
  await ctx.notifier.ready();
  const rows = await ctx.query<RescueRow>('jobRescueExpired', rescueSql(ctx.s), [
    Math.floor(params.limit),
    params.now ?? null,
    ctx.channel(CHANNELS.jobAvailable),
    params.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS,
  ]);
  rows.sort((a, b) => a.lease_expired_at - b.lease_expired_at || compareIds(a.id, b.id));
  // An abandoned job's dependents get their edges' policy; the caller runs this in a transaction.
  const changes = new Map<string, DependentChange[]>();
  for (const r of rows) {
    if (r.state !== 'abandoned' || r.dependents === 0) continue;
    const found = await dependenciesFailed(ctx, [r.id], r.at);
    if (found.length > 0) changes.set(r.id, found);
  }
  return rows.map((r) => ({
    ...(changes.has(r.id) ? { dependents: changes.get(r.id)! } : {}),
    id: r.id,
    task: r.task,
    queue: r.queue,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    interruptions: r.interruptions,
    correlationId: r.correlation_id,
    previousPoolId: r.previous_pool_id,
    leaseExpiredAt: r.lease_expired_at,
    error: r.error,
    newState: r.state,
  }));
}
