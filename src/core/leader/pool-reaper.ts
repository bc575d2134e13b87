/**
 * The pool reaper, a leader-only service: it removes registry rows of pools that stopped
 * refreshing them for more than `missedHeartbeats` of their own heartbeat periods — their
 * process died, froze or lost storage — and reports each as `pool:lost`. The driver's delete
 * returns each row to one caller only, and only the leader runs it, so every loss is reported
 * once in the whole cluster. Jobs such a pool held are the rescuer's business (their leases
 * expire); this service only keeps `listPools()` truthful.
 *
 * A database outage silences every pool at once, through no fault of theirs: when this process's
 * storage answers again (`storageRecovered`), the reaper reaps nothing until every registered
 * pool has had one whole heartbeat period of its own, plus a margin, to write its row again
 * (pools retry a failed registry write every second, so they are usually back well before).
 * Only pools that stay silent past that are lost. A leader whose own storage never failed (it
 * took over from a leader that was cut off) reaps as usual.
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

/**
 * After an outage, how long past one heartbeat period of the slowest pool the reaper waits:
 * a pool's first write after an outage may wait for a new connection.
 */
export const RECOVERY_MARGIN_MS = 3000;

/** See the module comment. Run by the `LeaderElector`, never directly. */
export class PoolReaper implements LeaderService {
  readonly name = 'pool-reaper';
  readonly operation = 'reap';
  readonly intervalMs: number;
  readonly #runtime: Runtime;
  readonly #missedHeartbeats: number;
  /** Date.now() when storage answered again after an outage; the hold it implies is not computed yet. */
  #recoveredAt: number | undefined;
  /** Date.now() before which nothing is reaped (see the module comment). */
  #holdUntil = 0;

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

  /** Storage answers again after an outage: give every pool a heartbeat period to write again. */
  storageRecovered(): void {
    this.#recoveredAt = Date.now();
  }

  /** Reap every lost pool's row and report it. Rejects when storage fails. */
  async runOnce(): Promise<void> {
    const { driver, events, clock } = this.#runtime;
    const recoveredAt = this.#recoveredAt;
    if (recoveredAt !== undefined) {
      // Each row stores its pool's period: the slowest one decides how long all are spared.
      const pools = await driver.poolList();
      const slowest = pools.reduce((longest, pool) => Math.max(longest, pool.heartbeatMs), 0);
      this.#holdUntil = Math.max(this.#holdUntil, recoveredAt + slowest + RECOVERY_MARGIN_MS);
      // A later outage's storageRecovered() sets it again; this one's hold is computed.
      if (this.#recoveredAt === recoveredAt) this.#recoveredAt = undefined;
    }
    if (Date.now() < this.#holdUntil) return;
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
