/**
 * What becomes of an ended attempt. A pure function of the attempt and the limits, so every
 * branch is tested without a database; the pool turns the decision into a write and events.
 */
import type { ClaimedJob, FinalizeItem } from '../../driver/driver.js';
import type { AttemptOutcome } from '../attempt.js';
import { backoffDelay } from '../backoff.js';
import {
  InvalidPayloadError,
  JobCancelledError,
  LeaseLostError,
  ShutdownAbortError,
  SnoozeError,
  UnrecoverableError,
} from '../errors.js';
import { encodeResult, toStoredError } from '../serialize.js';
import type { BackoffFunction, EpochMs, StoredError } from '../types.js';

/** The decision for one ended attempt. */
export type OutcomeDecision =
  /** Store the result. */
  | { kind: 'complete'; resultJson: string | null }
  /** Failed with attempts left: run again after `delayMs`. */
  | { kind: 'retry'; delayMs: number; error: StoredError }
  /** Failed for good: the attempts ran out, or retrying cannot help. */
  | { kind: 'abandon'; reason: 'unrecoverable' | 'attempts-exhausted'; error: StoredError }
  /** The handler asked to run again after `delayMs`; the attempt does not count. */
  | { kind: 'snooze'; delayMs: number }
  /** A shutdown cut the attempt off: give the lease back as an interruption. */
  | { kind: 'interrupt'; error: StoredError }
  /** The job is no longer ours (cancelled in storage, or its lease was taken): write nothing. */
  | { kind: 'drop'; why: 'cancelled' | 'lease-lost' };

/** Everything the decision depends on. */
export interface OutcomeInput {
  job: ClaimedJob;
  outcome: AttemptOutcome;
  /** Why the attempt's signal was aborted; undefined when it was not. */
  abortReason: unknown;
  /** The task's own backoff function, if it has one. */
  backoffFn: BackoffFunction | undefined;
  maxResultBytes: number;
  /** The pool, named in an interruption's message. */
  poolId: string;
  /** When the attempt ended (stamped on the stored error). */
  now: EpochMs;
  /** Jitter source (tests inject one). */
  random?: () => number;
}

/** See the module comment. */
export function decideOutcome(input: OutcomeInput): OutcomeDecision {
  const { job, outcome, abortReason, now } = input;
  if (outcome.ok) {
    try {
      return { kind: 'complete', resultJson: encodeResult(outcome.result, input.maxResultBytes) };
    } catch (tooLarge) {
      // The work is done: store why its result is missing, and do not run it again by itself.
      return { kind: 'abandon', reason: 'unrecoverable', error: toStoredError(tooLarge, job.attempt, now) };
    }
  }
  if (abortReason instanceof JobCancelledError) return { kind: 'drop', why: 'cancelled' };
  if (abortReason instanceof LeaseLostError) return { kind: 'drop', why: 'lease-lost' };
  if (abortReason instanceof ShutdownAbortError) {
    return {
      kind: 'interrupt',
      error: {
        name: 'ShutdownInterruptedError',
        message:
          `pool ${input.poolId} shut down and its grace period ended before the attempt finished; ` +
          'the attempt does not count (an interruption)',
        attempt: job.attempt,
        at: now,
        interrupted: true,
      },
    };
  }
  const thrown = outcome.error;
  if (thrown instanceof SnoozeError) return { kind: 'snooze', delayMs: thrown.delayMs };
  const error = toStoredError(thrown, job.attempt, now);
  if (thrown instanceof UnrecoverableError || thrown instanceof InvalidPayloadError) {
    return { kind: 'abandon', reason: 'unrecoverable', error };
  }
  if (job.attempt >= job.maxAttempts) return { kind: 'abandon', reason: 'attempts-exhausted', error };
  const delayMs = backoffDelay(job.attempt, error, job.backoff, input.backoffFn, input.random);
  return { kind: 'retry', delayMs, error };
}

/** The write for a decision that stores an outcome (`interrupt` and `drop` store none here). */
export function finalizeItemFor(
  job: ClaimedJob,
  decision: Exclude<OutcomeDecision, { kind: 'interrupt' } | { kind: 'drop' }>,
): FinalizeItem {
  const item = itemFor(job, decision);
  if (job.dependents) item.hasDependents = true;
  return item;
}

function itemFor(
  job: ClaimedJob,
  decision: Exclude<OutcomeDecision, { kind: 'interrupt' } | { kind: 'drop' }>,
): FinalizeItem {
  const { id, leaseToken } = job;
  switch (decision.kind) {
    case 'complete':
      return { id, leaseToken, outcome: 'completed', resultJson: decision.resultJson };
    case 'retry':
      return { id, leaseToken, outcome: 'retry', error: decision.error, delayMs: decision.delayMs };
    case 'abandon':
      return { id, leaseToken, outcome: 'abandoned', error: decision.error };
    case 'snooze':
      return { id, leaseToken, outcome: 'snoozed', delayMs: decision.delayMs };
  }
}
