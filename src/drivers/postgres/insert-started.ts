/**
 * An enqueue that starts its job at once for a pool of this process (`DirectStart` in
 * driver/params.ts): one statement inserts the job either already running under a first lease
 * — when a claim by that pool would have taken it first — or pending, as a plain insert would.
 * The pool then runs it without a claim's round trip: on this machine that round trip was about a
 * third of the time from enqueue to start.
 */
import type { EpochMs } from '../../core/types.js';
import type { DirectStart, JobInsertParams, JobInsertResult } from '../../driver/driver.js';
import { CHANNELS } from '../../driver/driver.js';
import { insertedJobRecord, startedJob } from '../../driver/inserted-record.js';
import { startedEntrySql } from './claim-log.js';
import type { PgContext } from './context.js';
import { queuedEntrySql } from './queued-entry.js';
import { epochMs, nowSql } from './row.js';

/**
 * `go` decides, in the statement's snapshot, what a claim by the pool would decide: the queue is
 * not paused and has no queue-wide flow rule (those jobs go through the flow claim), and none of
 * the pool's unpaused queues holds a due unkeyed waiting job of at least this priority (each
 * probed through the claim index, as the claim reads it). A job enqueued in a transaction that
 * commits later is not seen, exactly as a claim at this moment would not see it.
 *
 * The log's row holds `job:queued` (as pending: the job was queued, then started) and, for a
 * started job, `job:started` — the entries the insert and a claim would have stored.
 */
const insertStartedSql = (s: string, log: boolean): string => `
WITH clock AS (SELECT ${nowSql('$11')} AS now),
go AS (
  SELECT NOT EXISTS (SELECT 1 FROM ${s}.queues p WHERE p.name = $2 AND p.paused)
     AND NOT EXISTS (SELECT 1 FROM ${s}.flow_rules l WHERE l.queue = $2 AND l.pattern = '')
     AND NOT EXISTS (
       SELECT 1 FROM unnest($14::text[]) AS q(name)
       CROSS JOIN LATERAL (
         SELECT 1 FROM ${s}.jobs w
         WHERE w.queue = q.name AND w.state IN ('pending', 'scheduled') AND w.concurrency_key IS NULL
           AND w.run_at <= clock.now AND w.priority >= $5
         LIMIT 1
       ) waiting
       WHERE NOT EXISTS (SELECT 1 FROM ${s}.queues p WHERE p.name = q.name AND p.paused)
     ) AS start
  FROM clock
),
inserted AS (
  INSERT INTO ${s}.jobs AS j (task, queue, state, payload, priority, max_attempts, run_at, created_at,
                              correlation_id, metadata, timeout_ms, backoff,
                              attempt, lease_token, lease_expires_at, worker_id, started_at)
  SELECT $1::text, $2::text, CASE WHEN go.start THEN 'running' ELSE 'pending' END, $3::json, $5::int,
         $6::int, clock.now, clock.now, $7::text, $8::json, $9::bigint, $10::json,
         CASE WHEN go.start THEN 1 ELSE 0 END, CASE WHEN go.start THEN 1 ELSE 0 END,
         CASE WHEN go.start THEN clock.now + $13::float8 * interval '1 millisecond' END,
         CASE WHEN go.start THEN $4::text END, CASE WHEN go.start THEN clock.now END
  FROM clock CROSS JOIN go
  RETURNING j.id, j.queue, j.state, j.attempt, j.lease_token, ${epochMs('j.run_at')} AS run_at,
    ${epochMs('j.created_at')} AS created_at, ${epochMs('j.started_at')} AS started_at
),
woken AS (SELECT pg_notify($12, queue) FROM inserted WHERE state = 'pending')${
  log
    ? `,
c AS (
  SELECT i.id, $1::text AS task, i.queue, $7::text AS correlation_id, i.attempt, $6::int AS max_attempts,
         $5::int AS priority, i.run_at, i.created_at, i.started_at, $8::text AS metadata,
         NULL::text AS unique_key, 'pending'::text AS state, i.state AS stored_state
  FROM inserted i
),
logged AS (
  INSERT INTO ${s}.events (job_lo, job_hi, entries)
  SELECT c.id, c.id, '[' || ${queuedEntrySql('c', 'c')}
         || CASE WHEN c.stored_state = 'running' THEN ',' || ${startedEntrySql('$4::text')} ELSE '' END || ']'
  FROM c
)`
    : ''
}
SELECT inserted.* FROM inserted WHERE (SELECT count(*) FROM woken) >= 0`;

/** A row as `insertStartedSql` returns it. */
interface StartedRow {
  id: string;
  queue: string;
  state: 'running' | 'pending';
  attempt: number;
  lease_token: string;
  run_at: number;
  created_at: number;
  started_at: number | null;
}

/** Insert `job` (a `directStartCandidate`), started for `start`'s pool when a claim would take it. */
export async function insertStarted(
  ctx: PgContext,
  job: JobInsertParams,
  start: DirectStart,
  log: boolean,
  now: EpochMs | undefined,
): Promise<JobInsertResult> {
  // A LISTEN set up in this process just before must be in place to hear our NOTIFY.
  await ctx.notifier.ready();
  const [row] = await ctx.query<StartedRow>('jobInsertOne', insertStartedSql(ctx.s, log), [
    job.task,
    job.queue,
    job.payloadJson,
    start.poolId,
    job.priority,
    job.maxAttempts,
    job.correlationId,
    job.metadataJson,
    job.timeoutMs,
    job.backoff === null ? null : JSON.stringify(job.backoff),
    now ?? null,
    ctx.channel(CHANNELS.jobAvailable),
    Math.floor(start.leaseMs),
    [...new Set(start.queues)],
  ]);
  const { id, run_at: runAt, created_at: createdAt } = row!;
  if (row!.state !== 'running') {
    return { job: insertedJobRecord(job, { id, state: 'pending', runAt, createdAt }), duplicate: false };
  }
  const fields = { id, runAt, createdAt, startedAt: row!.started_at!, leaseToken: Number(row!.lease_token) };
  const { record, claimed } = startedJob(job, fields, start);
  return { job: record, duplicate: false, started: claimed };
}
