/**
 * Every error jobwire throws is a `JobwireError` with a stable `code`, so callers can branch on
 * `err.code` or `instanceof`. Messages say what went wrong and what to do next.
 *
 * An application can hold two copies of jobwire: its tasks module resolves a second install, or
 * it mixes `require('jobwire')` (the CommonJS build) with `import` (the ESM build). Each copy
 * has its own classes, so a plain `instanceof` would not recognise the other copy's
 * `UnrecoverableError` and its job would be retried until its attempts ran out. Every jobwire
 * error therefore carries a brand registered with `Symbol.for` (shared by all copies) and its
 * class's stable `code`, and `instanceof` on the classes below also accepts an error of another
 * copy with the same brand and code (see `JobwireError[Symbol.hasInstance]`, `isJobwireError`).
 */
import { preview } from './preview.js';

/**
 * The brand on every jobwire error, the same symbol in every copy of jobwire. Its value is the
 * version of this protocol (brand + `code`), bumped only if what the code means changes.
 */
const ERROR_BRAND: unique symbol = Symbol.for('jobwire.error') as never;
const BRAND_VERSION = 1;

/**
 * True for an error thrown by any copy of jobwire (branded, with a string `code`); with `code`,
 * only for that code. Use it where an error may come from another copy, or just use
 * `instanceof`, which does the same check for every class of this module.
 */
export function isJobwireError(value: unknown, code?: string): value is JobwireError {
  if (typeof value !== 'object' || value === null) return false;
  const branded = value as { [ERROR_BRAND]?: unknown; code?: unknown };
  if (branded[ERROR_BRAND] !== BRAND_VERSION || typeof branded.code !== 'string') return false;
  return code === undefined || branded.code === code;
}

/** The base class of every error jobwire throws. */
export class JobwireError extends Error {
  /**
   * On a subclass: the `code` every instance has. `instanceof` compares it to recognise an error
   * of another copy of jobwire; a subclass without one is recognised only within its own copy.
   */
  static readonly code: string | undefined = undefined;

  /** A stable, machine-readable identifier, e.g. `JOBWIRE_QUEUE_FULL`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  /**
   * `error instanceof UnrecoverableError` (or any class here) is true for an instance of this
   * copy's class, and for a branded error of another copy whose `code` is the class's `code`.
   * `instanceof JobwireError` accepts any branded error.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of instanceof.
    return recognises(this, value);
  }
}

/** `JobwireError[Symbol.hasInstance]` for `errorClass`, which may be any subclass. */
function recognises(errorClass: new (...args: never[]) => unknown, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(errorClass, value)) return true;
  if (errorClass === JobwireError) return isJobwireError(value);
  const code = Object.hasOwn(errorClass, 'code') ? (errorClass as { code?: unknown }).code : undefined;
  return typeof code === 'string' && isJobwireError(value, code);
}

// On the prototype, so every instance (of every subclass, in every copy) carries it.
Object.defineProperty(JobwireError.prototype, ERROR_BRAND, { value: BRAND_VERSION });

/** An option or argument had an invalid value. `field` names it. */
export class InvalidOptionError extends JobwireError {
  static override readonly code = 'JOBWIRE_INVALID_OPTION';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(InvalidOptionError.code, `Invalid option "${field}": ${message}`);
  }
}

/** A job named a task this process has not registered. */
export class UnknownTaskError extends JobwireError {
  static override readonly code = 'JOBWIRE_UNKNOWN_TASK';

  constructor(
    readonly task: string,
    known: readonly string[],
    /** What to do about it; the default suits a worker that has no handler for the task. */
    advice = 'Register it with defineTask() and pass it in the tasks option.',
  ) {
    super(
      UnknownTaskError.code,
      `Unknown task ${preview(task)}. Registered tasks: ${known.length ? known.join(', ') : '(none)'}. ${advice}`,
    );
  }
}

/** A payload could not be encoded as JSON (circular, BigInt, …) or failed the task's schema. */
export class InvalidPayloadError extends JobwireError {
  static override readonly code = 'JOBWIRE_INVALID_PAYLOAD';

  constructor(
    readonly task: string,
    message: string,
    readonly issues?: readonly { message: string; path?: readonly unknown[] }[],
    options?: { cause?: unknown },
  ) {
    super(InvalidPayloadError.code, `Invalid payload for task "${task}": ${message}`, options);
  }
}

/** A payload's JSON encoding is larger than the configured limit. */
export class PayloadTooLargeError extends JobwireError {
  static override readonly code = 'JOBWIRE_PAYLOAD_TOO_LARGE';

  constructor(
    readonly task: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(
      PayloadTooLargeError.code,
      `Payload for task "${task}" is ${bytes} bytes of JSON, over the ${limitBytes}-byte limit. ` +
        'Store large data elsewhere and enqueue a reference, or raise maxPayloadBytes.',
    );
  }
}

