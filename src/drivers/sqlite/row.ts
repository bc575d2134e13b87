/** Mapping between `jobwire_jobs` rows and the driver's job shapes. */
import type { BackoffSpec, DedupRule, JobRecord, JobState, StoredError } from '../../core/types.js';
import type { ClaimedJob } from '../../driver/driver.js';

/** A `jobwire_jobs` row as better-sqlite3 returns it. */
export interface JobRow {
  id: number;
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
  lease_token: number;
  worker_id: string | null;
  result: string | null;
  errors: string;
  progress: string | null;
  unique_key: string | null;
  dedup: string | null;
  concurrency_key: string | null;
  correlation_id: string;
  metadata: string;
  timeout_ms: number | null;
  backoff: string | null;
}

/** The columns `jobClaim` returns, in the order the SQL lists them (and `ClaimTuple` holds them). */
export const CLAIM_COLUMNS =
  'id, task, queue, payload, priority, attempt, max_attempts, interruptions, lease_token, run_at, ' +
  'created_at, started_at, correlation_id, metadata, timeout_ms, backoff';

/**
 * A claimed row as the claim statements return it in better-sqlite3's raw mode: the values of
 * CLAIM_COLUMNS in order. An array, not an object: better-sqlite3 builds a row object one
 * property at a time through V8's API (a map transition per column), about a tenth of the main
 * thread's time while processing; an array is built in one call.
 */
export type ClaimTuple = [
  id: number,
  task: string,
  queue: string,
  payload: string,
  priority: number,
  attempt: number,
  maxAttempts: number,
  interruptions: number,
  leaseToken: number,
  runAt: number,
  createdAt: number,
  startedAt: number,
  correlationId: string,
  metadata: string,
  timeoutMs: number | null,
  backoff: string | null,
];

/** Positions in a `ClaimTuple` that the claim orders by. */
export const CLAIM_ID = 0;
export const CLAIM_PRIORITY = 4;
export const CLAIM_RUN_AT = 9;

const dateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));
const jsonOrNull = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** Decode a full row into the public record (JSON columns parsed, times as Dates). */
export function rowToRecord(row: JobRow): JobRecord {
  return {
    id: String(row.id),
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
    timeoutMs: row.timeout_ms,
    backoff: jsonOrNull(row.backoff) as BackoffSpec | null,
  };
}

/** A claimed row as handed to a worker. Payload and metadata stay JSON text: the pool decodes them. */
export function rowToClaimed(row: ClaimTuple): ClaimedJob {
  return {
    id: String(row[0]),
    task: row[1],
    queue: row[2],
    payloadJson: row[3],
    priority: row[4],
    attempt: row[5],
    maxAttempts: row[6],
    interruptions: row[7],
    leaseToken: row[8],
    runAt: row[9],
    createdAt: row[10],
    startedAt: row[11],
    correlationId: row[12],
    metadataJson: row[13],
    timeoutMs: row[14],
    backoff: jsonOrNull(row[15]) as BackoffSpec | null,
  };
}

/** Parse a public job id; undefined for anything that cannot be one of ours. */
export function parseId(id: string): number | undefined {
  if (!/^[1-9][0-9]{0,15}$/.test(id)) return undefined;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : undefined;
}

const INT8_MAX = 9223372036854775807n;

/**
 * Parse a listing cursor: any positive 64-bit integer in decimal, as on every driver. One past
 * the largest safe integer is bound as a BigInt, so it still means "ids below this".
 */
export function parseCursor(cursor: string): number | bigint | undefined {
  if (typeof cursor !== 'string' || !/^[1-9][0-9]{0,18}$/.test(cursor)) return undefined;
  const big = BigInt(cursor);
  if (big > INT8_MAX) return undefined;
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}
