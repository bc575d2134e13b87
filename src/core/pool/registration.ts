/**
 * A pool's row in the pool registry: written when the pool starts, refreshed every heartbeat
 * period with its busy count (one small write per period, never per job), marked `stopping`
 * while it drains and removed when it has stopped. A pool whose process dies leaves its row
 * behind; the leader's pool reaper removes it and reports `pool:lost`. Failures never stop the
 * pool: they are `pool:error` events (one per heartbeat period at most) and the write is tried
 * again every second until it succeeds (re-creating a row the reaper took while this process
 * was cut off), so that the row is fresh again within a second of the database answering — the
 * leader spares pools for one period after an outage, not longer.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { PoolRegistration, PoolRunState } from '../../driver/driver.js';
import type { Runtime } from '../runtime.js';
import type { PoolSettings } from './options.js';

/** What the registration needs from its pool. */
export interface RegistrationHooks {
  /** Slots running a job now. */
  busy(): number;
  reportError(operation: string, error: unknown, retryInMs: number): void;
}

/** How soon a failed registry write is tried again (at most: the heartbeat period if shorter). */
export const REGISTER_RETRY_MS = 1000;

let cachedVersion: string | null | undefined;

/**
 * This package's version. package.json sits three levels above src/core/pool and dist/core/pool,
 * four above dist/cjs/core/pool (the CommonJS build).
 */
function packageVersion(): string | null {
  if (cachedVersion !== undefined) return cachedVersion;
  cachedVersion = null;
  for (const path of ['../../../package.json', '../../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'jobwire' && typeof pkg.version === 'string') {
        cachedVersion = pkg.version.slice(0, 64);
        break;
      }
    } catch {
      // Not there (or not readable): try the next place, else report no version.
    }
  }
  return cachedVersion;
}

/** See the module comment. One per pool. */
export class PoolRegistrationKeeper {
  readonly #runtime: Runtime;
  readonly #settings: PoolSettings;
  readonly #hooks: RegistrationHooks;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #state: PoolRunState = 'running';
  #startedAt = 0;
  #closed = false;
  #inFlight = false;
  /** A heartbeat was asked for while one was in flight. */
  #again = false;
  /** The early retry of a failed write, when one is scheduled. */
  #retryTimer: NodeJS.Timeout | undefined;
  /** Date.now() of the last failure reported while writes keep failing; undefined: the last write succeeded. */
  #reportedAt: number | undefined;
  readonly #host = hostname();

  constructor(runtime: Runtime, settings: PoolSettings, hooks: RegistrationHooks) {
    this.#runtime = runtime;
    this.#settings = settings;
    this.#hooks = hooks;
  }

  /** Write the row, then refresh it every heartbeat period. Resolves once the first write settled. */
  start(): Promise<void> {
    this.#startedAt = this.#runtime.clock.now();
    this.#timer = setInterval(() => void this.#beat(), this.#settings.heartbeatMs);
    // The pool's own timers keep the process alive; the registry alone must not.
    this.#timer.unref();
    return this.#beat();
  }

  /** The pool began draining: say so now rather than at the next period. */
  stopping(): void {
    if (this.#closed || this.#timer === undefined) return;
    this.#state = 'stopping';
    void this.#beat();
  }

  /** Stop refreshing and remove the row (after any write in flight, so it cannot come back). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const started = this.#timer !== undefined;
    clearInterval(this.#timer);
    clearTimeout(this.#retryTimer);
    this.#timer = undefined;
    this.#retryTimer = undefined;
    await this.#writing;
    if (!started) return;
    try {
      await this.#runtime.driver.poolRemove({ poolId: this.#settings.id });
    } catch (error) {
      // The row stays until the leader reaps it (and reports this pool lost): nothing else to do.
      this.#hooks.reportError('unregister', error, 0);
    }
  }

  /**
   * One registry heartbeat. While a write is in flight another is not started: one more follows
   * it (with the latest state), so a slow database never piles writes up.
   */
  #beat(): Promise<void> {
    if (this.#closed) return this.#writing;
    if (this.#inFlight) {
      this.#again = true;
      return this.#writing;
    }
    this.#inFlight = true;
    this.#writing = (async () => {
      let failed = false;
      do {
        this.#again = false;
        try {
          await this.#runtime.driver.poolUpsert({ pool: this.#registration(), now: this.#runtime.dbNow() });
          failed = false;
          this.#reportedAt = undefined;
        } catch (error) {
          failed = true;
          this.#failed(error);
        }
      } while (this.#again && !this.#closed);
      this.#inFlight = false;
      if (failed) this.#retrySoon();
    })();
    return this.#writing;
  }

  /** The retry delay after a failed write: a second, or the period if that is shorter. */
  #retryInMs(): number {
    return Math.min(this.#settings.heartbeatMs, REGISTER_RETRY_MS);
  }

  /** Report a failed write: the first of a run of failures, then once per heartbeat period. */
  #failed(error: unknown): void {
    const now = Date.now();
    if (this.#reportedAt !== undefined && now - this.#reportedAt < this.#settings.heartbeatMs) return;
    this.#reportedAt = now;
    this.#hooks.reportError('register', error, this.#retryInMs());
  }

  /** Try a failed write again in a second rather than at the next period. */
  #retrySoon(): void {
    const retryInMs = this.#retryInMs();
    if (
      this.#closed ||
      this.#timer === undefined ||
      this.#retryTimer ||
      retryInMs >= this.#settings.heartbeatMs
    ) {
      return;
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#beat();
    }, retryInMs);
    this.#retryTimer.unref();
  }

  #registration(): PoolRegistration {
    const settings = this.#settings;
    return {
      poolId: settings.id,
      host: this.#host,
      pid: process.pid,
      queues: settings.queues,
      concurrency: settings.concurrency,
      busy: Math.min(this.#hooks.busy(), settings.concurrency),
      state: this.#state,
      heartbeatMs: settings.heartbeatMs,
      version: packageVersion(),
      startedAt: this.#startedAt,
    };
  }
}
