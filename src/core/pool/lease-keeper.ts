/**
 * Keeps a pool's leases alive: a heartbeat every `heartbeatMs` extends every lease the pool
 * holds (running, buffered, outcome not yet written) and stores the latest progress; a failed
 * heartbeat is retried within a second; a lease found gone aborts its attempt. Progress is also
 * flushed soon after it changes (an early heartbeat of just those leases, at most one per
 * PROGRESS_FLUSH_MS), so other processes see it within about a second rather than a heartbeat
 * period later.
 */
import type { Lease } from '../../driver/driver.js';
import { JobCancelledError, LeaseLostError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { RunningAttempt } from './executor.js';
import type { PoolSettings } from './options.js';

/** After a failed heartbeat, the next one comes at most this much later. */
const HEARTBEAT_RETRY_MS = 1000;
/** Progress reaches storage at most this often (per pool) besides the regular heartbeat. */
export const PROGRESS_FLUSH_MS = 250;

/** A lease to extend, with the progress to store. */
export type HeartbeatLease = Lease & { progressJson?: string };

/** What the lease keeper needs from the pool. */
export interface LeaseKeeperHooks {
  /** Push every lease the pool holds onto `leases`. */
  collectLeases(leases: HeartbeatLease[]): void;
  /** Storage answered a heartbeat (outcomes waiting out a backoff may go now). */
  storageAnswered(): void;
  /** Abort the job's attempt or drop it from the buffer: its lease is gone. */
  abortLocal(jobId: string, reason: Error): void;
  reportError(operation: string, error: unknown, retryInMs: number): void;
}

/** See the module comment. */
export class LeaseKeeper {
  readonly #runtime: Runtime;
  readonly #settings: PoolSettings;
  readonly #hooks: LeaseKeeperHooks;
  #interval: NodeJS.Timeout | undefined;
  /** The one early heartbeat pending after a failed one. */
  #retryTimer: NodeJS.Timeout | undefined;
  #beating: Promise<void> = Promise.resolve();
  #active = false;
  /** Attempts whose progress changed since it was last sent. */
  readonly #changed = new Set<RunningAttempt>();
  #flushTimer: NodeJS.Timeout | undefined;
  #lastFlushAt = 0;

  constructor(runtime: Runtime, settings: PoolSettings, hooks: LeaseKeeperHooks) {
    this.#runtime = runtime;
    this.#settings = settings;
    this.#hooks = hooks;
  }

  /** Begin heart-beating. */
  start(): void {
    this.#active = true;
    this.#interval = setInterval(() => void this.beat(), this.#settings.heartbeatMs);
  }

  /** Stop for good: wait for the heartbeat in flight, cancel pending retries and flushes. */
  async close(): Promise<void> {
    clearInterval(this.#interval);
    this.#interval = undefined;
    this.#active = false;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    await this.#beating;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** The attempt's progress changed: send it soon (throttled). */
  progressChanged(attempt: RunningAttempt): void {
    this.#changed.add(attempt);
    if (this.#flushTimer || !this.#active) return;
    const wait = Math.max(0, this.#lastFlushAt + PROGRESS_FLUSH_MS - Date.now());
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flushProgress();
    }, wait);
  }

  /** Extend every lease the pool holds now. */
  beat(): Promise<void> {
    const leases: HeartbeatLease[] = [];
    this.#hooks.collectLeases(leases);
    // This heartbeat carries every running attempt's progress.
    this.#changed.clear();
    return this.#send(leases);
  }

  #flushProgress(): void {
    this.#lastFlushAt = Date.now();
    const leases: HeartbeatLease[] = [];
    for (const attempt of this.#changed) {
      const { job, progress, control, slot } = attempt;
      // An attempt that ended meanwhile has nothing left to store: its outcome replaces it.
      if (progress !== undefined && slot.attempt === attempt && !control.aborted) {
        leases.push({ id: job.id, leaseToken: job.leaseToken, progressJson: progress });
      }
    }
    this.#changed.clear();
    void this.#send(leases);
  }

  #send(leases: HeartbeatLease[]): Promise<void> {
    if (leases.length === 0) return this.#beating;
    const { driver } = this.#runtime;
    const beating = driver
      .jobHeartbeatMany({ leases, leaseMs: this.#settings.leaseMs, now: this.#runtime.dbNow() })
      .then((lost) => {
        this.#hooks.storageAnswered();
        return Promise.all(lost.map((id) => this.#onLeaseLost(id)));
      })
      .then(() => {})
      .catch((error) => this.#onFailure(error));
    // Keep every beat in flight awaited by close(), whichever finishes last.
    this.#beating = Promise.all([this.#beating, beating]).then(() => {});
    return beating;
  }

  #onFailure(error: unknown): void {
    // During an outage beat again within a second, so leases are renewed as soon as it ends.
    const { heartbeatMs } = this.#settings;
    const retryInMs = Math.min(heartbeatMs, HEARTBEAT_RETRY_MS);
    this.#hooks.reportError('heartbeat', error, retryInMs);
    if (retryInMs < heartbeatMs && this.#active && !this.#retryTimer) {
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        if (this.#active) void this.beat();
      }, retryInMs).unref();
    }
  }

  /**
   * A heartbeat found a lease gone. Without cross-process notifications (SQLite) this is how a
   * cancellation from another process arrives, so look at the job to abort with the right reason.
   */
  async #onLeaseLost(id: string): Promise<void> {
    let cancelled = false;
    try {
      cancelled = (await this.#runtime.driver.jobGet({ id }))?.state === 'cancelled';
    } catch {
      // Unknown reason: the lease is gone either way.
    }
    this.#hooks.abortLocal(id, cancelled ? new JobCancelledError(id) : new LeaseLostError(id));
  }
}
