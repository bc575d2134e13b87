/**
 * The rescuer, the first leader-only service: it gives jobs whose lease expired (their worker
 * died, froze or lost its connection) back to the queue as an interruption, or abandons them
 * once their interruption budget is used up. The driver writes the lease-expiry error; the
 * events carry that stored error, so listeners and the job's history agree.
 */

import type { LogEntry, RescuedJob } from '../../driver/driver.js';
import { InvalidOptionError } from '../errors.js';
import type { JobwireEvents } from '../events.js';
import { dependentEntries, wakeForDue } from '../flow/dependencies.js';
import { emitEntries, jobEventBase } from '../job-events.js';
import type { Runtime } from '../runtime.js';
import type { EpochMs } from '../types.js';
import type { LeaderService } from './service.js';

/** Rescuer tuning (from `JobwireOptions.maintenance`). */
export interface RescuerOptions {
  /** How often the leader looks for expired leases, in ms. */
  intervalMs: number;
  /** Most jobs rescued per driver call; a full batch is followed by another at once. */
  batchSize: number;
}

/** See the module comment. Run by the `LeaderElector`, never directly by a pool. */
export class Rescuer implements LeaderService {
  readonly name = 'rescuer';
  readonly operation = 'rescue';
  readonly intervalMs: number;
  readonly #runtime: Runtime;
  readonly #batchSize: number;

  constructor(runtime: Runtime, options: RescuerOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new InvalidOptionError('maintenance.rescueBatchSize', 'must be an integer >= 1');
    }
    this.#runtime = runtime;
    this.intervalMs = options.intervalMs;
    this.#batchSize = options.batchSize;
  }

  /** Rescue every expired lease, batch by batch. Rejects when storage fails. */
  async runOnce(): Promise<void> {
    const { driver, events, clock, limits, eventLog } = this.#runtime;
    for (;;) {
      let entries: LogEntry[] = [];
      const build = (rescued: readonly RescuedJob[]): LogEntry[] => {
        entries = rescuedEntries(rescued, clock.now());
        return entries;
      };
      const rescued = await driver.jobRescueExpired({
        limit: this.#batchSize,
        maxInterruptions: limits.maxInterruptions,
        now: this.#runtime.dbNow(),
        log: eventLog ? build : undefined,
      });
      if (!eventLog) build(rescued);
      emitEntries(events, entries);
      for (const job of rescued) wakeForDue(this.#runtime.wakeups, job.dependents);
      if (rescued.length < this.#batchSize) return;
    }
  }
}

/** `job:rescued` for each job put back, `job:abandoned` for each whose budget ran out. */
function rescuedEntries(rescued: readonly RescuedJob[], at: EpochMs): LogEntry[] {
  // An abandon's effect on dependents follows it (see docs/dependencies.md).
  return rescued.flatMap((job) => [rescuedEntry(job, at), ...dependentEntries(job.dependents)]);
}

function rescuedEntry(job: RescuedJob, at: EpochMs): LogEntry {
  {
    const base = jobEventBase(job);
    if (job.newState === 'pending') {
      const data: JobwireEvents['job:rescued'] = {
        ...base,
        previousPoolId: job.previousPoolId,
        leaseExpiredAt: job.leaseExpiredAt,
        interruptions: job.interruptions,
        error: job.error,
        at,
      };
      return { type: 'job:rescued', data };
    }
    const data: JobwireEvents['job:abandoned'] = { ...base, reason: 'lease-expired', error: job.error, at };
    return { type: 'job:abandoned', data };
  }
}
