/**
 * The events of an ended attempt, from its decision and what storage did with it: completed,
 * failed (+ retrying or abandoned), snoozed, interrupted (+ abandoned), or lease lost.
 */
import type { ClaimedJob, FinalizeItem, FinalizeResult } from '../../driver/driver.js';
import type { AttemptOutcome } from '../attempt.js';
import type { AttemptEventBase, EventBus, JobwireEvents } from '../events.js';
import { jobEventBase } from '../job-events.js';
import type { EpochMs, StoredError } from '../types.js';
import type { OutcomeDecision } from './outcome-policy.js';

/** An attempt's written outcome, for `emitOutcomeEvents`. */
export interface WrittenOutcome {
  job: ClaimedJob;
  base: AttemptEventBase;
  decision: OutcomeDecision;
  /** The item actually written (the finalizer may have replaced an unstorable one). */
  written: FinalizeItem;
  result: FinalizeResult;
  outcome: AttemptOutcome;
  finishedAt: EpochMs;
  durationMs: number;
}

/** Report a written outcome. */
export function emitOutcomeEvents(events: EventBus, w: WrittenOutcome): void {
  const { base, written, result, finishedAt, durationMs } = w;
  if (!result.applied) {
    emitLeaseLost(events, base, finishedAt);
    return;
  }
  switch (written.outcome) {
    case 'completed':
      if (events.has('job:completed')) {
        events.emit('job:completed', {
          ...base,
          completedAt: finishedAt,
          durationMs,
          result: w.outcome.ok ? w.outcome.result : null,
        });
      }
      return;
    case 'snoozed':
      events.emit('job:snoozed', {
        ...base,
        delayMs: written.delayMs,
        nextRunAt: result.runAt ?? finishedAt,
      });
      return;
    case 'retry':
      events.emit('job:failed', {
        ...base,
        failedAt: finishedAt,
        durationMs,
        error: written.error,
        willRetry: true,
      });
      events.emit('job:retrying', {
        ...base,
        delayMs: written.delayMs,
        nextRunAt: result.runAt ?? finishedAt + written.delayMs,
        error: written.error,
      });
      return;
    case 'abandoned':
      events.emit('job:failed', {
        ...base,
        failedAt: finishedAt,
        durationMs,
        error: written.error,
        willRetry: false,
      });
      // A completed attempt whose result could not be stored is abandoned on purpose.
      emitAbandoned(
        events,
        w.job,
        w.decision.kind === 'abandon' ? w.decision.reason : 'unrecoverable',
        written.error,
        finishedAt,
      );
      return;
  }
}

/**
 * Report an interruption given back to storage: `job:interrupted`, then `job:abandoned` when it
 * used up `maxInterruptions`. The driver applies that budget to the job's stored count, which is
 * the claimed count here (only a rescue changes it while the job runs, and a rescue takes the
 * lease, fencing us off).
 */
export function emitInterrupted(
  events: EventBus,
  job: ClaimedJob,
  base: AttemptEventBase,
  error: StoredError,
  maxInterruptions: number,
  durationMs: number,
  at: EpochMs,
): void {
  const interruptions = job.interruptions + 1;
  const willRunAgain = interruptions < maxInterruptions;
  events.emit('job:interrupted', { ...base, error, interruptions, willRunAgain, durationMs, at });
  if (!willRunAgain) emitAbandoned(events, job, 'interrupted', error, at);
}

/** `job:lease-lost`: the job was taken from this pool; nothing of this attempt is stored. */
export function emitLeaseLost(events: EventBus, base: AttemptEventBase, at: EpochMs): void {
  events.emit('job:lease-lost', { ...base, at });
}

function emitAbandoned(
  events: EventBus,
  job: ClaimedJob,
  reason: JobwireEvents['job:abandoned']['reason'],
  error: StoredError,
  at: EpochMs,
): void {
  events.emit('job:abandoned', { ...jobEventBase(job), reason, error, at });
}
