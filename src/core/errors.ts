/**
 * Every error jobwire throws is a `JobwireError` with a stable `code`, so callers can branch on
 * `err.code` or `instanceof`. Messages say what went wrong and what to do next.
 */
import { preview } from './preview.js';

/** The base class of every error jobwire throws. */
export class JobwireError extends Error {
  /** A stable, machine-readable identifier, e.g. `JOBWIRE_QUEUE_FULL`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option or argument had an invalid value. `field` names it. */
export class InvalidOptionError extends JobwireError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('JOBWIRE_INVALID_OPTION', `Invalid option "${field}": ${message}`);
  }
}

/** A job named a task this process has not registered. */
export class UnknownTaskError extends JobwireError {
  constructor(
    readonly task: string,
    known: readonly string[],
    /** What to do about it; the default suits a worker that has no handler for the task. */
    advice = 'Register it with defineTask() and pass it in the tasks option.',
  ) {
    super(
      'JOBWIRE_UNKNOWN_TASK',
      `Unknown task ${preview(task)}. Registered tasks: ${known.length ? known.join(', ') : '(none)'}. ${advice}`,
    );
  }
}

/** A payload could not be encoded as JSON (circular, BigInt, …) or failed the task's schema. */
export class InvalidPayloadError extends JobwireError {
  constructor(
    readonly task: string,
    message: string,
    readonly issues?: readonly { message: string; path?: readonly unknown[] }[],
    options?: { cause?: unknown },
  ) {
    super('JOBWIRE_INVALID_PAYLOAD', `Invalid payload for task "${task}": ${message}`, options);
  }
}

/** A payload's JSON encoding is larger than the configured limit. */
export class PayloadTooLargeError extends JobwireError {
  constructor(
    readonly task: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(
      'JOBWIRE_PAYLOAD_TOO_LARGE',
      `Payload for task "${task}" is ${bytes} bytes of JSON, over the ${limitBytes}-byte limit. ` +
        'Store large data elsewhere and enqueue a reference, or raise maxPayloadBytes.',
    );
  }
}

/** Enqueue refused: the queue already holds its configured maximum of waiting jobs. */
export class QueueFullError extends JobwireError {
  constructor(
    readonly queue: string,
    readonly maxPending: number,
    readonly pending: number,
  ) {
    super(
      'JOBWIRE_QUEUE_FULL',
      `Queue "${queue}" is full: ${pending} jobs waiting, limit ${maxPending}. ` +
        'Retry later, add workers, or raise the queue maxPending.',
    );
  }
}

/** A job id does not exist (or no longer exists). */
export class JobNotFoundError extends JobwireError {
  constructor(readonly jobId: string) {
    super('JOBWIRE_JOB_NOT_FOUND', `Job ${jobId} does not exist.`);
  }
}

/** `waitForJob` saw the job end without completing. Carries the job's last error. */
export class JobFailedError extends JobwireError {
  constructor(
    readonly jobId: string,
    readonly state: 'abandoned' | 'cancelled',
    readonly lastError: { name: string; message: string; stack?: string } | null,
  ) {
    super('JOBWIRE_JOB_FAILED', `Job ${jobId} was ${state}${lastError ? `: ${lastError.message}` : '.'}`);
  }
}

/** `retryJob` refused: the job is still active (or another active job holds its unique key). */
export class JobNotRetryableError extends JobwireError {
  constructor(
    readonly jobId: string,
    readonly state: string,
    message: string,
  ) {
    super('JOBWIRE_NOT_RETRYABLE', message);
  }
}

/** `waitForJob` gave up: the job did not finish within `timeoutMs`. */
export class WaitTimeoutError extends JobwireError {
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super('JOBWIRE_WAIT_TIMEOUT', `Job ${jobId} did not finish within ${timeoutMs} ms`);
  }
}

/** `waitForJob` stopped because the caller's AbortSignal fired; the job itself is untouched. */
export class WaitAbortedError extends JobwireError {
  constructor(readonly jobId: string) {
    super('JOBWIRE_WAIT_ABORTED', `Stopped waiting for job ${jobId}`);
  }
}

