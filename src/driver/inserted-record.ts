/**
 * The record of a job a driver has just inserted: what the caller sent plus the few fields the
 * database decided (id, state, due time, creation time). Drivers return only those from their
 * INSERT; reading every column back and decoding it costs about as much as the insert itself.
 */
import type { EpochMs, JobRecord, JobState } from '../core/types.js';
import type { ClaimedJob, DirectStart, JobInsertManyParams, JobInsertParams } from './driver.js';

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

/**
 * Whether `job` is the kind a driver may start at once for a pool (DirectStart): unkeyed, due
 * now, without unique key, rule or dependencies, and its queue has no pending limit. What the
 * database must also check (the queue's pause and rules, older waiting jobs) is the driver's.
 */
export function directStartable(
  job: JobInsertParams,
  maxPendingByQueue: ReadonlyMap<string, number> | undefined,
): boolean {
  return (
    job.uniqueKey === null &&
    !job.dedup &&
    !job.dependsOn?.length &&
    job.concurrencyKey == null &&
    job.runAt === null &&
    job.delayMs <= 0 &&
    !maxPendingByQueue?.has(job.queue)
  );
}

/** The one job of `params` if the driver may start it for `params.start` (a batch of one, no caller transaction). */
export function directStartCandidate(params: JobInsertManyParams): JobInsertParams | undefined {
  const { start, jobs } = params;
  if (!start || jobs.length !== 1 || params.executor !== undefined) return undefined;
  return directStartable(jobs[0]!, params.maxPendingByQueue) ? jobs[0] : undefined;
}

/** What storage decided for a job it stored already started (see DirectStart). */
export interface StartedFields {
  id: string;
  runAt: EpochMs;
  createdAt: EpochMs;
  startedAt: EpochMs;
  leaseToken: number;
}

/**
 * The record and the claimed job of a job stored started for `start`'s pool: as
 * `insertedJobRecord`, running its first attempt under the lease storage gave it.
 */
export function startedJob(
  job: JobInsertParams,
  fields: StartedFields,
  start: DirectStart,
): { record: JobRecord; claimed: ClaimedJob } {
  const record = insertedJobRecord(job, { ...fields, state: 'running' });
  record.attempt = 1;
  record.startedAt = new Date(fields.startedAt);
  record.leaseExpiresAt = new Date(fields.startedAt + start.leaseMs);
  record.poolId = start.poolId;
  const claimed: ClaimedJob = {
    id: fields.id,
    task: job.task,
    queue: job.queue,
    payloadJson: job.payloadJson,
    priority: job.priority,
    attempt: 1,
    maxAttempts: job.maxAttempts,
    interruptions: 0,
    leaseToken: fields.leaseToken,
    runAt: fields.runAt,
    createdAt: fields.createdAt,
    startedAt: fields.startedAt,
    correlationId: job.correlationId,
    metadataJson: job.metadataJson,
    timeoutMs: job.timeoutMs,
    backoff: job.backoff,
  };
  return { record, claimed };
}
