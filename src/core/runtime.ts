/**
 * The narrow runtime every service is handed: storage, the event bus, time, the task registry,
 * a logger, the client-wide limits and in-process wake-ups. A service (a pool and its parts, the
 * leader elector, the rescuer — later the scheduler, pruner and event log) uses only this and
 * never sees the client, so the client is a facade that builds one runtime and starts and stops
 * services over it.
 */
import type { Driver } from '../driver/driver.js';
import type { EventBus } from './events.js';
import type { RuntimeHooks } from './hooks.js';
import type { DirectStarts } from './pool/direct-starts.js';
import type { TaskRegistry } from './task-registry.js';
import type { Clock, EpochMs } from './types.js';

/**
 * A structured logger. pino's `Logger` fits as it is (so do most pino-compatible loggers, and
 * `console`): an object of fields first, then a message. Errors go in `err`, as pino expects.
 */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** A logger that drops everything (the default: jobwire reports through events). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Limits set once per client and shared by every service. */
export interface RuntimeLimits {
  /** Largest accepted payload, in bytes of JSON. */
  readonly maxPayloadBytes: number;
  /** Largest stored result or progress, in bytes of JSON. */
  readonly maxResultBytes: number;
  /** Interruptions a job survives (see `JobwireOptions.maxInterruptions`). */
  readonly maxInterruptions: number;
}

/**
 * In-process wake-ups: "jobs of `queue` are (or will be at `dueAt`) ready to claim". The client
 * raises one after its own insert commits, so a pool in the same process starts the job without
 * waiting for the database's notification to make the round trip — and, for a delayed job, can
 * wake at its due time instead of at its next poll.
 */
export class Wakeups {
  readonly #listeners = new Set<(queue: string, dueAt: EpochMs | undefined) => void>();

  /** Listen to wake-ups. Returns a function that removes the listener. */
  subscribe(listener: (queue: string, dueAt: EpochMs | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** True when some service listens (lets the client skip the work of raising wake-ups). */
  get hasListeners(): boolean {
    return this.#listeners.size > 0;
  }

  /** Jobs of `queue` are due now (`dueAt` undefined) or at `dueAt`. */
  notify(queue: string, dueAt?: EpochMs): void {
    for (const listener of this.#listeners) listener(queue, dueAt);
  }
}

/**
 * Writes in flight in this process that make jobs runnable and report it by an event when their
 * reply is read: enqueues (`job:queued`) and hand retries (`job:retried`). A pool can claim such a
 * job before that reply was read (its poll, or a notification on another connection, won the
 * race); it then starts the job once those writes have settled, so in the process that did both a
 * job's events read queued (or retried) → started. Writes are known by the correlation ids of
 * their jobs (an insert's are set before it, unlike its job ids) or by job id (a retry), so a pool
 * waits only when it claimed a job that may be one of them — never for unrelated writes.
 */
export class InFlightWrites {
  #count = 0;
  /** Correlation ids (or job ids) of jobs being written → how many writes in flight carry each. */
  readonly #keys = new Map<string, number>();
  #waiters: (() => void)[] = [];

  /** Writes in flight now. */
  get size(): number {
    return this.#count;
  }

  /** True when a write in flight may be the one that made `job` runnable. */
  mayHold(job: { id: string; correlationId: string }): boolean {
    return this.#keys.has(job.correlationId) || this.#keys.has(`#${job.id}`);
  }

  /**
   * Count `write` in flight until it settles, after the writer's own events. It writes jobs with
   * these `correlationIds` (an enqueue) or these `jobIds` (a retry).
   */
  track<T>(write: Promise<T>, correlationIds: readonly string[], jobIds: readonly string[] = []): Promise<T> {
    this.#count++;
    const ids = this.#keys;
    const keys = jobIds.length === 0 ? correlationIds : [...correlationIds, ...jobIds.map((id) => `#${id}`)];
    for (const id of keys) ids.set(id, (ids.get(id) ?? 0) + 1);
    return write.finally(() => {
      for (const id of keys) {
        const left = ids.get(id)! - 1;
        if (left === 0) ids.delete(id);
        else ids.set(id, left);
      }
      if (--this.#count > 0) return;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const resolve of waiters) resolve();
    });
  }

  /** Resolves when no write is in flight, or after `timeoutMs` (a hung write must not stall a pool). */
  settled(timeoutMs: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** See the module comment. Built once by the client; read-only for services. */
export interface Runtime {
  /** Storage. Services call the driver; the client's public API wraps it. */
  readonly driver: Driver;
  /** The in-process event bus (the client exposes it as `jobwire.events`). */
  readonly events: EventBus;
  /** Time for events and local decisions. */
  readonly clock: Clock;
  /**
   * `now` to pass to driver calls: the injected clock's time when the client was given one, else
   * undefined, which tells the driver to use the database's own time.
   */
  dbNow(): EpochMs | undefined;
  /** Tasks this process can run (and their defaults for enqueue by name). */
  readonly tasks: TaskRegistry;
  /** The `logger` option (silent by default); the client logs failures to it from events. */
  readonly logger: Logger;
  readonly limits: RuntimeLimits;
  readonly wakeups: Wakeups;
  /** Running pools that take enqueued jobs directly (pool/direct-starts.ts). */
  readonly directStarts: DirectStarts;
  readonly inFlight: InFlightWrites;
  /** Instrumentation wrapped around enqueue writes and attempts (tracing); usually empty. */
  readonly hooks: RuntimeHooks;
  /**
   * Whether writes store their events in the durable log (`events.log`, default true). Every
   * writer passes it on: the driver stores the events in the write's own transaction.
   */
  readonly eventLog: boolean;
  /**
   * Whether this process's pools delete a completed job of `queue` as they complete it (the
   * `retention` option's `completed: 'immediately'`).
   */
  deletesAtCompletion(queue: string): boolean;
}
