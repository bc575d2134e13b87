/**
 * Queue counts for the dashboard. Every count the dashboard shows goes through `readQueueCounts`
 * (one place to switch to bounded counts), and through one `CountsCache` per handler: however
 * many pages and live streams are open, the database is asked at most once per `minIntervalMs`,
 * and concurrent askers share the one query in flight.
 */
import type { Jobwire, QueueCounts as QueueCountsRow } from '../../index.js';

/** Per-queue counts by state, each with its precision, as the dashboard shows them. */
export type QueueCounts = QueueCountsRow[];

/**
 * The one function that asks the client for counts: the bounded `queueCounts()` (docs/counts.md),
 * so an open dashboard costs the same on a table of millions of jobs as on an empty one. Counts
 * above the cap come back flagged (`atLeast`, `estimate`) and are shown with ≥ / ~.
 */
export function readQueueCounts(jobwire: Jobwire): Promise<QueueCounts> {
  return jobwire.queueCounts();
}

/** A snapshot of the counts and when its query started (the handler's clock). */
export interface CountsSnapshot {
  queues: QueueCounts;
  readAt: number;
}

/** See the module comment. */
export class CountsCache {
  readonly #read: () => Promise<QueueCounts>;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  #last: CountsSnapshot | undefined;
  #inFlight: Promise<CountsSnapshot> | undefined;
  /** How many times the database was asked (tests read it to prove the rate limit). */
  reads = 0;

  constructor(
    read: () => Promise<QueueCounts>,
    options: { minIntervalMs?: number; now?: () => number } = {},
  ) {
    this.#read = read;
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** The latest counts, read again only when the last read is older than the interval. */
  get(): Promise<CountsSnapshot> {
    if (this.#last && this.#now() - this.#last.readAt < this.#minIntervalMs)
      return Promise.resolve(this.#last);
    if (this.#inFlight) return this.#inFlight;
    this.reads++;
    // Stamped when the query starts: whatever committed before that is in it.
    const readAt = this.#now();
    const reading = this.#read().then((queues) => {
      this.#last = { queues, readAt };
      return this.#last;
    });
    this.#inFlight = reading.finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /**
   * Counts whose query started at or after `after` (so they include what committed before it),
   * waiting out the interval when the last read is too recent. The live hub uses it: a burst's
   * last event must show in the counts even when it arrived just after a read.
   */
  async fresh(after: number): Promise<CountsSnapshot> {
    for (;;) {
      const snapshot = await this.get();
      if (snapshot.readAt >= after) return snapshot;
      const wait = snapshot.readAt + this.#minIntervalMs - this.#now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
