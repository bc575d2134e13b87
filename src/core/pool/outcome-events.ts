/**
 * The events of an ended attempt, from its decision and what storage did with it: completed,
 * failed (+ retrying or abandoned), snoozed, interrupted (+ abandoned), or lease lost. One
 * builder per kind serves both the durable log (entries stored with the write, built before it)
 * and the in-process bus (emitted after it), so both carry the same payloads.
 */

import { completedEntry, MAX_LOGGED_RESULT_BYTES } from '../../driver/completed-entry.js';
import type { ClaimedJob, FinalizeItem, FinalizeResult, LogEntry } from '../../driver/driver.js';
import { RUN_AT_PLACEHOLDER } from '../../driver/event-log.js';
import type { AttemptOutcome } from '../attempt.js';
import type { AttemptEventBase, EventBus, JobwireEvents } from '../events.js';
import { emitEntries, jobEventBase } from '../job-events.js';

export { emitEntries };

import type { EpochMs, StoredError } from '../types.js';
import type { OutcomeDecision } from './outcome-policy.js';

/** An attempt's outcome as it is about to be written (or was). */
export interface OutcomeParts {
  job: ClaimedJob;
  base: AttemptEventBase;
  decision: OutcomeDecision;
  /** The item actually written (the finalizer may have replaced an unstorable one). */
  written: FinalizeItem;
  outcome: AttemptOutcome;
  /** The index of the worker slot that ran the attempt (its worker id is `<poolId>/<slot>`). */
  slot: number;
  finishedAt: EpochMs;
  durationMs: number;
}

/**
 * The result as the log stores it: the stored encoding (never a value JSON cannot hold), or, past
 * MAX_LOGGED_RESULT_BYTES, nothing — the job record keeps it, and the log is not a second copy.
 */
function loggedResult(resultJson: string | null): { result: unknown; resultOmitted?: true } {
  if (resultJson === null) return { result: null };
  if (resultJson.length > MAX_LOGGED_RESULT_BYTES) return { result: null, resultOmitted: true };
  return { result: JSON.parse(resultJson) };
}

/**
 * The events of an applied outcome. `runAt` is the due time storage wrote for a retry or snooze;
 * before the write it is unknown and `RUN_AT_PLACEHOLDER` stands in (the driver replaces it).
 * `forLog`: the entries the write stores (the result as stored); else those the bus emits.
 */
export function outcomeEntries(p: OutcomeParts, runAt: EpochMs | undefined, forLog = false): LogEntry[] {
  const { base, written, finishedAt, durationMs } = p;
  // Typed as a time: the placeholder never reaches a listener, only the driver's statement.
  const due = (): EpochMs => runAt ?? (RUN_AT_PLACEHOLDER as unknown as EpochMs);
  switch (written.outcome) {
    case 'completed': {
      if (forLog) {
        const entry = completedEntry(
          p.job,
          base.poolId,
          p.slot,
          base.startedAt,
          finishedAt,
          durationMs,
          written.resultJson,
        );
        if (entry) return [entry];
      }
      return [
        {
          type: 'job:completed',
          data: {
            ...base,
            completedAt: finishedAt,
            durationMs,
            ...(forLog
              ? loggedResult(written.resultJson)
              : { result: p.outcome.ok ? p.outcome.result : null }),
          },
        },
      ];
    }
    case 'snoozed':
      return [{ type: 'job:snoozed', data: { ...base, delayMs: written.delayMs, nextRunAt: due() } }];
    case 'retry':
      return [
        {
          type: 'job:failed',
          data: { ...base, failedAt: finishedAt, durationMs, error: written.error, willRetry: true },
        },
        {
          type: 'job:retrying',
          data: { ...base, delayMs: written.delayMs, nextRunAt: due(), error: written.error },
        },
      ];
    case 'abandoned':
      return [
        {
          type: 'job:failed',
          data: { ...base, failedAt: finishedAt, durationMs, error: written.error, willRetry: false },
        },
        // A completed attempt whose result could not be stored is abandoned on purpose.
        abandonedEntry(
          p.job,
          p.decision.kind === 'abandon' ? p.decision.reason : 'unrecoverable',
          written.error,
          finishedAt,
        ),
      ];
  }
}

/** Report a written outcome (`result`: what storage did with `w.written`). */
export function emitOutcomeEvents(events: EventBus, w: OutcomeParts, result: FinalizeResult): void {
  const { base, written, finishedAt } = w;
  if (!result.applied) {
    emitLeaseLost(events, base, finishedAt);
    return;
  }
  // The hot path's common case: skip building a payload nobody listens to.
  if (written.outcome === 'completed' && !events.has('job:completed')) return;
  const delayMs = 'delayMs' in written ? written.delayMs : 0;
  const runAt = result.runAt ?? finishedAt + delayMs;
  emitEntries(events, outcomeEntries(w, runAt));
}

/**
 * The events of an interruption given back to storage: `job:interrupted`, then `job:abandoned`
 * when it used up `maxInterruptions`. The driver applies that budget to the job's stored count,
 * which is the claimed count here (only a rescue changes it while the job runs, and a rescue
 * takes the lease, fencing us off).
 */
export function interruptedEntries(
  job: ClaimedJob,
  base: AttemptEventBase,
  error: StoredError,
  maxInterruptions: number,
  durationMs: number,
  at: EpochMs,
): LogEntry[] {
  const interruptions = job.interruptions + 1;
  const willRunAgain = interruptions < maxInterruptions;
  const entries: LogEntry[] = [
    { type: 'job:interrupted', data: { ...base, error, interruptions, willRunAgain, durationMs, at } },
  ];
  if (!willRunAgain) entries.push(abandonedEntry(job, 'interrupted', error, at));
  return entries;
}

/** `job:lease-lost`: the job was taken from this pool; nothing of this attempt is stored. */
export function emitLeaseLost(events: EventBus, base: AttemptEventBase, at: EpochMs): void {
  events.emit('job:lease-lost', { ...base, at });
}

function abandonedEntry(
  job: ClaimedJob,
  reason: JobwireEvents['job:abandoned']['reason'],
  error: StoredError,
  at: EpochMs,
): LogEntry {
  const data: JobwireEvents['job:abandoned'] = { ...jobEventBase(job), reason, error, at };
  return { type: 'job:abandoned', data };
}
