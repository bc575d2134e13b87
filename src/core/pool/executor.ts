/**
 * The pool's worker slots: starts an attempt on a free slot (its AttemptControl, `worker:busy`,
 * `job:started`), keeps its progress, and hands the ended attempt back to the pool.
 */
import type { ClaimedJob } from '../../driver/driver.js';
import {
  AttemptControl,
  type AttemptOutcome,
  type AttemptSetup,
  executeAttempt,
  runAttempt,
} from '../attempt.js';
import type { AttemptEventBase } from '../events.js';
import { readDependencies } from '../flow/dependencies.js';
import { type AttemptHook, type AttemptInfo, runWrapped } from '../hooks.js';
import { attemptEventBase } from '../job-events.js';
import type { Runtime } from '../runtime.js';
import { encodeProgress, toStoredError } from '../serialize.js';
import type { EpochMs } from '../types.js';
import type { PoolSettings } from './options.js';
import { INITIAL_MEAN_RUN_MS, nextMeanRunMs } from './prefetch.js';

/** One worker slot. */
export interface Slot {
  readonly index: number;
  readonly workerId: string;
  attempt: RunningAttempt | null;
  /** Set aside for a direct start in flight (direct-starts.ts): claims leave it free. */
  reserved: boolean;
}

/** An attempt in progress on a slot. */
export interface RunningAttempt {
  readonly job: ClaimedJob;
  readonly slot: Slot;
  readonly control: AttemptControl;
  readonly startedAt: EpochMs;
  /** The last progress reported, as JSON; undefined until the handler reports some. */
  progress: string | undefined;
}

/** What the executor tells the pool. */
export interface ExecutorHooks {
  /** The handler reported storable progress (the lease keeper flushes it). */
  progressChanged(attempt: RunningAttempt): void;
  /**
   * The attempt ended. Its slot is free again — unless an abort ended it while its handler still
   * runs: then `slot.attempt` is still set, and `slotFreed` follows once the handler settles.
   */
  attemptEnded(
    attempt: RunningAttempt,
    outcome: AttemptOutcome,
    finishedAt: EpochMs,
    durationMs: number,
  ): void;
  /** A slot held by a handler that outlived its abort is free at last. */
  slotFreed(slot: Slot): void;
}

/** See the module comment. */
export class Executor {
  readonly slots: readonly Slot[];
  /** Running attempts by job id. */
  readonly running = new Map<string, RunningAttempt>();
  readonly #runtime: Runtime;
  readonly #poolId: string;
  readonly #abortGraceMs: number;
  readonly #hooks: ExecutorHooks;
  #meanRunMs = INITIAL_MEAN_RUN_MS;
  #reserved = 0;
  /** The waiter of `whenDrained`, if any. */
  #drained: (() => void) | undefined;
  /** Made once, not per attempt: every attempt's setup shares them. */
  readonly #knownTasks: () => string[];
  readonly #readDependencies: (id: string) => ReturnType<typeof readDependencies>;

  constructor(runtime: Runtime, settings: PoolSettings, hooks: ExecutorHooks) {
    this.#runtime = runtime;
    this.#poolId = settings.id;
    this.#abortGraceMs = settings.abortGraceMs;
    this.#hooks = hooks;
    this.#knownTasks = () => runtime.tasks.names();
    this.#readDependencies = (id) => readDependencies(runtime.driver, id);
    this.slots = Array.from({ length: settings.concurrency }, (_, index) => ({
      index,
      workerId: `${settings.id}/${index}`,
      attempt: null,
      reserved: false,
    }));
  }

  /** Slots set aside for direct starts in flight. */
  get reservedCount(): number {
    return this.#reserved;
  }

  /** Set a free slot aside for a direct start; undefined when every slot is busy or set aside. */
  reserve(): Slot | undefined {
    const slot = this.slots.find((s) => s.attempt === null && !s.reserved);
    if (!slot) return undefined;
    slot.reserved = true;
    this.#reserved++;
    return slot;
  }

  /** Give a slot set aside back (before starting its job on it, or when none came). */
  unreserve(slot: Slot): void {
    if (!slot.reserved) return;
    slot.reserved = false;
    this.#reserved--;
  }

  /** Moving mean of recent attempts' run times (drives `prefetch: "auto"`). */
  get meanRunMs(): number {
    return this.#meanRunMs;
  }

