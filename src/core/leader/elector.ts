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
  /**
   * An election failed or hung past its use during this outage: storage itself was away (a
   * service failing alone, say a bug in it, is not an outage of the registry's writers).
   */
  #electionsFailed = false;
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
    const { events, clock } = this.#runtime;
    let attempt = await this.#attemptElect();
    if (attempt === 'failed') return false;
    if (attempt.leads && performance.now() - attempt.began >= this.#staleAfterMs()) {
      // The election waited so long (on a connection a partition held) that the leadership it won
      // would count as expired at the next tick: announcing it would be followed by "lost" and a
      // new "elected" within a second. Storage was out of reach meanwhile; elect once more, now.
      this.#inOutage = true;
      this.#electionsFailed = true;
      attempt = await this.#attemptElect();
      if (attempt === 'failed') return false;
    }
    const { leads, began } = attempt;
    if (leads) this.#renewedAt = began;
    if (this.#inOutage) {
      // Storage answers again: give pools time to renew leases and write buffered outcomes.
      this.#inOutage = false;
      this.#servicesNotBefore = Date.now() + this.#options.outageGraceMs;
      if (this.#electionsFailed) for (const { service } of this.#services) service.storageRecovered?.();
      this.#electionsFailed = false;
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

  /** One call of the election: whether this process leads and when the call began, or 'failed'. */
  async #attemptElect(): Promise<{ leads: boolean; began: number } | 'failed'> {
    const began = performance.now();
    try {
      const leads = await this.#runtime.driver.leaderAttemptElect({
        name: LEADER_NAME,
        ownerId: this.ownerId,
        ttlMs: this.#options.ttlMs,
        now: this.#runtime.dbNow(),
      });
      return { leads, began };
    } catch (error) {
      this.#inOutage = true;
      this.#electionsFailed = true;
      this.#report(ELECTOR_SERVICE, 'elect', error, this.#options.renewIntervalMs);
      this.#expireUnrenewed();
      return 'failed';
    }
  }

  /**
   * An election that began this long ago is too old to announce: `#expireUnrenewed` would take
   * it back at the next tick (within one renew interval). At least half the TTL, so that a tick
   * almost as long as the TTL (a test's, or a deliberately lazy sweep) never makes a normal
   * election's few milliseconds look like an outage.
   */
  #staleAfterMs(): number {
    const { ttlMs, renewIntervalMs } = this.#options;
    return Math.max(ttlMs - renewIntervalMs, ttlMs / 2);
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
