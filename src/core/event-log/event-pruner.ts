/**
 * Retention of the durable log: a leader-only service that removes events older than
 * `events.retention.maxAgeMs` (and rows beyond `maxRows`), a bounded batch per statement so the
 * hot path never waits on a long delete. A cursor into what was removed is refused with
 * `EventCursorExpiredError` from then on.
 */
import type { LeaderService } from '../leader/service.js';
import type { Runtime } from '../runtime.js';
import type { EventLogSettings } from './options.js';

/** Rows removed per statement. */
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
    for (;;) {
      const removed = await this.#runtime.driver.eventPrune({ before, maxRows, limit: PRUNE_BATCH });
      if (removed < PRUNE_BATCH) return;
    }
  }
}
