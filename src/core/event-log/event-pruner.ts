/**
 * Retention of the durable log: a leader-only service that removes events older than
 * `events.retention.maxAgeMs` (and rows beyond `maxRows`), a bounded batch per statement so the
 * hot path never waits on a long delete (paced like the job pruner's, see `runPacedBatches`), and
 * at most `EVENT_PRUNE_MAX_RUN_MS` per run: a backlog is worked off a run per leader tick. A
 * cursor into what was removed is refused with `EventCursorExpiredError` from then on.
 */
import type { LeaderService } from '../leader/service.js';
import { runPacedBatches } from '../paced-batches.js';
import { DEFAULT_BATCH_TARGET_MS } from '../retention.js';
import type { Runtime } from '../runtime.js';
import type { EventLogSettings } from './options.js';

/** Most rows removed per statement. */
const PRUNE_BATCH = 5000;

/**
 * Longest a run deletes before it yields, as the job pruner's `maxRunMs`: the leader runs its
 * services one after another, and an unbounded run over a backlog (700,000 rows: 22 s) held up
 * the rescue of a dead worker's jobs and the leader's own renewal, so it lost the lead mid-run.
 */
export const EVENT_PRUNE_MAX_RUN_MS = 500;

/** See the module comment. */
export class EventPruner implements LeaderService {
  readonly name = 'event-pruner';
  readonly operation = 'prune';
  readonly #runtime: Runtime;
  readonly #retention: EventLogSettings['retention'];
  readonly #tickMs: number;
  /** The last run stopped at its deadline with rows left to remove. */
  #behind = false;

  /** `tickMs`: the leader's own tick, the interval while a backlog remains. */
  constructor(runtime: Runtime, retention: EventLogSettings['retention'], tickMs: number) {
    this.#runtime = runtime;
    this.#retention = retention;
    this.#tickMs = tickMs;
  }

  /** The configured interval, or the leader's tick while a backlog remains. */
  get intervalMs(): number {
    return this.#behind ? Math.min(this.#tickMs, this.#retention.intervalMs) : this.#retention.intervalMs;
  }

  async runOnce(): Promise<void> {
    const { maxAgeMs, maxRows } = this.#retention;
    if (maxAgeMs === Number.POSITIVE_INFINITY && maxRows === undefined) return;
    const now = this.#runtime.dbNow() ?? this.#runtime.clock.now();
    const before = maxAgeMs === Number.POSITIVE_INFINITY ? 0 : now - maxAgeMs;
    const { driver } = this.#runtime;
    // Where statements run on this thread (SQLite), batches are sized to a few ms with pauses
    // between them, as the job pruner's: 100,000 rows in 5,000-row batches back to back held
    // the event loop for 0.4 s.
    const result = await runPacedBatches((limit) => driver.eventPrune({ before, maxRows, limit }), {
      batchSize: PRUNE_BATCH,
      batchTargetMs: driver.capabilities.blocksEventLoop ? DEFAULT_BATCH_TARGET_MS : undefined,
      deadline: performance.now() + EVENT_PRUNE_MAX_RUN_MS,
    });
    this.#behind = result.more;
  }
}
