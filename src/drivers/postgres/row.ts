/** Mapping between `jobs` rows and the driver's job shapes, plus the SQL fragments that produce them. */
import type { BackoffSpec, DedupRule, JobRecord, JobState, StoredError } from '../../core/types.js';
import { SUSPECT_INTERRUPTIONS } from '../../driver/driver.js';

/**
 * A timestamptz column as epoch ms (a float8, so node-postgres hands back a number). Stored times
 * are whole milliseconds, so `round` only removes float noise. `date_part` answers in float8;
 * `extract` answers in numeric since PostgreSQL 14 and costs about three times as much per value
 * — measurable on the hot path, which converts several times per job. A float8 of seconds keeps
 * whole milliseconds exact for any date a job can carry (it drifts only below the microsecond).
 */
export const epochMs = (column: string): string => `round(date_part('epoch', ${column}) * 1000)`;

/**
 * "Now" for a statement: the `now` parameter (epoch ms) when the caller gave one, else the
 * database's transaction time truncated to the 1 ms precision the API speaks.
 */
export const nowSql = (param: string): string =>
  `COALESCE(to_timestamp(${param}::float8 / 1000), date_trunc('milliseconds', now()))`;

/**
 * When a lease written by this statement starts: the clock when the row is written, not when the
 * transaction began (`now()`). A claim or heartbeat that waited for another connection's lock
 * longer than the lease wrote leases already expired, and the rescuer took the jobs back from
 * live workers the moment the lock was released.
 */
export const leaseStartSql = (param: string): string =>
  `COALESCE(to_timestamp(${param}::float8 / 1000), date_trunc('milliseconds', clock_timestamp()))`;

/**
 * The rescuer's "now" for deciding which leases expired: its clock less the time this statement
 * waited for a lock (clock_timestamp() − statement_timestamp()). Heartbeats waited as long, so a
 * lease that ran out during the wait is not a dead worker's.
 */
export const rescueNowSql = (param: string): string =>
  `(${nowSql(param)} - (clock_timestamp() - statement_timestamp()))`;

/** Every column of `jobs` (aliased `j`) in the shape `JobRow` describes. */
export const JOB_COLUMNS = [
  'j.id',
  'j.task',
  'j.queue',
  'j.payload::text AS payload',
  'j.state',
  'j.priority',
  'j.attempt',
  'j.max_attempts',
  'j.interruptions',
  `${epochMs('j.run_at')} AS run_at`,
  `${epochMs('j.created_at')} AS created_at`,
  `${epochMs('j.started_at')} AS started_at`,
  `${epochMs('j.finished_at')} AS finished_at`,
  `${epochMs('j.lease_expires_at')} AS lease_expires_at`,
  'j.lease_token',
  'j.worker_id',
  'j.result::text AS result',
  'j.errors::text AS errors',
  'j.progress::text AS progress',
  'j.unique_key',
  'j.dedup::text AS dedup',
  'j.concurrency_key',
  'j.correlation_id',
  'j.metadata::text AS metadata',
  'j.timeout_ms',
  'j.backoff::text AS backoff',
].join(', ');

/** A `jobs` row as `JOB_COLUMNS` selects it (node-postgres returns int8 as a string). */
export interface JobRow {
  id: string;
  task: string;
  queue: string;
  payload: string;
  state: JobState;
  priority: number;
  attempt: number;
  max_attempts: number;
  interruptions: number;
  run_at: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  lease_expires_at: number | null;
  lease_token: string;
  worker_id: string | null;
  result: string | null;
  errors: string;
  progress: string | null;
  unique_key: string | null;
  dedup: string | null;
  concurrency_key: string | null;
  correlation_id: string;
  metadata: string;
  timeout_ms: string | null;
  backoff: string | null;
}

const dateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));
const jsonOrNull = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
const numberOrNull = (text: string | null): number | null => (text === null ? null : Number(text));

/** Decode a full row into the public record (JSON columns parsed, times as Dates). */
export function rowToRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    task: row.task,
    queue: row.queue,
    payload: JSON.parse(row.payload),
    state: row.state,
    priority: row.priority,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    interruptions: row.interruptions,
    runAt: new Date(row.run_at),
    createdAt: new Date(row.created_at),
    startedAt: dateOrNull(row.started_at),
    finishedAt: dateOrNull(row.finished_at),
    leaseExpiresAt: dateOrNull(row.lease_expires_at),
    poolId: row.worker_id,
    result: jsonOrNull(row.result),
    errors: JSON.parse(row.errors) as StoredError[],
    progress: jsonOrNull(row.progress),
    uniqueKey: row.unique_key,
    // `== null`: a row read without the column (an older statement's column list) has none.
    dedup: row.dedup == null ? null : (JSON.parse(row.dedup) as DedupRule),
    concurrencyKey: row.concurrency_key,
    correlationId: row.correlation_id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    timeoutMs: numberOrNull(row.timeout_ms),
    backoff: jsonOrNull(row.backoff) as BackoffSpec | null,
  };
}

/**
 * What a claim returns: only what a worker needs. Every converted column is server time spent
 * on every claimed job, so the record-only columns (result, errors, …) stay out.
 */
const CLAIM_COLUMN_LIST = [
  'j.id',
  'j.task',
  'j.queue',
  'j.payload::text AS payload',
  'j.priority',
  'j.attempt',
  'j.max_attempts',
  'j.interruptions',
  `${epochMs('j.run_at')} AS run_at`,
  `${epochMs('j.created_at')} AS created_at`,
  `${epochMs('j.started_at')} AS started_at`,
  'j.lease_token',
  'j.correlation_id',
  'j.metadata::text AS metadata',
  'j.timeout_ms',
  'j.backoff::text AS backoff',
  'j.dependents',
];
export const CLAIM_COLUMNS = CLAIM_COLUMN_LIST.join(', ');

const INT8_MAX = 9223372036854775807n;

/** True for a string that can be one of our ids (a positive int8 in canonical decimal form). */
export function isJobId(id: string): boolean {
  return /^[1-9][0-9]{0,18}$/.test(id) && BigInt(id) <= INT8_MAX;
}

/** The ids that can exist, ready to bind as `bigint[]`; others cannot match any row. */
export const validIds = (ids: readonly string[]): string[] => ids.filter(isJobId);

/**
 * An id ready to bind where input positions matter: ids that cannot exist become 0, which no
 * row has (identities start at 1), so the write simply matches nothing.
 */
export const idParam = (id: string): string => (isJobId(id) ? id : '0');

/** Compare two decimal id strings numerically. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** The state counts every report starts from: each state present, at zero. */
export function zeroCounts(): Record<JobState, number> {
  return { blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 0, abandoned: 0, cancelled: 0 };
}

/**
 * Row `j` may be claimed under the `excludeSuspects` flag `param`: a test of a column of the row
 * the claim reads anyway (`SUSPECT_INTERRUPTIONS`, records.ts).
 */
export const notSuspectSql = (j: string, param: string): string =>
  `(${j}.interruptions < ${SUSPECT_INTERRUPTIONS} OR NOT ${param}::boolean)`;
