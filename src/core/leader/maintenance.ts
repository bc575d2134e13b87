/**
 * The `maintenance` client option and what it builds: the leader elector with its leader-only
 * services (the rescuer, and the queue-health monitor when the `health` option is given). Option names and checks are those of the former Maintenance service,
 * so existing configurations keep working.
 */
import { InvalidOptionError } from '../errors.js';
import { assertKnownOptions, optionNames } from '../known-options.js';
import type { Runtime } from '../runtime.js';
import { LeaderElector } from './elector.js';
import { HealthMonitor, type HealthOptions } from './health-monitor.js';
import { PoolReaper } from './pool-reaper.js';
import { Rescuer } from './rescuer.js';
import type { LeaderService } from './service.js';

/** Default `maintenance.poolLostAfterHeartbeats`: heartbeat periods of silence that make a pool lost. */
export const DEFAULT_POOL_LOST_AFTER_HEARTBEATS = 3;

/** Maintenance tuning: leader election and the rescue of expired leases. */
export interface MaintenanceOptions {
  /** How often the leader looks for expired leases (and renews leadership). Default 1000 ms. */
  rescueIntervalMs?: number;
  /** How long leadership lasts without renewal. Default 10 000 ms. */
  leaderTtlMs?: number;
  /** Most jobs rescued per sweep. Default 1000. */
  rescueBatchSize?: number;
  /**
   * After this process lost storage (an election or a sweep failed), how long to wait once it
   * answers again before rescuing: leases expired during the outage, and pools first renew them
   * and write the outcomes they buffered (they retry at least every second). Default 5000 ms.
   */
  outageGraceMs?: number;
  /**
   * A pool that refreshes its registry row this many heartbeat periods late is lost: the leader
   * removes its row and emits `pool:lost`. Default 3.
   */
  poolLostAfterHeartbeats?: number;
}

const MAINTENANCE_OPTION_NAMES = optionNames<MaintenanceOptions>({
  rescueIntervalMs: true,
  leaderTtlMs: true,
  rescueBatchSize: true,
  outageGraceMs: true,
  poolLostAfterHeartbeats: true,
});

/**
 * Check `options` and build the elector with its services (not started): the rescuer, the pool
 * reaper, the queue-health monitor when `health` is given, then `extra` services (the pruner,
 * the scheduler), which the client builds from their own options.
 */
export function createMaintenance(
  runtime: Runtime,
  options: MaintenanceOptions = {},
  health?: HealthOptions,
  extra: readonly LeaderService[] = [],
): LeaderElector {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('maintenance', 'must be an object like { rescueIntervalMs: 1000 }');
  }
  assertKnownOptions('maintenance', options, MAINTENANCE_OPTION_NAMES, 'maintenance option');
  const intervalMs = options.rescueIntervalMs ?? 1000;
  const ttlMs = options.leaderTtlMs ?? 10_000;
  const batchSize = options.rescueBatchSize ?? 1000;
  const outageGraceMs = options.outageGraceMs ?? 5000;
  if (!Number.isInteger(outageGraceMs) || outageGraceMs < 0) {
    throw new InvalidOptionError('maintenance.outageGraceMs', 'must be an integer >= 0');
  }
  if (!Number.isInteger(intervalMs) || intervalMs < 10) {
    throw new InvalidOptionError('maintenance.rescueIntervalMs', 'must be an integer >= 10');
  }
  if (!Number.isInteger(ttlMs) || ttlMs <= intervalMs) {
    throw new InvalidOptionError(
      'maintenance.leaderTtlMs',
      'must be an integer greater than rescueIntervalMs',
    );
  }
  const rescuer = new Rescuer(runtime, { intervalMs, batchSize });
  const poolReaper = new PoolReaper(runtime, {
    intervalMs,
    missedHeartbeats: options.poolLostAfterHeartbeats ?? DEFAULT_POOL_LOST_AFTER_HEARTBEATS,
  });
  const services = [
    rescuer,
    poolReaper,
    ...(health === undefined ? [] : [new HealthMonitor(runtime, health)]),
    ...extra,
  ];
  return new LeaderElector(runtime, { ttlMs, renewIntervalMs: intervalMs, outageGraceMs }, services);
}
