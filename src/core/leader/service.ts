/**
 * The contract of a leader-only service: background work that must run in exactly one process
 * of the cluster at a time (the rescuer today; the scheduler, pruner and queue-health monitor
 * later). The `LeaderElector` runs each one while this process holds leadership.
 */

/** A unit of work the leader runs periodically. */
export interface LeaderService {
  /** Names the service in `service:error` events and logs, e.g. `rescuer`. */
  readonly name: string;
  /** What one run does, reported as `service:error.operation`, e.g. `rescue`. */
  readonly operation: string;
  /** How often the leader runs it, in ms. */
  readonly intervalMs: number;
  /**
   * One run. A rejection is reported as `service:error` (never thrown further) and the service
   * runs again at its next interval.
   */
  runOnce(): Promise<void>;
  /**
   * This process's storage answers again after an outage (an election failed, or took so long
   * that its result was stale). Called in every process, leader or not: work that
   * judges others by their writes (the pool reaper) must allow for the writes the outage stopped.
   */
  storageRecovered?(): void;
}
