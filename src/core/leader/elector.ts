/**
 * Leader election: work that must run in exactly one process at a time (the leader-only
 * services: the rescuer first) runs only in the process that holds the `maintenance`
 * leadership. Processes compete through the driver (`leaderAttemptElect`); the leader renews
 * its claim every `renewIntervalMs`, and leadership passes to another process when the leader
 * stops renewing it (it stopped, died, or lost storage for longer than `ttlMs`).
 */
import { randomUUID } from 'node:crypto';
import type { Runtime } from '../runtime.js';
import { toStoredError } from '../serialize.js';
import type { LeaderService } from './service.js';

/**
 * The leadership's name in storage. It was the maintenance service's before leader election
 * became its own piece: keeping it lets old and new processes share one cluster.
 */
export const LEADER_NAME = 'maintenance';

/** The elector's own name in `service:error` events. */
const ELECTOR_SERVICE = 'leader-elector';

/** Election tuning (from `JobwireOptions.maintenance`). */
export interface ElectorOptions {
  /** How long leadership lasts without renewal, in ms. */
  ttlMs: number;
  /** How often to run the election (and renew a held leadership), in ms; less than `ttlMs`. */
  renewIntervalMs: number;
  /**
   * After storage failed (an election or a service run), how long services wait once it answers
   * again, in ms: leases expired during the outage, and pools first renew them and write the
   * outcomes they buffered, which a rescue would otherwise run again.
   */
  outageGraceMs: number;
}

interface ScheduledService {
  readonly service: LeaderService;
  /** Date.now() of its last run's start; undefined: never ran during this leadership. */
  lastRunAt: number | undefined;
}

/** See the module comment. One per client; runs while any pool of the client runs. */
export class LeaderElector {
  /** This process's identity in the election (and in `leader:*` events). */
  readonly ownerId = `maintenance:${randomUUID()}`;
  readonly #runtime: Runtime;
  readonly #options: ElectorOptions;
  readonly #services: ScheduledService[];
  #timer: NodeJS.Timeout | undefined;
  #cycle: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #isLeader = false;
  /** performance.now() when the last election that kept this process leader began. */
  #renewedAt = 0;
  /** An election or a service run failed and storage has not answered since. */
  #inOutage = false;
  /** No service runs before this (Date.now()), after an outage ended. */
  #servicesNotBefore = 0;

  constructor(runtime: Runtime, options: ElectorOptions, services: readonly LeaderService[]) {
    this.#runtime = runtime;
    this.#options = options;
    this.#services = services.map((service) => ({ service, lastRunAt: undefined }));
  }

  /** Whether this process held leadership at the last election. */
  get isLeader(): boolean {
    return this.#isLeader;
  }

  /** The leader-only services, in the order they run. */
  get services(): readonly LeaderService[] {
    return this.#services.map((entry) => entry.service);
  }

  /** Elect (and run due services) every `renewIntervalMs`, starting now. Idempotent. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      // Also while an election hangs (a connection that no longer answers): the cycle waits on it.
      this.#expireUnrenewed();
      void this.#runCycle(false);
    }, this.#options.renewIntervalMs);
    this.#timer.unref();
    void this.#runCycle(false);
  }

  /**
   * Stop, and give leadership up if held (`leader:resigned`, reason `stopped`). Idempotent: a
   * second call while the first is resigning waits for the same resignation, so `close()` never
   * closes the driver under it.
   */
  stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopping ??= this.#resign().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  async #resign(): Promise<void> {
    await this.#cycle;
    if (!this.#isLeader) return;
    this.#isLeader = false;
    const { driver, events, clock } = this.#runtime;
    // A failed resignation only delays the next leader by the TTL; nothing to report.
    await driver.leaderResign({ name: LEADER_NAME, ownerId: this.ownerId }).catch(() => {});
    events.emit('leader:resigned', { ownerId: this.ownerId, reason: 'stopped', at: clock.now() });
  }

  /**
   * One election, then every service at once if this process leads (whatever their interval).
   * Joins a cycle already in flight. Never rejects: failures are `service:error` events.
   */
  runOnce(): Promise<void> {
    return this.#runCycle(true);
  }

  #runCycle(allServices: boolean): Promise<void> {
    if (this.#cycle) return this.#cycle;
    this.#cycle = this.#elect()
      .then((leads) => (leads ? this.#runServices(allServices) : undefined))
      .finally(() => {
        this.#cycle = undefined;
      });
    return this.#cycle;
  }

  /** Run the election; true when this process leads and services may run now. */
  async #elect(): Promise<boolean> {
    const { driver, events, clock } = this.#runtime;
    let leads: boolean;
    const began = performance.now();
    try {
      leads = await driver.leaderAttemptElect({
        name: LEADER_NAME,
        ownerId: this.ownerId,
        ttlMs: this.#options.ttlMs,
        now: this.#runtime.dbNow(),
      });
    } catch (error) {
      this.#inOutage = true;
      this.#report(ELECTOR_SERVICE, 'elect', error, this.#options.renewIntervalMs);
      this.#expireUnrenewed();
      return false;
    }
    if (leads) this.#renewedAt = began;
    if (this.#inOutage) {
      // Storage answers again: give pools time to renew leases and write buffered outcomes.
      this.#inOutage = false;
      this.#servicesNotBefore = Date.now() + this.#options.outageGraceMs;
    }
    if (leads !== this.#isLeader) {
      this.#isLeader = leads;
      const at = clock.now();
      if (leads) {
        for (const entry of this.#services) entry.lastRunAt = undefined;
        events.emit('leader:elected', { ownerId: this.ownerId, at });
      } else {
        events.emit('leader:resigned', { ownerId: this.ownerId, reason: 'lost', at });
      }
    }
    return leads && Date.now() >= this.#servicesNotBefore;
  }

  /**
   * Leadership not renewed for `ttlMs` (elections failed or hung: storage out of reach) is no
   * longer this process's: storage may have given it to another process meanwhile. Say so now
   * (`leader:resigned`, reason `lost`) rather than once storage answers, so that no two processes
   * both report leading for longer than the TTL; the next election that succeeds decides again.
   */
  #expireUnrenewed(): void {
    if (!this.#isLeader || performance.now() - this.#renewedAt < this.#options.ttlMs) return;
    this.#isLeader = false;
    const { events, clock } = this.#runtime;
    events.emit('leader:resigned', { ownerId: this.ownerId, reason: 'lost', at: clock.now() });
  }

  async #runServices(allServices: boolean): Promise<void> {
    const tickMs = this.#options.renewIntervalMs;
    for (const entry of this.#services) {
      const started = Date.now();
      // Half a tick of slack: timers drift, and a service due "almost now" must not wait a whole tick.
      const due =
        allServices ||
        entry.lastRunAt === undefined ||
        started - entry.lastRunAt >= entry.service.intervalMs - tickMs / 2;
      if (!due) continue;
      entry.lastRunAt = started;
      try {
        await entry.service.runOnce();
      } catch (error) {
        this.#inOutage = true;
        this.#report(entry.service.name, entry.service.operation, error, entry.service.intervalMs);
      }
    }
  }

  #report(service: string, operation: string, error: unknown, retryInMs: number): void {
    const { events, clock } = this.#runtime;
    const at = clock.now();
    const stored = toStoredError(error, 0, at);
    // The client logs service:error to its logger (log-failures.ts).
    events.emit('service:error', { service, operation, error: stored, retryInMs, at });
  }
}
