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
 *
 * Where claims run beside the jobs (not on this thread), such a pool holds up to two batches: the
 * one its slots are working through and the next, claimed while at most one batch is left to
 * run. A claim of 500 takes 10–20 ms on PostgreSQL, about as long as the slots take to run 500
 * no-op jobs; claimed only once the buffer was empty, the slots idled through every claim
 * (bench/results/2026-12-02-claim-ahead.md). A claim that runs on this thread (embedded SQLite)
 * stops the slots anyway, so there the pool holds one batch and claims when it runs out.
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
 * run times. A number is taken as it is. "auto": sub-millisecond jobs hold a batch of
 * TINY_JOB_BATCH, or two when `claimAhead` (claims run beside the jobs; see TINY_JOB_BATCH),
 * since claim round trips are then the whole cost (such a buffer drains in a few ms, so other
 * processes barely notice); short jobs buffer one more job per slot; longer jobs none, so they
 * are never hoarded away from other processes.
 */
export function prefetchFor(
  setting: number | 'auto',
  meanRunMs: number,
  concurrency: number,
  claimAhead: boolean,
): number {
  if (setting !== 'auto') return setting;
  const batches = claimAhead ? 2 : 1;
  if (meanRunMs < TINY_JOB_MS) return Math.max(concurrency, batches * TINY_JOB_BATCH - concurrency);
  return meanRunMs < SHORT_JOB_MS ? concurrency : 0;
}

/**
 * The most jobs one claim may take when `want` would fill the pool: one TINY_JOB_BATCH while
 * "auto" serves sub-millisecond jobs (it may hold two), `want` otherwise.
 */
export function claimLimitFor(setting: number | 'auto', meanRunMs: number, want: number): number {
  return setting === 'auto' && meanRunMs < TINY_JOB_MS ? Math.min(want, TINY_JOB_BATCH) : want;
}

/** The moving mean after an attempt that took `durationMs` (recent attempts weigh most). */
export function nextMeanRunMs(meanRunMs: number, durationMs: number): number {
  return meanRunMs * 0.9 + durationMs * 0.1;
}
