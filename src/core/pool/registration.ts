/**
 * A pool's row in the pool registry: written when the pool starts, refreshed every heartbeat
 * period with its busy count (one small write per period, never per job), marked `stopping`
 * while it drains and removed when it has stopped. A pool whose process dies leaves its row
 * behind; the leader's pool reaper removes it and reports `pool:lost`. Failures never stop the
 * pool: they are `pool:error` events and the next period tries again (re-creating a row the
 * reaper took while this process was cut off).
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
    this.#timer = undefined;
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
      do {
        this.#again = false;
        try {
          await this.#runtime.driver.poolUpsert({ pool: this.#registration(), now: this.#runtime.dbNow() });
        } catch (error) {
          this.#hooks.reportError('register', error, this.#settings.heartbeatMs);
        }
      } while (this.#again && !this.#closed);
      this.#inFlight = false;
    })();
    return this.#writing;
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
