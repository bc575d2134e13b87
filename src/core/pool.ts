/**
 * A pool runs jobs inside one process with N worker slots.
 *
 * - It claims due jobs in batches (one query per batch, never per job), woken by the driver's
 *   notifier and by a slow poll, and keeps a small local buffer of claimed jobs when jobs are short.
 * - Each attempt runs with an AbortSignal (timeout, cancellation, shutdown, lost lease).
 * - Outcomes are written in batches by the Finalizer, each guarded by the lease's fencing token.
 * - Heartbeats extend the leases of every job it holds; a job whose lease was taken over is
 *   aborted locally and its late writes are rejected by the fence.
 */
import { hostname } from 'node:os';
import { CHANNELS, type ClaimedJob, type FinalizeItem, type FinalizeResult } from '../driver/driver.js';
import { AttemptControl, type AttemptOutcome, executeAttempt } from './attempt.js';
import { backoffDelay } from './backoff.js';
import {
  InvalidOptionError,
  InvalidPayloadError,
  JobCancelledError,
  LeaseLostError,
  ShutdownAbortError,
  SnoozeError,
  UnrecoverableError,
} from './errors.js';
import type { AttemptEventBase, EventBus, JobwireEvents } from './events.js';
import { Finalizer, MAX_FINALIZE_BATCH } from './finalizer.js';
import { validateQueueName } from './options.js';
import type { Runtime } from './runtime.js';
import { encodeProgress, encodeResult, toStoredError } from './serialize.js';
import { registerForSignals, unregisterForSignals } from './signals.js';
import { unstorableTextReason } from './storable.js';
import type { StoredError } from './types.js';

/** Options of `createPool`. */
export interface PoolOptions {
  /** Queues to serve. Default `["default"]`. */
  queues?: string[];
  /** Worker slots: jobs run at once. Default 10. */
  concurrency?: number;
  /** How long a claim stays valid without a heartbeat. Default 30 000 ms. */
  leaseMs?: number;
  /** Heartbeat period. Default leaseMs / 3. */
  heartbeatIntervalMs?: number;
  /** Check for due jobs at least this often (wake-ups usually come sooner). Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * Jobs claimed ahead of free slots, to save round trips when jobs are short. `"auto"` (default)
   * prefetches up to `concurrency` jobs while recent attempts took under 20 ms, and claims
   * batches of 100 while they took under 1 ms; long jobs are never hoarded away from other
   * processes.
   */
  prefetch?: number | 'auto';
  /**
   * On stop, how long running jobs may take before their signals abort. Default 10 000 ms. An
   * attempt cut off then is an interruption (`job:interrupted`), not a failure.
   */
  shutdownGraceMs?: number;
  /** Stop gracefully on SIGTERM/SIGINT (a second signal exits at once). Default true. */
  handleSignals?: boolean;
  /** A stable id for this pool (appears in events and on leased jobs). Default host:pid:random. */
  id?: string;
}

type PoolState = 'created' | 'running' | 'stopping' | 'stopped';

interface Slot {
  index: number;
  workerId: string;
  attempt: RunningAttempt | null;
}

interface RunningAttempt {
  job: ClaimedJob;
  slot: Slot;
  control: AttemptControl;
  startedAt: number;
  progress: string | undefined;
}

/** Attempts shorter than this (EWMA) let the "auto" prefetch buffer up to `concurrency` jobs. */
const SHORT_JOB_MS = 20;
/** Attempts shorter than this (EWMA) let the "auto" prefetch claim batches of TINY_JOB_BATCH. */
const TINY_JOB_MS = 1;
const TINY_JOB_BATCH = 100;
/** After a failed heartbeat, the next one comes at most this much later. */
const HEARTBEAT_RETRY_MS = 1000;

