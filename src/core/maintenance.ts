/**
 * Background maintenance that must run in exactly one process at a time: rescuing jobs whose
 * lease expired (their worker died, froze or lost its connection). Processes elect a leader
 * through the driver (`leaderAttemptElect`); only the leader sweeps, and leadership passes to
 * another process when the leader stops renewing it.
 */
import { randomUUID } from 'node:crypto';
import type { Jobwire } from './client.js';
import { InvalidOptionError } from './errors.js';
import { toStoredError } from './serialize.js';

/** Maintenance tuning. */
export interface MaintenanceOptions {
  /** How often the leader looks for expired leases. Default 1000 ms. */
  rescueIntervalMs?: number;
  /** How long leadership lasts without renewal. Default 10 000 ms. */
  leaderTtlMs?: number;
  /** Most jobs rescued per sweep. Default 1000. */
  rescueBatchSize?: number;
  /**
   * After this process lost storage (a sweep failed), how long to wait once it answers again
   * before rescuing: leases expired during the outage, and pools first renew them and write the
   * outcomes they buffered (they retry at least every second). Default 5000 ms.
   */
  outageGraceMs?: number;
}

const LEADER_NAME = 'maintenance';

/** See the module comment. One per client; runs while any of the client's pools runs. */
export class Maintenance {
  readonly ownerId = `maintenance:${randomUUID()}`;
  readonly #client: Jobwire;
  readonly #intervalMs: number;
  readonly #ttlMs: number;
  readonly #batch: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #isLeader = false;
  readonly #outageGraceMs: number;
  /** A sweep failed and storage has not answered since. */
  #inOutage = false;
  /** No rescue before this (Date.now()), after an outage ended. */
  #rescueNotBefore = 0;

  constructor(client: Jobwire, options: MaintenanceOptions = {}) {
    this.#client = client;
    this.#intervalMs = options.rescueIntervalMs ?? 1000;
    this.#ttlMs = options.leaderTtlMs ?? 10_000;
    this.#batch = options.rescueBatchSize ?? 1000;
    this.#outageGraceMs = options.outageGraceMs ?? 5000;
    if (!Number.isInteger(this.#outageGraceMs) || this.#outageGraceMs < 0) {
      throw new InvalidOptionError('maintenance.outageGraceMs', 'must be an integer >= 0');
    }
    if (!Number.isInteger(this.#intervalMs) || this.#intervalMs < 10) {
      throw new InvalidOptionError('maintenance.rescueIntervalMs', 'must be an integer >= 10');
    }
    if (!Number.isInteger(this.#ttlMs) || this.#ttlMs <= this.#intervalMs) {
      throw new InvalidOptionError(
        'maintenance.leaderTtlMs',
        'must be an integer greater than rescueIntervalMs',
      );
    }
    if (!Number.isInteger(this.#batch) || this.#batch < 1) {
      throw new InvalidOptionError('maintenance.rescueBatchSize', 'must be an integer >= 1');
    }
  }

  /** Whether this process held leadership at the last check. */
  get isLeader(): boolean {
    return this.#isLeader;
  }

  /** Start sweeping periodically. Idempotent. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), this.#intervalMs);
    this.#timer.unref();
    void this.runOnce();
  }

  /** Stop sweeping and give up leadership. Idempotent; safe if never started. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    if (this.#isLeader) {
      this.#isLeader = false;
      await this.#client.driver.leaderResign({ name: LEADER_NAME, ownerId: this.ownerId }).catch(() => {});
    }
  }

  /** One election + sweep. Returns the number of jobs rescued. Never throws. */
  runOnce(): Promise<void> {
    if (this.#running) return this.#running;
    this.#running = this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(): Promise<void> {
    const { driver, events, clock } = this.#client;
    try {
      this.#isLeader = await driver.leaderAttemptElect({
        name: LEADER_NAME,
        ownerId: this.ownerId,
        ttlMs: this.#ttlMs,
        now: this.#client.nowParam(),
      });
      if (this.#inOutage) {
        // Storage answers again: give pools time to renew leases and write buffered outcomes,
        // which would otherwise be rescued and run again (their leases expired meanwhile).
        this.#inOutage = false;
        this.#rescueNotBefore = Date.now() + this.#outageGraceMs;
      }
      if (!this.#isLeader || Date.now() < this.#rescueNotBefore) return;
      for (;;) {
        const rescued = await driver.jobRescueExpired({
          limit: this.#batch,
          maxInterruptions: this.#client.maxInterruptions,
          now: this.#client.nowParam(),
        });
        const at = clock.now();
        for (const job of rescued) {
          const base = {
            jobId: job.id,
            task: job.task,
            queue: job.queue,
            correlationId: job.correlationId,
            attempt: job.attempt,
            maxAttempts: job.maxAttempts,
          };
          if (job.newState === 'pending') {
            events.emit('job:rescued', {
              ...base,
              previousPoolId: job.previousPoolId,
              leaseExpiredAt: job.leaseExpiredAt,
              interruptions: job.interruptions,
              at,
            });
          } else {
            events.emit('job:abandoned', {
              ...base,
              reason: 'lease-expired',
              error: job.error,
              at,
            });
          }
        }
        if (rescued.length < this.#batch) return;
      }
    } catch (error) {
      this.#inOutage = true;
      const at = clock.now();
      events.emit('pool:error', {
        poolId: this.ownerId,
        operation: 'maintenance',
        error: toStoredError(error, 0, at),
        retryInMs: this.#intervalMs,
        at,
      });
    }
  }
}
