/**
 * The one place job event payloads are built. Pools, the rescuer and the client's admin methods
 * all emit through these builders, so every emitter fills the same fields the same way — and the
 * durable event log can store exactly what in-process listeners receive.
 */
import type { ClaimedJob, LogEntry } from '../driver/driver.js';
import type { AttemptEventBase, EventBus, JobEventBase, JobwireEvents } from './events.js';
import type { EpochMs, JobRecord, JobState } from './types.js';

/** The fields of a job that every job event carries. */
export interface JobIdentity {
  id: string;
  task: string;
  queue: string;
  correlationId: string;
  attempt: number;
  maxAttempts: number;
}

/** `JobEventBase` of a job (a stored record, a claimed job or a rescued one). */
export function jobEventBase(job: JobIdentity): JobEventBase {
  return {
    jobId: job.id,
    task: job.task,
    queue: job.queue,
    correlationId: job.correlationId,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
  };
}

/**
 * The durable log's `job:started`, stored by the claim itself: the attempt base without
 * `workerId` (the worker slot is chosen after the claim, in the claiming process), started at
 * the claim. The PostgreSQL driver builds the same fields in SQL.
 */
export function claimedEvent(job: ClaimedJob, poolId: string): Omit<AttemptEventBase, 'workerId'> {
  return {
    jobId: job.id,
    task: job.task,
    queue: job.queue,
    correlationId: job.correlationId,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    poolId,
    runAt: job.runAt,
    startedAt: job.startedAt,
    waitMs: Math.max(0, job.startedAt - job.runAt),
    metadata: parseMetadata(job.metadataJson),
  };
}

/** A claimed job's metadata object (most jobs have none: skip the parse). */
function parseMetadata(json: string): Record<string, unknown> {
  return json === '{}' ? {} : (JSON.parse(json) as Record<string, unknown>);
}

/** `AttemptEventBase` of an attempt a worker started at `startedAt`. */
export function attemptEventBase(
  job: ClaimedJob,
  poolId: string,
  workerId: string,
  startedAt: EpochMs,
): AttemptEventBase {
  return {
    jobId: job.id,
    task: job.task,
    queue: job.queue,
    correlationId: job.correlationId,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    poolId,
    workerId,
    runAt: job.runAt,
    startedAt,
    waitMs: Math.max(0, startedAt - job.runAt),
    metadata: parseMetadata(job.metadataJson),
  };
}

/** `job:retried` of a record `retryJob` just made pending again (its fresh attempt numbers). */
export function retriedEvent(
  job: JobRecord,
  previousState: JobState,
  at: EpochMs,
): JobwireEvents['job:retried'] {
  return { ...jobEventBase(job), previousState, runAt: job.runAt.getTime(), at };
}

/** `job:cancelled` of a job with its real attempt numbers (read from its record). */
export function cancelledEvent(
  job: JobIdentity,
  previousState: JobState,
  at: EpochMs,
): JobwireEvents['job:cancelled'] {
  return { ...jobEventBase(job), previousState, at };
}

/** `job:deleted` of a job with its attempt numbers and state when it was deleted. */
export function deletedEvent(
  job: JobIdentity,
  previousState: JobState,
  at: EpochMs,
): JobwireEvents['job:deleted'] {
  return { ...jobEventBase(job), previousState, at };
}

/** `job:queued` of a record just inserted; `queuedAt` is when the client stored it. */
export function queuedEvent(job: JobRecord, queuedAt: EpochMs): JobwireEvents['job:queued'] {
  return {
    ...jobEventBase(job),
    state: job.state,
    priority: job.priority,
    queuedAt,
    runAt: job.runAt.getTime(),
    uniqueKey: job.uniqueKey,
    metadata: job.metadata,
  };
}

/**
 * Emit log entries (built by this module's builders, so typed events) on the in-process bus:
 * the same payloads the durable log stored with the write.
 */
export function emitEntries(events: EventBus, entries: readonly LogEntry[]): void {
  for (const { type, data } of entries) {
    events.emit(type as keyof JobwireEvents, data as JobwireEvents[keyof JobwireEvents]);
  }
}
