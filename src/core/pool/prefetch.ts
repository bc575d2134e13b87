/**
 * How many jobs a pool claims ahead of its free slots. A pure function, so `prefetch: "auto"`
 * is tested without a database.
 */

/** Attempts shorter than this (EWMA) let the "auto" prefetch buffer up to `concurrency` jobs. */
export const SHORT_JOB_MS = 20;
/** Attempts shorter than this (EWMA) let the "auto" prefetch claim batches of TINY_JOB_BATCH. */
export const TINY_JOB_MS = 1;
/**
 * The claim size "auto" aims at for sub-millisecond jobs. Every claim and every finalize has a
 * fixed cost (a round trip or a transaction, its commit, a statement's start-up, an event-log
 * row), and a pool of such jobs waits on its claims: in alternating drains on PostgreSQL, 500
 * processed 25 % more unkeyed and 38 % more keyed jobs per second than 100, and SQLite 20 % more;
 * 1,000 was slower again than 500 (bench/results/2026-12-02-claim-batch.md). 500 no-op jobs
 * run in about 15 ms, so other processes barely notice what one pool holds.
 */
export const TINY_JOB_BATCH = 500;
/**
 * Buffered jobs one turn of the event loop starts as attempts end (the pool fills its free slots
 * on the next turn beyond that). A buffer of TINY_JOB_BATCH sub-millisecond jobs started back to
 * back in microtasks kept timers and I/O waiting 35–44 ms in the peer harness, against 12–19 ms
 * for batches of 100; with this limit it is back to 13–22 ms, for about 5 % of SQLite's
 * processing speed and none of PostgreSQL's.
 */
export const STARTS_PER_TURN = 100;
/** The starting run-time estimate: long enough that a fresh pool hoards nothing. */
export const INITIAL_MEAN_RUN_MS = SHORT_JOB_MS * 10;

/**
 * Jobs to hold beyond `concurrency`, given the setting and the moving mean of recent attempts'
 * run times. A number is taken as it is. "auto": sub-millisecond jobs claim up to TINY_JOB_BATCH
 * at once, since claim round trips are then the whole cost (such a buffer drains in a few ms, so
 * other processes barely notice); short jobs buffer one more job per slot; longer jobs none, so
 * they are never hoarded away from other processes.
 */
export function prefetchFor(setting: number | 'auto', meanRunMs: number, concurrency: number): number {
  if (setting !== 'auto') return setting;
  if (meanRunMs < TINY_JOB_MS) return Math.max(concurrency, TINY_JOB_BATCH - concurrency);
  return meanRunMs < SHORT_JOB_MS ? concurrency : 0;
}

/** The moving mean after an attempt that took `durationMs` (recent attempts weigh most). */
export function nextMeanRunMs(meanRunMs: number, durationMs: number): number {
  return meanRunMs * 0.9 + durationMs * 0.1;
}