/** Enqueue refused: the queue already holds its configured maximum of waiting jobs. */
export class QueueFullError extends JobwireError {
  static override readonly code = 'JOBWIRE_QUEUE_FULL';

  constructor(
    readonly queue: string,
    readonly maxPending: number,
    /** Jobs waiting (scheduled or pending) before this enqueue. */
    readonly pending: number,
    /** Waiting jobs this enqueue would have added (1 for `enqueue`; blocked jobs do not count). */
    readonly adding = 1,
  ) {
    super(
      QueueFullError.code,
      `Queue "${queue}" is full: ${pending} jobs waiting, and ${adding} more would exceed its maxPending ` +
        `of ${maxPending}. Retry later, add workers, or raise the queue's maxPending.`,
    );
  }
}

/** A job id does not exist (or no longer exists). */
export class JobNotFoundError extends JobwireError {
  static override readonly code = 'JOBWIRE_JOB_NOT_FOUND';

  constructor(
    readonly jobId: string,
    /** What may explain it, appended to the message. */
    hint?: string,
  ) {
    super(JobNotFoundError.code, `Job ${jobId} does not exist.${hint ? ` ${hint}` : ''}`);
  }
}

/** `waitForJob` saw the job end without completing. Carries the job's last error. */
export class JobFailedError extends JobwireError {
  static override readonly code = 'JOBWIRE_JOB_FAILED';

  constructor(
    readonly jobId: string,
    readonly state: 'abandoned' | 'cancelled',
    readonly lastError: { name: string; message: string; stack?: string } | null,
  ) {
    super(JobFailedError.code, `Job ${jobId} was ${state}${lastError ? `: ${lastError.message}` : '.'}`);
  }
}

/** `retryJob` refused: the job is still active (or another active job holds its unique key). */
export class JobNotRetryableError extends JobwireError {
  static override readonly code = 'JOBWIRE_NOT_RETRYABLE';

  constructor(
    readonly jobId: string,
    readonly state: string,
    message: string,
  ) {
    super(JobNotRetryableError.code, message);
  }
}

/** `waitForJob` gave up: the job did not finish within `timeoutMs`. */
export class WaitTimeoutError extends JobwireError {
  static override readonly code = 'JOBWIRE_WAIT_TIMEOUT';

  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(WaitTimeoutError.code, `Job ${jobId} did not finish within ${timeoutMs} ms`);
  }
}

/** `waitForJob` stopped because the caller's AbortSignal fired; the job itself is untouched. */
export class WaitAbortedError extends JobwireError {
  static override readonly code = 'JOBWIRE_WAIT_ABORTED';

  constructor(readonly jobId: string) {
    super(WaitAbortedError.code, `Stopped waiting for job ${jobId}`);
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
  static override readonly code = 'JOBWIRE_STORAGE';

  /** See `StorageFailureKind`; set by the driver that raised it. */
  readonly kind: StorageFailureKind;

  constructor(message: string, options?: { cause?: unknown; kind?: StorageFailureKind }) {
    super(StorageError.code, message, options);
    this.kind = options?.kind ?? 'other';
  }
}

/** A handler's result is larger than the configured limit; stored as the attempt's error. */
export class ResultTooLargeError extends JobwireError {
  static override readonly code = 'JOBWIRE_RESULT_TOO_LARGE';

  constructor(
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(
      ResultTooLargeError.code,
      `The handler's result is ${bytes} bytes of JSON, over the ${limitBytes}-byte limit, so it was not stored ` +
        'and the job was abandoned (its work is done: it is not retried by itself). Store large results ' +
        'elsewhere and return a reference, or raise maxResultBytes.',
    );
  }
}

/** An attempt's outcome (its error or result) could not be written; stored in its place. */
export class UnstorableOutcomeError extends JobwireError {
  static override readonly code = 'JOBWIRE_UNSTORABLE_OUTCOME';

  constructor(message: string) {
    super(UnstorableOutcomeError.code, message);
  }
}

/** The schema in the database is not one this version of jobwire understands. */
export class SchemaVersionError extends JobwireError {
  static override readonly code = 'JOBWIRE_SCHEMA_VERSION';

  constructor(message: string) {
    super(SchemaVersionError.code, message);
  }
}

/**
 * An event-log cursor points before the oldest event kept: the events after it were pruned by
 * retention, so reading on would skip them. Start again from `'start'` (the oldest kept) or
 * `'now'`, or keep events longer (`events.retention`).
 */
export class EventCursorExpiredError extends JobwireError {
  constructor(readonly cursor: string) {
    super(
      'JOBWIRE_EVENT_CURSOR_EXPIRED',
      `The event cursor "${cursor}" is older than the oldest event kept: events after it were pruned. ` +
        `Read again from 'start' or 'now', or keep events longer (createJobwire({ events: { retention } })).`,
    );
  }
}

/** An operation was attempted after `close()`. */
export class ClosedError extends JobwireError {
  static override readonly code = 'JOBWIRE_CLOSED';