function positiveInt(field: string, value: number, max = 1_000_000): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(field, `must be an integer from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Told when a pool starts and stops (the client runs leader election while any pool runs). */
export interface PoolHost {
  poolStarted(pool: Pool): void;
  poolStopped(pool: Pool): void;
}

/** See the module comment. Create with `jobwire.createPool()`. */
export class Pool {
  readonly id: string;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly shutdownGraceMs: number;
  readonly #client: Runtime;
  readonly #host: PoolHost | undefined;
  readonly #heartbeatMs: number;
  readonly #pollMs: number;
  readonly #prefetch: number | 'auto';
  readonly #handleSignals: boolean;
  readonly #slots: Slot[];
  readonly #running = new Map<string, RunningAttempt>();
  readonly #finalizer: Finalizer;
  #buffer: ClaimedJob[] = [];
  #state: PoolState = 'created';
  #claiming = false;
  #fillScheduled = false;
  #mayHaveWork = true;
  #claimFailures = 0;
  #claimRetryAt = 0;
  #meanRunMs = SHORT_JOB_MS * 10;
  #timers: NodeJS.Timeout[] = [];
  #unlisteners: (() => void)[] = [];
  #stopPromise: Promise<void> | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(runtime: Runtime, options: PoolOptions, host?: PoolHost) {
    const client = runtime;
    this.#client = runtime;
    this.#host = host;
    const queues = options.queues ?? ['default'];
    if (!Array.isArray(queues) || queues.length === 0) {
      throw new InvalidOptionError('queues', 'must be a non-empty array of queue names');
    }
    this.queues = [...new Set(queues.map((q, i) => validateQueueName(q, `queues[${i}]`)))];
    this.concurrency = positiveInt('concurrency', options.concurrency ?? 10, 10_000);
    this.leaseMs = positiveInt('leaseMs', options.leaseMs ?? 30_000, 86_400_000);
    if (this.leaseMs < 100) throw new InvalidOptionError('leaseMs', 'must be at least 100 ms');
    this.#heartbeatMs = positiveInt(
      'heartbeatIntervalMs',
      options.heartbeatIntervalMs ?? Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    if (this.#heartbeatMs >= this.leaseMs) {
      throw new InvalidOptionError('heartbeatIntervalMs', `must be shorter than leaseMs (${this.leaseMs})`);
    }
    this.#pollMs = positiveInt('pollIntervalMs', options.pollIntervalMs ?? 1000, 3_600_000);
    const prefetch = options.prefetch ?? 'auto';
    if (prefetch !== 'auto' && (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > 10_000)) {
      throw new InvalidOptionError('prefetch', 'must be "auto" or an integer from 0 to 10000');
    }
    this.#prefetch = prefetch;
    const grace = options.shutdownGraceMs ?? 10_000;
    if (!Number.isInteger(grace) || grace < 0)
      throw new InvalidOptionError('shutdownGraceMs', 'must be an integer >= 0');
    this.shutdownGraceMs = grace;
    this.#handleSignals = options.handleSignals ?? true;
    this.id = options.id ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    // The id is written with every claim (worker_id): text a database would refuse must not get that far.
    const unstorable = typeof this.id === 'string' ? unstorableTextReason(this.id) : 'not a string';
    if (unstorable !== undefined || this.id.length === 0 || this.id.length > 200) {
      throw new InvalidOptionError(
        'id',
        `must be a string of 1 to 200 characters that every database can store; it has ${unstorable ?? `${this.id.length} characters`}`,
      );
    }
    this.#slots = Array.from({ length: this.concurrency }, (_, index) => ({
      index,
      workerId: `${this.id}/${index}`,
      attempt: null,
    }));
    this.#finalizer = new Finalizer(
      client.driver,
      () => client.dbNow(),
      (error, retryInMs) => this.#reportError('finalize', error, retryInMs),
    );
    const at = client.clock.now();
    const events = client.events;
    events.emit('pool:created', {
      poolId: this.id,
      queues: [...this.queues],
      concurrency: this.concurrency,
      at,
    });
    for (const slot of this.#slots) {
      events.emit('worker:created', { poolId: this.id, workerId: slot.workerId, index: slot.index, at });
    }
  }

  /** True between `start()` and the beginning of `stop()`. */
  get isRunning(): boolean {
    return this.#state === 'running';
  }

  /** Jobs running now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** Begin claiming and running jobs. */
  async start(): Promise<void> {
    if (this.#state !== 'created') {
      if (this.#state === 'running') return;
      throw new InvalidOptionError('start', 'a stopped pool cannot be restarted; create a new one');
    }
    this.#state = 'running';
    const { events, driver, clock } = this.#client;
    const at = clock.now();
    const served = new Set(this.queues);
    this.#unlisteners.push(
      driver.notifier.listen(CHANNELS.jobAvailable, (queue) => {
        if (queue === '*' || served.has(queue)) this.#wake(true);
      }),
      driver.notifier.listen(CHANNELS.jobCancelled, (jobId) =>
        this.#abortLocal(jobId, new JobCancelledError(jobId)),
      ),
      // The client's own inserts: start a job enqueued in this process without waiting for the
      // database's notification. (A later due time is left to the poll in this version.)
      this.#client.wakeups.subscribe((queue, dueAt) => {
        if (dueAt === undefined && served.has(queue)) this.#wake(true);
      }),
    );
    this.#timers.push(
      setInterval(() => this.#wake(), this.#pollMs),
      setInterval(() => void this.#heartbeat(), this.#heartbeatMs),
    );
    if (this.#handleSignals) registerForSignals(this);
    this.#host?.poolStarted(this);
    events.emit('pool:started', {
      poolId: this.id,
      queues: [...this.queues],
      concurrency: this.concurrency,
      at,
    });
    for (const slot of this.#slots) {
      events.emit('worker:started', { poolId: this.id, workerId: slot.workerId, index: slot.index, at });
    }
    this.#wake();
  }

  /** Resolves when nothing is running, buffered or waiting to be written (tests, the demo). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stop gracefully: stop claiming, give buffered jobs back, let running jobs finish within
   * `graceMs`, then abort them and give their leases back as interruptions (`job:interrupted`:
   * the attempt does not count, the job keeps its place in the queue, and a job interrupted
   * `maxInterruptions` times is abandoned). Safe to call twice.
   */
  stop(options: { graceMs?: number; reason?: string } = {}): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    if (this.#state === 'created') {
      this.#state = 'stopped';
      this.#stopPromise = Promise.resolve();
      this.#host?.poolStopped(this);
      return this.#stopPromise;
    }
    this.#stopPromise = this.#stop(
      options.graceMs ?? this.shutdownGraceMs,
      options.reason ?? 'stop() called',
    );
    return this.#stopPromise;
  }

  /** Abort every running attempt at once (the second signal). @internal */
  abortAll(reason: Error): void {
    for (const attempt of this.#running.values()) attempt.control.abort(reason);
  }

  async #stop(graceMs: number, reason: string): Promise<void> {
    const { events, driver, clock } = this.#client;
    this.#state = 'stopping';
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    events.emit('pool:stopping', {
      poolId: this.id,
      reason,
      running: this.#running.size,
      graceMs,
      at: clock.now(),
    });

    let released = 0;
    const buffered = [...this.#buffer, ...this.#heldBack.values()];
    this.#buffer = [];
    this.#heldBack.clear();
    const releaseLeases = async (leases: { id: string; leaseToken: number }[]) => {
      if (leases.length === 0) return;
      try {
        released += (await driver.jobRelease({ leases, now: this.#client.dbNow() })).length;
      } catch (error) {
        // Unreleased leases expire and the jobs are rescued: slower, but nothing is lost.
        this.#reportError('release', error, 0);
      }
    };
    await releaseLeases(buffered.map((job) => ({ id: job.id, leaseToken: job.leaseToken })));

    let aborted = 0;
    if (this.#running.size > 0) {
      const finished = await this.#waitForRunning(graceMs);
      if (!finished) {
        const cutOff = [...this.#running.values()];
        aborted = cutOff.length;
        for (const attempt of cutOff) attempt.control.abort(new ShutdownAbortError());
        await this.#waitForRunning(1000);
      }
    }
    await this.#finalizer.drain(Math.max(graceMs, 1000));
    this.#finalizer.abandonPending();
    // Async drivers (PostgreSQL) release aborted attempts' leases after the attempt settles.
    await Promise.all(this.#pendingReleases);
    await this.#heartbeatPromise;
    for (const unlisten of this.#unlisteners) unlisten();
    this.#unlisteners = [];
    this.#state = 'stopped';
    unregisterForSignals(this);
    const at = clock.now();
    for (const slot of this.#slots) {
      events.emit('worker:stopped', { poolId: this.id, workerId: slot.workerId, index: slot.index, at });
    }
    events.emit('pool:stopped', { poolId: this.id, aborted, released: released + this.#releasedOnAbort, at });
    this.#host?.poolStopped(this);
    this.#notifyIdle();
  }

  /**
   * Jobs whose outcome write is in flight, and jobs claimed again before that write's reply was
   * read (a retry due at once, claimed on another connection whose reply arrived first). A
   * job's events must read in order — failed, retrying, then started again — so the new attempt
   * waits for the old one's outcome to be reported.
   */
  #outcomePending = new Set<string>();
  #heldBack = new Map<string, ClaimedJob>();

  #releaseHeldBack(jobId: string): void {
    const job = this.#heldBack.get(jobId);
    if (!job) return;
    this.#heldBack.delete(jobId);
    this.#buffer.unshift(job);
    this.#dispatch();
  }

  #releasedOnAbort = 0;
  #pendingReleases = new Set<Promise<void>>();

  /** Count a release's jobs when it lands; `#stop` waits for every release still in flight. */
  #trackRelease(release: Promise<string[]>): Promise<void> {
    const tracked = release
      .then((ids) => {
        this.#releasedOnAbort += ids.length;
      })
      .catch((error) => this.#reportError('release', error, 0))
      .finally(() => this.#pendingReleases.delete(tracked));
    this.#pendingReleases.add(tracked);
    return tracked;
  }

  #waitForRunning(timeoutMs: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#runningDrained = undefined;
        resolve(false);
      }, timeoutMs);
      this.#runningDrained = () => {
        clearTimeout(timer);
        this.#runningDrained = undefined;
        resolve(true);
      };
    });
  }

  #runningDrained: (() => void) | undefined;

  // ----- claiming ------------------------------------------------------------------------------

  #wake(urgent = false): void {
    this.#mayHaveWork = true;
    this.#scheduleFill(urgent);
  }

  #scheduleFill(urgent = false): void {
    if (this.#fillScheduled || this.#state !== 'running') return;
    this.#fillScheduled = true;
    const run = () => {
      this.#fillScheduled = false;
      void this.#fill();
    };
    // A wake-up (a job was just enqueued) finding the pool idle claims at once: lowest latency.
    // Every other round waits for a macrotask, which keeps timers and I/O served while a backlog
    // drains — claim rounds chained by microtasks alone would starve the event loop.
    if (urgent && this.#running.size === 0 && this.#buffer.length === 0 && !this.#claiming)
      queueMicrotask(run);
    else setImmediate(run);
  }

  #prefetchNow(): number {
    if (this.#prefetch !== 'auto') return this.#prefetch;
    // Sub-millisecond jobs: claim up to TINY_JOB_BATCH at once, since claim round trips are then
    // the whole cost; such a buffer drains in a few ms, so other processes barely notice.
    if (this.#meanRunMs < TINY_JOB_MS) return Math.max(this.concurrency, TINY_JOB_BATCH - this.concurrency);
    return this.#meanRunMs < SHORT_JOB_MS ? this.concurrency : 0;
  }

  async #fill(): Promise<void> {
    this.#dispatch();
    if (this.#claiming || this.#state !== 'running' || !this.#mayHaveWork) return;
    const capacity = this.concurrency + this.#prefetchNow();
    const want = capacity - this.#running.size - this.#buffer.length;
    const freeSlots = this.concurrency - this.#running.size;
    // Claim when a slot would otherwise idle, or when the buffer is at most half full.
    if (
      want <= 0 ||
      (this.#buffer.length > 0 && want < capacity / 2) ||
      (freeSlots <= 0 && this.#buffer.length > 0)
    ) {
      return;
    }
    // Storage is behind: don't take more. Beyond one batch's worth of unwritten outcomes (one
    // more finalise statement) extra claims only hold leases other processes could run, and each
    // held job is one more running row for every process's fenced writes and heartbeats.
    if (this.#finalizer.backlog >= Math.min(capacity * 20, MAX_FINALIZE_BATCH)) return;
    if (Date.now() < this.#claimRetryAt) return;
    this.#claiming = true;
    let claimed: ClaimedJob[] = [];
    try {
      claimed = await this.#client.driver.jobClaim({
        queues: this.queues,
        limit: want,
        leaseMs: this.leaseMs,
        poolId: this.id,
        now: this.#client.dbNow(),
      });
      this.#claimFailures = 0;
      this.#mayHaveWork = claimed.length === want;
    } catch (error) {
      this.#claimFailures++;
      const retryInMs = Math.min(5000, 50 * 2 ** Math.min(this.#claimFailures, 7));
      this.#claimRetryAt = Date.now() + retryInMs;
      this.#reportError('claim', error, retryInMs);
      setTimeout(() => this.#wake(), retryInMs).unref();
    } finally {
      this.#claiming = false;
    }
    if (this.#state !== 'running') {
      // Stopped while claiming: give the jobs straight back.
      if (claimed.length) {
        await this.#trackRelease(
          this.#client.driver.jobRelease({
            leases: claimed.map((j) => ({ id: j.id, leaseToken: j.leaseToken })),
          }),
        );
      }
      return;
    }
    for (const job of claimed) {
      // Its previous attempt's outcome is written but not yet reported: start it after that.
      if (this.#outcomePending.has(job.id)) this.#heldBack.set(job.id, job);
      else this.#buffer.push(job);
    }
    this.#dispatch();
    if (this.#mayHaveWork) this.#scheduleFill();
    else if (this.#isIdle()) this.#notifyIdle();
  }

  /** Start buffered jobs on free slots. */
  #dispatch(): void {
    if (this.#buffer.length === 0 || this.#state !== 'running') return;
    for (const slot of this.#slots) {
      if (slot.attempt !== null) continue;
      const job = this.#buffer.shift();
      if (!job) break;
      this.#startAttempt(job, slot);
    }
  }

  // ----- running -------------------------------------------------------------------------------

  #startAttempt(job: ClaimedJob, slot: Slot): void {
    const { events, clock } = this.#client;
    const attempt: RunningAttempt = {
      job,
      slot,
      control: new AttemptControl(),
      startedAt: clock.now(),
      progress: undefined,
    };
    slot.attempt = attempt;
    this.#running.set(job.id, attempt);
    if (events.has('worker:busy')) {
      events.emit('worker:busy', {
        poolId: this.id,
        workerId: slot.workerId,
        index: slot.index,
        jobId: job.id,
        task: job.task,
        at: attempt.startedAt,
      });
    }
    if (events.has('job:started')) events.emit('job:started', this.#attemptBase(attempt));
    executeAttempt(job, {
      task: this.#client.tasks.get(job.task),
      knownTasks: () => this.#client.tasks.names(),
      control: attempt.control,
      workerId: slot.workerId,
      onProgress: (value) => this.#onProgress(attempt, value),
    }).then((outcome) => this.#onAttemptDone(attempt, outcome));
  }

  #attemptBase(attempt: RunningAttempt): AttemptEventBase {
    const { job } = attempt;
    return {
      jobId: job.id,
      task: job.task,
      queue: job.queue,
      correlationId: job.correlationId,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      poolId: this.id,
      workerId: attempt.slot.workerId,
      runAt: job.runAt,
      startedAt: attempt.startedAt,
      waitMs: Math.max(0, attempt.startedAt - job.runAt),
    };
  }

  #onProgress(attempt: RunningAttempt, value: unknown): void {
    if (this.#running.get(attempt.job.id) !== attempt) return;
    // Progress that JSON cannot hold, or over maxResultBytes, is not stored; the handler keeps running.
    const json = encodeProgress(value, this.#client.limits.maxResultBytes);
    if (json === undefined) return;
    attempt.progress = json;
    const { events, clock } = this.#client;
    if (events.has('job:progress')) {
      events.emit('job:progress', { ...this.#attemptBase(attempt), progress: value, at: clock.now() });
    }
  }

  #onAttemptDone(attempt: RunningAttempt, outcome: AttemptOutcome): void {
    const { job, slot } = attempt;
    const finishedAt = this.#client.clock.now();
    const durationMs = finishedAt - attempt.startedAt;
    this.#meanRunMs = this.#meanRunMs * 0.9 + durationMs * 0.1;
    this.#running.delete(job.id);
    slot.attempt = null;

    const item = this.#finalizeItemFor(attempt, outcome, finishedAt);
    if (item && 'interruption' in item) {
      this.#trackRelease(this.#releaseInterrupted(attempt, item.interruption, durationMs));
    } else if (item) {
      this.#outcomePending.add(job.id);
      this.#finalizer.add(item, (result, written) => {
        this.#outcomePending.delete(job.id);
        this.#emitOutcome(attempt, written, result, finishedAt, durationMs, outcome);
        this.#releaseHeldBack(job.id);
        if (this.#idleWaiters.length > 0 && this.#isIdle()) this.#notifyIdle();
        // A claim round skipped while the finaliser was behind is retried once it catches up.
        if (this.#mayHaveWork) this.#scheduleFill();
      });
    }

    // Take the next buffered job at once, or report the slot idle and look for work.
    const next = this.#state === 'running' ? this.#buffer.shift() : undefined;
    if (next) this.#startAttempt(next, slot);
    else {
      const { events } = this.#client;
      if (events.has('worker:idle')) {
        events.emit('worker:idle', {
          poolId: this.id,
          workerId: slot.workerId,
          index: slot.index,
          at: finishedAt,
        });
      }
      if (this.#running.size === 0 && this.#runningDrained) this.#runningDrained();
    }
    if (this.#mayHaveWork) this.#scheduleFill();
  }

  /**
   * What to write for an ended attempt: an outcome, an interruption (a shutdown cut it off), or
   * nothing (the job was taken from us).
   */
  #finalizeItemFor(
    attempt: RunningAttempt,
    outcome: AttemptOutcome,
    at: number,
  ): FinalizeItem | { interruption: StoredError } | null {
    const { job } = attempt;
    const lease = { id: job.id, leaseToken: job.leaseToken };
    if (outcome.ok) {
      try {
        return {
          ...lease,
          outcome: 'completed',
          resultJson: encodeResult(outcome.result, this.#client.limits.maxResultBytes),
        };
      } catch (tooLarge) {
        // The work is done: store why its result is missing, and do not run it again by itself.
        return { ...lease, outcome: 'abandoned', error: toStoredError(tooLarge, job.attempt, at) };
      }
    }
    const thrown = outcome.error;
    const reason = attempt.control.aborted ? attempt.control.reason : undefined;
    if (reason instanceof JobCancelledError) return null; // cancelled in storage already
    if (reason instanceof LeaseLostError) {
      this.#emitLeaseLost(attempt, at);
      return null;
    }
    if (reason instanceof ShutdownAbortError) {
      return {
        interruption: {
          name: 'ShutdownInterruptedError',
          message:
            `pool ${this.id} shut down and its grace period ended before the attempt finished; ` +
            'the attempt does not count (an interruption)',
          attempt: job.attempt,
          at,
          interrupted: true,
        },
      };
    }
    if (thrown instanceof SnoozeError) return { ...lease, outcome: 'snoozed', delayMs: thrown.delayMs };
    const error = toStoredError(thrown, job.attempt, at);
    if (thrown instanceof UnrecoverableError || thrown instanceof InvalidPayloadError) {
      return { ...lease, outcome: 'abandoned', error };
    }
    if (job.attempt >= job.maxAttempts) return { ...lease, outcome: 'abandoned', error };
    const task = this.#client.tasks.get(job.task);
    const delayMs = backoffDelay(job.attempt, error, job.backoff, task?.backoffFn);
    return { ...lease, outcome: 'retry', error, delayMs };
  }

  #emitOutcome(
    attempt: RunningAttempt,
    item: FinalizeItem,
    result: FinalizeResult,
    finishedAt: number,
    durationMs: number,
    outcome: AttemptOutcome,
  ): void {
    const { events } = this.#client;
    if (!result.applied) {
      this.#emitLeaseLost(attempt, finishedAt);
      return;
    }
    const base = this.#attemptBase(attempt);
    switch (item.outcome) {
      case 'completed':
        if (events.has('job:completed')) {
          events.emit('job:completed', {
            ...base,
            completedAt: finishedAt,
            durationMs,
            result: outcome.ok ? outcome.result : null,
          });
        }
        return;
      case 'snoozed':
        events.emit('job:snoozed', { ...base, delayMs: item.delayMs, nextRunAt: result.runAt ?? finishedAt });
        return;
      case 'retry':
        events.emit('job:failed', {
          ...base,
          failedAt: finishedAt,
          durationMs,
          error: item.error,
          willRetry: true,
        });
        events.emit('job:retrying', {
          ...base,
          delayMs: item.delayMs,
          nextRunAt: result.runAt ?? finishedAt + item.delayMs,
          error: item.error,
        });
        return;
      case 'abandoned': {
        events.emit('job:failed', {
          ...base,
          failedAt: finishedAt,
          durationMs,
          error: item.error,
          willRetry: false,
        });
        const thrown = outcome.ok ? undefined : outcome.error;
        // An attempt that returned but whose result could not be stored is abandoned on purpose.
        const unrecoverable =
          outcome.ok || thrown instanceof UnrecoverableError || thrown instanceof InvalidPayloadError;
        this.#emitAbandoned(
          base,
          unrecoverable ? 'unrecoverable' : 'attempts-exhausted',
          item.error,
          finishedAt,
        );
        return;
      }
    }
  }

  /** `job:abandoned` for an attempt of this pool, from the attempt's event base. */
  #emitAbandoned(
    base: AttemptEventBase,
    reason: JobwireEvents['job:abandoned']['reason'],
    error: StoredError,
    at: number,
  ): void {
    const { jobId, task, queue, correlationId, attempt, maxAttempts } = base;
    this.#client.events.emit('job:abandoned', {
      jobId,
      task,
      queue,
      correlationId,
      attempt,
      maxAttempts,
      reason,
      error,
      at,
    });
  }

  /**
   * Give a cut-off attempt's lease back as an interruption (see Driver.jobRelease) and report it:
   * `job:interrupted`, then `job:abandoned` when it used up the client's `maxInterruptions`.
   * The driver applies that budget to the job's stored count, which is the claimed count here
   * (only a rescue changes it while the job runs, and a rescue takes the lease, fencing us off).
   */
  async #releaseInterrupted(
    attempt: RunningAttempt,
    error: StoredError,
    durationMs: number,
  ): Promise<string[]> {
    const { job } = attempt;
    const { driver, events, clock } = this.#client;
    const { maxInterruptions } = this.#client.limits;
    const ids = await driver.jobRelease({
      leases: [{ id: job.id, leaseToken: job.leaseToken, interruption: error }],
      maxInterruptions,
      now: this.#client.dbNow(),
    });
    const at = clock.now();
    if (ids.length === 0) {
      this.#emitLeaseLost(attempt, at);
      return ids;
    }
    const interruptions = job.interruptions + 1;
    const willRunAgain = interruptions < maxInterruptions;
    const base = this.#attemptBase(attempt);
    events.emit('job:interrupted', { ...base, error, interruptions, willRunAgain, durationMs, at });
    if (!willRunAgain) {
      this.#emitAbandoned(base, 'interrupted', error, at);
    }
    return ids;
  }

  #emitLeaseLost(attempt: RunningAttempt, at: number): void {
    this.#client.events.emit('job:lease-lost', { ...this.#attemptBase(attempt), at });
  }

  /** Abort a job running here (cancelled elsewhere or lease lost); drop it if only buffered. */
  #abortLocal(jobId: string, reason: Error): void {
    const running = this.#running.get(jobId);
    if (running) running.control.abort(reason);
    const index = this.#buffer.findIndex((job) => job.id === jobId);
    if (index >= 0) this.#buffer.splice(index, 1);
  }

  // ----- leases --------------------------------------------------------------------------------

  #heartbeatPromise: Promise<void> = Promise.resolve();
  /** The one early heartbeat pending after a failed one (see #heartbeat). */
  #heartbeatRetry: NodeJS.Timeout | undefined;

  #heartbeat(): Promise<void> {
    const leases: { id: string; leaseToken: number; progressJson?: string }[] = [];
    for (const { job, progress } of this.#running.values()) {
      leases.push(
        progress === undefined
          ? { id: job.id, leaseToken: job.leaseToken }
          : { id: job.id, leaseToken: job.leaseToken, progressJson: progress },
      );
    }
    for (const job of this.#buffer) leases.push({ id: job.id, leaseToken: job.leaseToken });
    for (const lease of this.#finalizer.leases()) leases.push(lease);
    if (leases.length === 0) return this.#heartbeatPromise;
    this.#heartbeatPromise = this.#client.driver
      .jobHeartbeatMany({ leases, leaseMs: this.leaseMs, now: this.#client.dbNow() })
      .then((lost) => {
        // Storage answers: outcomes waiting out a backoff go now, before their leases are rescued.
        this.#finalizer.retryNow();
        return Promise.all(lost.map((id) => this.#onLeaseLost(id)));
      })
      .then(() => {})
      .catch((error) => {
        // During an outage beat again within a second, so leases are renewed as soon as it ends.
        const retryInMs = Math.min(this.#heartbeatMs, HEARTBEAT_RETRY_MS);
        this.#reportError('heartbeat', error, retryInMs);
        if (retryInMs < this.#heartbeatMs && this.#state !== 'stopped' && !this.#heartbeatRetry) {
          this.#heartbeatRetry = setTimeout(() => {
            this.#heartbeatRetry = undefined;
            if (this.#state === 'running' || this.#state === 'stopping') void this.#heartbeat();
          }, retryInMs).unref();
        }
      });
    return this.#heartbeatPromise;
  }

  /**
   * A heartbeat found a lease gone. Without cross-process notifications (SQLite) this is how a
   * cancellation from another process arrives, so look at the job to abort with the right reason.
   */
  async #onLeaseLost(id: string): Promise<void> {
    let cancelled = false;
    try {
      cancelled = (await this.#client.driver.jobGet({ id }))?.state === 'cancelled';
    } catch {
      // Unknown reason: the lease is gone either way.
    }
    this.#abortLocal(id, cancelled ? new JobCancelledError(id) : new LeaseLostError(id));
  }

  // ----- helpers -------------------------------------------------------------------------------

  #isIdle(): boolean {
    return (
      this.#running.size === 0 &&
      this.#buffer.length === 0 &&
      this.#heldBack.size === 0 &&
      this.#finalizer.backlog === 0
    );
  }

  #notifyIdle(): void {
    if (!this.#isIdle() || this.#claiming || (this.#mayHaveWork && this.#state === 'running')) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #reportError(operation: string, error: unknown, retryInMs: number): void {
    const at = this.#client.clock.now();
    const stored: StoredError = toStoredError(error, 0, at);
    this.#client.events.emit('pool:error', { poolId: this.id, operation, error: stored, retryInMs, at });
  }

  /** @internal The event bus this pool reports to (for signal handling). */
  get events(): EventBus {
    return this.#client.events;
  }
}
