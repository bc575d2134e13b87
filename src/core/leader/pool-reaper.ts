/**
 * The pool reaper, a leader-only service: it removes registry rows of pools that stopped
 * refreshing them for more than `missedHeartbeats` of their own heartbeat periods — their
 * process died, froze or lost storage — and reports each as `pool:lost`. The driver's delete
 * returns each row to one caller only, and only the leader runs it, so every loss is reported
 * once in the whole cluster. Jobs such a pool held are the rescuer's business (their leases
 * expire); this service only keeps `listPools()` truthful.
 */
import { InvalidOptionError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { LeaderService } from './service.js';

/** Pool-reaper tuning (from `JobwireOptions.maintenance`). */
export interface PoolReaperOptions {
  /** How often the leader looks for lost pools, in ms. */
  intervalMs: number;
  /** Heartbeat periods a pool may miss before it is lost. */
  missedHeartbeats: number;
}

/** See the module comment. Run by the `LeaderElector`, never directly. */
export class PoolReaper implements LeaderService {
  readonly name = 'pool-reaper';
  readonly operation = 'reap';
  readonly intervalMs: number;
  readonly #runtime: Runtime;
  readonly #missedHeartbeats: number;

  constructor(runtime: Runtime, options: PoolReaperOptions) {
    const missed = options.missedHeartbeats;
    if (!Number.isInteger(missed) || missed < 2 || missed > 1000) {
      // One missed beat is a slow write, not a death: at least two.
      throw new InvalidOptionError(
        'maintenance.poolLostAfterHeartbeats',
        'must be an integer from 2 to 1000',
      );
    }
    this.#runtime = runtime;
    this.intervalMs = options.intervalMs;
    this.#missedHeartbeats = missed;
  }

  /** Reap every lost pool's row and report it. Rejects when storage fails. */
  async runOnce(): Promise<void> {
    const { driver, events, clock } = this.#runtime;
    const lost = await driver.poolReapStale({
      missedHeartbeats: this.#missedHeartbeats,
      now: this.#runtime.dbNow(),
    });
    const at = clock.now();
    for (const pool of lost) {
      events.emit('pool:lost', {
        poolId: pool.poolId,
        host: pool.host,
        pid: pool.pid,
        lastSeenAt: pool.lastSeenAt,
        at,
      });
    }
  }
}
