/**
 * The pruner, a leader-only service: it deletes finished jobs past their retention (see
 * `retention.ts`) so the jobs table stays bounded. Each run works for at most `maxRunMs`, in
 * batches with pauses between them, so pools keep claiming and finishing while it runs and the
 * leader's other services (and its leadership renewal) are never held up for long. On a driver
 * whose statements run on this thread (`capabilities.blocksEventLoop`: SQLite) each batch is
 * sized to take about `batchTargetMs` and followed by a pause at least as long (see
 * `deleteFinishedInBatches`), so a prune holds the event loop for a few ms at a time and for at
 * most about half of its run. A run that
 * stopped with work left makes the next one come at the next leader tick, so a large backlog
 * (millions of rows after retention is first turned on) drains steadily rather than once a minute.
 *
 * It also deletes the counts of completions deleted as they completed (retention `completed:
 * 'immediately'`) once they are a day old, which `queueStats` reads for its windows. It runs with
 * `retention: false` too (no rules then): another process's pools may delete at completion.
 */
import type { FinishedJobFilter, FinishedState } from '../../driver/driver.js';
import { deleteFinishedInBatches, type ResolvedRetention } from '../retention.js';
import type { Runtime } from '../runtime.js';
import type { EpochMs } from '../types.js';
import type { LeaderService } from './service.js';

/** What one prune did (the `retention` tests and benchmarks read it). */
export interface PruneReport {
  deleted: Record<FinishedState, number>;
  /** True when the run stopped at its time budget with rows left to delete. */
  more: boolean;
  /** Delete statements run, the largest batch asked for, and the longest statement in ms. */
  batches: number;
  largestBatch: number;
  longestBatchMs: number;
}

/** How long the counts of deleted completions are kept: `queueStats` windows up to a day see them all. */
export const DELETED_COMPLETIONS_KEPT_MS = 86_400_000;

/** See the module comment. Run by the `LeaderElector`. */
export class Pruner implements LeaderService {
  readonly name = 'pruner';
  readonly operation = 'prune';
  readonly #runtime: Runtime;
  readonly #retention: ResolvedRetention;
  readonly #tickMs: number;
  /** Rules whose turn it is first: a budget-bound run resumes where the last one stopped. */
  #nextRule = 0;
  #behind = false;
  /** The last run's report. */
  lastReport: PruneReport | undefined;

  /** `tickMs`: the leader's own tick, the interval while a backlog remains. */
  constructor(runtime: Runtime, retention: ResolvedRetention, tickMs: number) {
    this.#runtime = runtime;
    this.#retention = retention;
    this.#tickMs = tickMs;
  }

  /** The configured interval, or the leader's tick while a backlog remains. */
  get intervalMs(): number {
    return this.#behind ? this.#tickMs : this.#retention.intervalMs;
  }

  /** One prune within the time budget. Rejects when storage fails. */
  async runOnce(): Promise<void> {
    const { driver, clock } = this.#runtime;
    const { rules, batchSize, batchTargetMs, maxRunMs } = this.#retention;
    const deadline = performance.now() + maxRunMs;
    const now = clock.now();
    const deleted: Record<FinishedState, number> = { completed: 0, abandoned: 0, cancelled: 0 };
    await driver.deletedCompletionsPrune({ before: now - DELETED_COMPLETIONS_KEPT_MS });
    let more = false;
    const pace = { batches: 0, largestBatch: 0, longestBatchMs: 0 };
    for (let visited = 0; visited < rules.length; visited++) {
      const index = (this.#nextRule + visited) % rules.length;
      const rule = rules[index]!;
      const state = rule.filter.states[0]!;
      const bounds: number[] = [];
      if (rule.maxAge !== Number.POSITIVE_INFINITY) bounds.push(now - rule.maxAge);
      if (rule.maxCount !== Number.POSITIVE_INFINITY) {
        const cutoff = await driver.jobFinishedCutoff({ ...rule.filter, keep: rule.maxCount });
        if (cutoff !== null) bounds.push(await countBound(driver, rule.filter, rule.maxCount, cutoff));
      }
      if (bounds.length === 0) continue;
      // Whichever limit reaches further back in time deletes more: apply the later bound.
      const result = await deleteFinishedInBatches(driver, rule.filter, Math.max(...bounds), {
        batchSize,
        batchTargetMs: driver.capabilities.blocksEventLoop ? batchTargetMs : undefined,
        deadline,
      });
      deleted[state] += result.deleted;
      pace.batches += result.batches;
      pace.largestBatch = Math.max(pace.largestBatch, result.largestBatch);
      pace.longestBatchMs = Math.max(pace.longestBatchMs, result.longestBatchMs);
      if (result.more) {
        more = true;
        this.#nextRule = index;
        break;
      }
      if (performance.now() >= deadline && visited < rules.length - 1) {
        more = true;
        this.#nextRule = (index + 1) % rules.length;
        break;
      }
    }
    if (!more) this.#nextRule = 0;
    this.#behind = more;
    this.lastReport = { deleted, more, ...pace };
  }
}

/**
 * The `finished before` bound that keeps the newest `keep` jobs, given the finish time of the
 * (keep+1)-th newest (`cutoff`). Normally everything up to and including `cutoff`'s millisecond
 * goes. But the outcomes of one write share a finish time: when the keep-th newest finished in
 * that same millisecond, deleting it would delete some of the newest `keep` too (`maxCount: 5`
 * once kept none of 200 jobs) — then that millisecond stays, and with it at least `keep` jobs.
 */
async function countBound(
  driver: Runtime['driver'],
  filter: FinishedJobFilter,
  keep: number,
  cutoff: EpochMs,
): Promise<EpochMs> {
  if (keep === 0) return cutoff + 1;
  const kept = await driver.jobFinishedCutoff({ ...filter, keep: keep - 1 });
  return kept === cutoff ? cutoff : cutoff + 1;
}
