/**
 * Retention of the durable log: a leader-only service that removes events older than
 * `events.retention.maxAgeMs` (and rows beyond `maxRows`), a bounded batch per statement so the
 * hot path never waits on a long delete (paced like the job pruner's, see `runPacedBatches`). A cursor into what was removed is refused with
 * `EventCursorExpiredError` from then on.
 */
import type { LeaderService } from '../leader/service.js';
import { runPacedBatches } from '../paced-batches.js';
import { DEFAULT_BATCH_TARGET_MS } from '../retention.js';
import type { Runtime } from '../runtime.js';
import type { EventLogSettings } from './options.js';

/** Most rows removed per statement. */
const PRUNE_BATCH = 5000;

/** See the module comment. */
export class EventPruner implements LeaderService {
  readonly name = 'event-pruner';
  readonly operation = 'prune';
  readonly intervalMs: number;
  readonly #runtime: Runtime;
  readonly #retention: EventLogSettings['retention'];

  constructor(runtime: Runtime, retention: EventLogSettings['retention']) {
    this.#runtime = runtime;
    this.#retention = retention;
    this.intervalMs = retention.intervalMs;
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
    await runPacedBatches((limit) => driver.eventPrune({ before, maxRows, limit }), {
      batchSize: PRUNE_BATCH,
      batchTargetMs: driver.capabilities.blocksEventLoop ? DEFAULT_BATCH_TARGET_MS : undefined,
    });
  }
}
