/**
 * The record of a job a driver has just inserted: what the caller sent plus the few fields the
 * database decided (id, state, due time, creation time). Drivers return only those from their
 * INSERT; reading every column back and decoding it costs about as much as the insert itself.
 */
import type { EpochMs, JobRecord, JobState } from '../core/types.js';
import type { JobInsertParams } from './driver.js';

/** What the database decided for a new job. */
export interface InsertedFields {
  id: string;
  state: JobState;
  runAt: EpochMs;
  createdAt: EpochMs;
}

/** Build the full record of a freshly inserted job without reading it back. */
export function insertedJobRecord(job: JobInsertParams, inserted: InsertedFields): JobRecord {
  return {
    id: inserted.id,
    task: job.task,
    queue: job.queue,
    payload: JSON.parse(job.payloadJson),
    state: inserted.state,
    priority: job.priority,
    attempt: 0,
    maxAttempts: job.maxAttempts,
    interruptions: 0,
    runAt: new Date(inserted.runAt),
    createdAt: new Date(inserted.createdAt),
    startedAt: null,
    finishedAt: null,
    leaseExpiresAt: null,
    poolId: null,
    result: null,
    errors: [],
    progress: null,
    uniqueKey: job.uniqueKey,
    dedup: job.dedup ?? null,
    concurrencyKey: job.concurrencyKey ?? null,
    correlationId: job.correlationId,
    metadata: JSON.parse(job.metadataJson) as Record<string, unknown>,
    timeoutMs: job.timeoutMs,
    backoff: job.backoff,
  };
}
