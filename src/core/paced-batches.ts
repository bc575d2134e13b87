/**
 * Work done in batches that never hold the database, or the event loop, for long: the pruners'
 * and the by-hand purge's deletes. See `runPacedBatches`.
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The first batch: small, since its cost per row is not known yet. */
export const FIRST_BATCH = 50;

/** How many recent batches size the next one (see `runPacedBatches`). */
export const RECENT_BATCHES = 8;

/** How batched work paces itself (see `runPacedBatches`). */
export interface BatchPacing {
  /** Most rows one statement handles. */
  batchSize: number;
  /**
   * Target duration of one statement, in ms: each batch is sized from recent batches' time per
   * row so that it takes about this long (never more than `batchSize` rows), and is followed by
   * a pause at least as long. Undefined: every batch is `batchSize` rows, with `pauseMs` pauses
   * (for a driver whose statements do not hold the event loop, where a statement's time is
   * mostly waiting on the database).
   */
  batchTargetMs?: number;
  /** Stop once `now()` reaches this (after at least one batch). */
  deadline?: number;
  /** Shortest wait between batches, in ms. Default 2. */
  pauseMs?: number;
  /** The clock of `deadline` and of batch durations (ms). Default `performance.now()`. */
  now?: () => number;
  /** Wait between batches. Default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** What batched work did. */
export interface BatchedDeleteResult {
  /** Rows handled in all. */
  deleted: number;
  /** True when it stopped at its deadline with matching rows possibly left. */
  more: boolean;
  /** Statements run, the largest `limit` asked for, and the longest statement in ms. */
  batches: number;
  largestBatch: number;
  longestBatchMs: number;
}

/**
 * Call `batch(limit)` — one statement that handles at most `limit` rows and says how many it
 * did — until one handles fewer than its limit (nothing is left) or the deadline passes. With
 * `batchTargetMs` (drivers whose statements run on the event loop's thread, such as SQLite) no
 * statement holds the loop for long:
 * - each batch is sized to take about `batchTargetMs` at the slowest time per row of the last
 *   RECENT_BATCHES batches (the first is FIRST_BATCH rows; a batch at most doubles the previous
 *   one; it shrinks at once when rows get dearer), capped by `batchSize`;
 * - after each batch it waits at least as long as the batch took, so the work takes at most
 *   about half of the time, and pools and other processes get the database and the loop.
 */
export async function runPacedBatches(
  batch: (limit: number) => Promise<number>,
  options: BatchPacing,
): Promise<BatchedDeleteResult> {
  const now = options.now ?? (() => performance.now());
  const wait = options.sleep ?? sleep;
  const result: BatchedDeleteResult = {
    deleted: 0,
    more: false,
    batches: 0,
    largestBatch: 0,
    longestBatchMs: 0,
  };
  const target = options.batchTargetMs;
  let limit = target === undefined ? options.batchSize : Math.min(options.batchSize, FIRST_BATCH);
  // Time per row of the last RECENT_BATCHES batches: the next one is sized from the dearest, so
  // one lucky fast batch does not bring back the big ones that hit the slow paths.
  const recent: number[] = [];
  for (;;) {
    const started = now();
    const n = await batch(limit);
    const tookMs = Math.max(0, now() - started);
    result.deleted += n;
    result.batches++;
    result.largestBatch = Math.max(result.largestBatch, limit);
    result.longestBatchMs = Math.max(result.longestBatchMs, tookMs);
    if (n < limit) return result;
    if (target === undefined) {
      await wait(options.pauseMs ?? 2);
    } else {
      recent.push(tookMs / n);
      if (recent.length > RECENT_BATCHES) recent.shift();
      const perRow = Math.max(...recent);
      const sized = perRow > 0 ? Math.floor(target / perRow) : limit * 2;
      limit = Math.max(1, Math.min(options.batchSize, limit * 2, sized));
      await wait(Math.max(options.pauseMs ?? 2, tookMs));
    }
    if (options.deadline !== undefined && now() >= options.deadline) {
      result.more = true;
      return result;
    }
  }
}