/**
 * What kind of storage failure a `StorageError` is, so core can react without knowing SQL:
 * - `unavailable`: the database could not be reached or used right now (connection lost or
 *   refused, lock timeout, disk full): the same write may succeed later, so retry it as is.
 * - `refused`: the database refused the values themselves (bad encoding, too large, invalid
 *   JSON): the same write will fail again, so isolate it and store something else instead.
 * - `other`: anything else (missing tables, privileges, a bug).
 */
export type StorageFailureKind = 'unavailable' | 'refused' | 'other';

/** The database cannot be used: not a SQLite file, corrupt, or written by another program. */
export class StorageError extends JobwireError {
  /** See `StorageFailureKind`; set by the driver that raised it. */
  readonly kind: StorageFailureKind;

  constructor(message: string, options?: { cause?: unknown; kind?: StorageFailureKind }) {
    super('JOBWIRE_STORAGE', message, options);
    this.kind = options?.kind ?? 'other';
  }
}

/** A handler's result is larger than the configured limit; stored as the attempt's error. */
export class ResultTooLargeError extends JobwireError {
  constructor(
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(
      'JOBWIRE_RESULT_TOO_LARGE',
      `The handler's result is ${bytes} bytes of JSON, over the ${limitBytes}-byte limit, so it was not stored ` +
        'and the job was abandoned (its work is done: it is not retried by itself). Store large results ' +
        'elsewhere and return a reference, or raise maxResultBytes.',
    );
  }
}

/** An attempt's outcome (its error or result) could not be written; stored in its place. */
export class UnstorableOutcomeError extends JobwireError {
  constructor(message: string) {
    super('JOBWIRE_UNSTORABLE_OUTCOME', message);
  }
}

/** The schema in the database is not one this version of jobwire understands. */
export class SchemaVersionError extends JobwireError {
  constructor(message: string) {
    super('JOBWIRE_SCHEMA_VERSION', message);
  }
}

/** An operation was attempted after `close()`. */
export class ClosedError extends JobwireError {
  constructor(what: string) {
    super('JOBWIRE_CLOSED', `${what} is closed.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors a handler throws to steer its job.

/**
 * Throw from a handler to fail the job for good: no further attempts, the job is `abandoned`.
 * Use it for errors a retry cannot fix (bad input, a deleted account).
 */
export class UnrecoverableError extends JobwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOBWIRE_UNRECOVERABLE', message, options);
  }
}

/**
 * Throw from a handler to run the job again after `delayMs` without counting this attempt as a
 * failure (a rate limit answered "try again in 30 s", a resource is not ready yet).
 */
export class SnoozeError extends JobwireError {
  constructor(
    readonly delayMs: number,
    message = `snoozed for ${delayMs} ms`,
  ) {
    super('JOBWIRE_SNOOZE', message);
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new InvalidOptionError('delayMs', `must be a finite number >= 0, got ${String(delayMs)}`);
    }
  }
}

/** The reason an attempt's AbortSignal fires when its timeout elapses. */
export class JobTimeoutError extends JobwireError {
  constructor(readonly timeoutMs: number) {
    super('JOBWIRE_TIMEOUT', `Attempt timed out after ${timeoutMs} ms`);
  }
}

/** The reason an attempt's AbortSignal fires when the job is cancelled while running. */
export class JobCancelledError extends JobwireError {
  constructor(readonly jobId: string) {
    super('JOBWIRE_CANCELLED', `Job ${jobId} was cancelled`);
  }
}

/** The reason an attempt's AbortSignal fires when its pool shuts down past the grace period. */
export class ShutdownAbortError extends JobwireError {
  constructor() {
    super('JOBWIRE_SHUTDOWN', 'The pool shut down before the attempt finished');
  }
}

/** The reason an attempt's AbortSignal fires when its lease was taken over by another worker. */
export class LeaseLostError extends JobwireError {
  constructor(readonly jobId: string) {
    super('JOBWIRE_LEASE_LOST', `Lease on job ${jobId} was lost (rescued, cancelled or deleted)`);
  }
}

/** A schedule id does not exist (or no longer exists). */
export class ScheduleNotFoundError extends JobwireError {
  constructor(readonly scheduleId: string) {
    super('JOBWIRE_SCHEDULE_NOT_FOUND', `Schedule "${scheduleId}" does not exist.`);
  }
}