  constructor(what: string) {
    super(ClosedError.code, `${what} is closed.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors a handler throws to steer its job.

/**
 * Throw from a handler to fail the job for good: no further attempts, the job is `abandoned`.
 * Use it for errors a retry cannot fix (bad input, a deleted account).
 */
export class UnrecoverableError extends JobwireError {
  static override readonly code = 'JOBWIRE_UNRECOVERABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(UnrecoverableError.code, message, options);
  }
}

/**
 * Throw from a handler to run the job again after `delayMs` without counting this attempt as a
 * failure (a rate limit answered "try again in 30 s", a resource is not ready yet).
 */
export class SnoozeError extends JobwireError {
  static override readonly code = 'JOBWIRE_SNOOZE';

  constructor(
    readonly delayMs: number,
    message = `snoozed for ${delayMs} ms`,
  ) {
    super(SnoozeError.code, message);
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new InvalidOptionError('delayMs', `must be a finite number >= 0, got ${String(delayMs)}`);
    }
  }
}

/** The reason an attempt's AbortSignal fires when its timeout elapses. */
export class JobTimeoutError extends JobwireError {
  static override readonly code = 'JOBWIRE_TIMEOUT';

  constructor(readonly timeoutMs: number) {
    super(JobTimeoutError.code, `Attempt timed out after ${timeoutMs} ms`);
  }
}

/** The reason an attempt's AbortSignal fires when the job is cancelled while running. */
export class JobCancelledError extends JobwireError {
  static override readonly code = 'JOBWIRE_CANCELLED';

  constructor(readonly jobId: string) {
    super(JobCancelledError.code, `Job ${jobId} was cancelled`);
  }
}

/** The reason an attempt's AbortSignal fires when its pool shuts down past the grace period. */
export class ShutdownAbortError extends JobwireError {
  static override readonly code = 'JOBWIRE_SHUTDOWN';

  constructor() {
    super(ShutdownAbortError.code, 'The pool shut down before the attempt finished');
  }
}

/** The reason an attempt's AbortSignal fires when its lease was taken over by another worker. */
export class LeaseLostError extends JobwireError {
  static override readonly code = 'JOBWIRE_LEASE_LOST';

  constructor(readonly jobId: string) {
    super(LeaseLostError.code, `Lease on job ${jobId} was lost (rescued, cancelled or deleted)`);
  }
}

/** A schedule id does not exist (or no longer exists). */
export class ScheduleNotFoundError extends JobwireError {
  constructor(readonly scheduleId: string) {
    super('JOBWIRE_SCHEDULE_NOT_FOUND', `Schedule "${scheduleId}" does not exist.`);
  }
}

// -- Job dependencies (docs/dependencies.md). One block. ----------------------------------------

/** `dependsOn` named jobs that do not exist. Nothing was stored. */
export class DependencyNotFoundError extends JobwireError {
  static override readonly code = 'JOBWIRE_DEPENDENCY_NOT_FOUND';

  constructor(readonly jobIds: readonly string[]) {
    super(
      DependencyNotFoundError.code,
      `dependsOn names job${jobIds.length === 1 ? '' : 's'} ${jobIds.join(', ')} that do${jobIds.length === 1 ? 'es' : ''} not exist; nothing was stored.`,
    );
  }
}

/**
 * The items of one `enqueueMany`/`enqueueFlow` batch depend on each other in a cycle, which
 * could never run. `cycle` names the items (their `ref`s, or `#index`) in order. Nothing was stored.
 */
export class DependencyCycleError extends JobwireError {
  static override readonly code = 'JOBWIRE_DEPENDENCY_CYCLE';

  constructor(readonly cycle: readonly string[]) {
    super(
      DependencyCycleError.code,
      `the batch's dependencies form a cycle: ${[...cycle, cycle[0]].join(' → ')}; nothing was stored.`,
    );
  }
}

/**
 * A dependency already ended without completing (abandoned or cancelled) and its edge's policy
 * is `cancel`: the new job would be cancelled at once. Retry the dependency first, or choose
 * `onFailure: 'run'` or `'block'`. Nothing was stored.
 */
export class DependencyFailedError extends JobwireError {
  static override readonly code = 'JOBWIRE_DEPENDENCY_FAILED';

  constructor(
    readonly jobId: string,
    readonly state: string,
  ) {
    super(
      DependencyFailedError.code,
      `dependency ${jobId} is ${state} and the edge's onFailure is 'cancel'; retry it first or use ` +
        `onFailure 'run' or 'block'. Nothing was stored.`,
    );
  }
}