  /** Start `job` on the free `slot`. */
  start(job: ClaimedJob, slot: Slot): void {
    const { events, clock, tasks } = this.#runtime;
    const attempt: RunningAttempt = {
      job,
      slot,
      control: new AttemptControl(),
      startedAt: clock.now(),
      progress: undefined,
    };
    slot.attempt = attempt;
    this.running.set(job.id, attempt);
    if (events.has('worker:busy')) {
      events.emit('worker:busy', {
        poolId: this.#poolId,
        workerId: slot.workerId,
        index: slot.index,
        jobId: job.id,
        task: job.task,
        at: attempt.startedAt,
      });
    }
    if (events.has('job:started')) events.emit('job:started', this.eventBase(attempt));
    const setup: AttemptSetup = {
      task: tasks.get(job.task),
      knownTasks: this.#knownTasks,
      control: attempt.control,
      workerId: slot.workerId,
      onProgress: (value) => this.#onProgress(attempt, value),
      readDependencies: this.#readDependencies,
    };
    const hooks = this.#runtime.hooks.attempt;
    if (hooks.length === 0) {
      runAttempt(job, setup, (outcome) => this.#onEnded(attempt, outcome));
      return;
    }
    this.#hooked(hooks, attempt, () => executeAttempt(job, setup)).then((outcome) =>
      this.#onEnded(attempt, outcome),
    );
  }

  /** `run` inside the installed attempt hooks (outermost first), each guarded by `runWrapped`. */
  #hooked(
    hooks: readonly AttemptHook[],
    attempt: RunningAttempt,
    run: () => Promise<AttemptOutcome>,
  ): Promise<AttemptOutcome> {
    const { job, slot } = attempt;
    let metadata: Readonly<Record<string, unknown>> | undefined;
    const info: AttemptInfo = {
      jobId: job.id,
      task: job.task,
      queue: job.queue,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      correlationId: job.correlationId,
      workerId: slot.workerId,
      metadata: () => {
        metadata ??= Object.freeze(JSON.parse(job.metadataJson) as Record<string, unknown>);
        return metadata;
      },
    };
    const { events, clock } = this.#runtime;
    const onError = (error: unknown) => {
      const at = clock.now();
      const stored = toStoredError(error, job.attempt, at);
      events.emit('service:error', {
        service: 'attempt-hook',
        operation: 'run',
        error: stored,
        retryInMs: 0,
        at,
      });
    };
    const step = (index: number): Promise<AttemptOutcome> => {
      const hook = hooks[index];
      if (!hook) return run();
      return runWrapped(
        (proceed) => hook.aroundAttempt(info, proceed),
        () => step(index + 1),
        onError,
      );
    };
    return step(0);
  }

  /** Resolves true once nothing runs, or false after `timeoutMs` (a graceful stop's wait). */
  whenDrained(timeoutMs: number): Promise<boolean> {
    if (this.running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#drained = undefined;
        resolve(false);
      }, timeoutMs);
      this.#drained = () => {
        clearTimeout(timer);
        this.#drained = undefined;
        resolve(true);
      };
    });
  }

  /** Abort the attempt running `jobId` here, if any. */
  abort(jobId: string, reason: Error): void {
    this.running.get(jobId)?.control.abort(reason);
  }

  /** Abort every running attempt at once. */
  abortAll(reason: Error): void {
    for (const attempt of this.running.values()) attempt.control.abort(reason);
  }

  /** The attempt's `AttemptEventBase`. */
  eventBase(attempt: RunningAttempt): AttemptEventBase {
    return attemptEventBase(attempt.job, this.#poolId, attempt.slot.workerId, attempt.startedAt);
  }

  #onProgress(attempt: RunningAttempt, value: unknown): void {
    if (this.running.get(attempt.job.id) !== attempt) return;
    const { events, clock, limits } = this.#runtime;
    // Progress that JSON cannot hold, or over maxResultBytes, is not stored; the handler keeps running.
    const json = encodeProgress(value, limits.maxResultBytes);
    if (json === undefined) return;
    attempt.progress = json;
    this.#hooks.progressChanged(attempt);
    if (events.has('job:progress')) {
      events.emit('job:progress', { ...this.eventBase(attempt), progress: value, at: clock.now() });
    }
  }

  #onEnded(attempt: RunningAttempt, outcome: AttemptOutcome): void {
    const finishedAt = this.#runtime.clock.now();
    const durationMs = finishedAt - attempt.startedAt;
    this.#meanRunMs = nextMeanRunMs(this.#meanRunMs, durationMs);
    this.running.delete(attempt.job.id);
    const lingering = outcome.ok ? undefined : outcome.handlerStillRunning;
    if (lingering === undefined || this.#abortGraceMs === 0) attempt.slot.attempt = null;
    else {
      // An abort ended the attempt but the handler ignores its signal and goes on: it keeps its
      // slot until it settles, or for abortGraceMs at most (one that never settles must not take
      // the slot for good). Freed at once, the next job started beside it: a pool of concurrency
      // 1 ran ten such handlers at a time, and limits per key counted them no longer.
      const { slot } = attempt;
      const release = () => {
        clearTimeout(timer);
        if (slot.attempt !== attempt) return;
        slot.attempt = null;
        this.#hooks.slotFreed(slot);
      };
      const timer = setTimeout(release, this.#abortGraceMs);
      timer.unref();
      lingering.then(release, release);
    }
    this.#hooks.attemptEnded(attempt, outcome, finishedAt, durationMs);
    // The pool may have started the next job on this slot already.
    if (this.running.size === 0) this.#drained?.();
  }
}
