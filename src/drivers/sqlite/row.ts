/** Mapping between `jobwire_jobs` rows and the driver's job shapes. */
import type { BackoffSpec, DedupRule, JobRecord, JobState, StoredError } from '../../core/types.js';

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

/**
 * What a claim statement returns of each job: the job packed into one text (the format of
 * `src/driver/claim-pack.ts`, read back by `packedToClaimed`). RETURNING copies every returned
 * column of every row into a temporary table before better-sqlite3 turns each into a V8 value:
 * sixteen columns cost 8.2 µs per job of a 500-job claim, this one text 7.4 (a claim loop over
 * jobwire's table, three runs). `concat_ws` skips NULLs: the nullable fields are written as ''.
 */
export const CLAIM_PACKED_SQL = `concat_ws(char(31), id, task, queue, payload, priority, attempt, max_attempts,
  interruptions, run_at, created_at, started_at, lease_token, coalesce(timeout_ms, ''), coalesce(backoff, ''),
  dependents, metadata, correlation_id)`;

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
