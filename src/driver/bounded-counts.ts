/**
 * What every driver's `queueCounts` shares: the check of its cap, and the assembly of capped
 * reads and estimates into per-queue counts with their precision, so both drivers flag counts by
 * the same rule.
 *
 * A driver reads jobs through indexes, each read stopping after `exactUpTo + 1` rows. A read
 * covers some states, either in one queue or over all queues; it is `complete` when it stopped
 * before the cap, so it saw every job it covers. A count whose covering read is complete is
 * exact; any other count is flagged: the driver's estimate when it has one above what the read
 * saw, otherwise `atLeast` what the read saw.
 */
import { InvalidOptionError } from '../core/errors.js';
import { preview } from '../core/preview.js';
import { type CountPrecision, JOB_STATES, type JobState, type QueueCounts } from '../core/types.js';
import type { QueueCountsParams } from './params.js';

/** The largest cap `queueCounts` accepts: past it a read is no longer cheap. */
export const MAX_EXACT_UP_TO = 1_000_000;

/** Refuse a cap that is not an integer from 1 to MAX_EXACT_UP_TO (`InvalidOptionError`). */
export function checkQueueCounts(params: QueueCountsParams): QueueCountsParams {
  const cap = params?.exactUpTo;
  if (typeof cap !== 'number' || !Number.isInteger(cap) || cap < 1 || cap > MAX_EXACT_UP_TO) {
    throw new InvalidOptionError(
      'exactUpTo',
      `must be an integer from 1 to ${MAX_EXACT_UP_TO}, got ${preview(cap)}`,
    );
  }
  return params;
}

/** One capped read of jobs. */
export interface CountRead {
  /** The states it counts. */
  states: readonly JobState[];
  /** The one queue it read, or null for a read over every queue. */
  queue: string | null;
  /** Jobs seen, by queue and state (states outside `states` are ignored). */
  seen: readonly { queue: string; state: JobState; n: number }[];
  /** True when it saw every job it covers (it stopped before the cap). */
  complete: boolean;
}

/** An estimate of one queue's jobs in one state (planner statistics, a sample). */
export interface CountEstimate {
  queue: string;
  state: JobState;
  n: number;
}

const key = (queue: string, state: JobState): string => `${queue}\u0000${state}`;

/**
 * Per-queue counts, sorted by name (code-unit order), for every queue in `settings`, seen by a
 * read, or estimated at one job or more. A count is read from the read of its queue that covers
 * its state, else from the read over every queue that does.
 */
export function assembleQueueCounts(
  settings: readonly { name: string; paused: boolean }[],
  reads: readonly CountRead[],
  estimates: readonly CountEstimate[] = [],
): QueueCounts[] {
  const paused = new Map<string, boolean>();
  for (const row of settings) paused.set(row.name, row.paused);
  const seen = new Map<string, number>();
  for (const read of reads) {
    for (const row of read.seen) {
      if (!read.states.includes(row.state)) continue;
      if (!paused.has(row.queue)) paused.set(row.queue, false);
      seen.set(key(row.queue, row.state), (seen.get(key(row.queue, row.state)) ?? 0) + row.n);
    }
  }
  const estimated = new Map<string, number>();
  for (const estimate of estimates) {
    const n = Math.round(estimate.n);
    if (!(n >= 1)) continue;
    if (!paused.has(estimate.queue)) paused.set(estimate.queue, false);
    estimated.set(key(estimate.queue, estimate.state), n);
  }
  const covering = (queue: string, state: JobState): CountRead | undefined =>
    reads.find((r) => r.queue === queue && r.states.includes(state)) ??
    reads.find((r) => r.queue === null && r.states.includes(state));

  const result: QueueCounts[] = [];
  for (const [name, isPaused] of paused) {
    const counts = {} as Record<JobState, number>;
    const precision = {} as Record<JobState, CountPrecision>;
    for (const state of JOB_STATES) {
      const n = seen.get(key(name, state)) ?? 0;
      const read = covering(name, state);
      const estimate = estimated.get(key(name, state));
      if (read?.complete) {
        counts[state] = n;
        precision[state] = 'exact';
      } else if (estimate !== undefined && estimate > n) {
        counts[state] = estimate;
        precision[state] = 'estimate';
      } else {
        counts[state] = n;
        precision[state] = 'atLeast';
      }
    }
    result.push({ name, paused: isPaused, counts, precision });
  }
  return result.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
