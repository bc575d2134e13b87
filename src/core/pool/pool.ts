/**
 * A pool runs jobs inside one process with N worker slots. This file wires its parts and owns
 * the lifecycle (start, graceful stop, idle waits):
 * - the producer claims due jobs in batches and starts them on free slots (producer.ts);
 * - the executor runs each attempt with an AbortSignal (timeout, cancellation, shutdown, lost
 *   lease) (executor.ts);
 * - the outcome policy decides what becomes of an ended attempt (outcome-policy.ts), the
 *   finalizer writes outcomes in batches, each guarded by the lease's fencing token
 *   (finalizer.ts), and outcome-events.ts reports them;
 * - the lease keeper extends every lease the pool holds and flushes progress (lease-keeper.ts);
 *   a job whose lease was taken over is aborted locally and its late writes are rejected by the
 *   fence.
 */
import { CHANNELS, type ClaimedJob, type FinalizeItem } from '../../driver/driver.js';
import type { AttemptOutcome } from '../attempt.js';
import { InvalidOptionError, JobCancelledError, ShutdownAbortError } from '../errors.js';
import { emitDependentChanges } from '../flow/dependencies.js';
import { jobEventBase } from '../job-events.js';
import type { Runtime } from '../runtime.js';
import { toStoredError } from '../serialize.js';
import { registerForSignals, type ShutdownTarget, unregisterForSignals } from '../signals.js';
import type { EpochMs, StoredError } from '../types.js';
import type { DirectStartReservation } from './direct-starts.js';
import { Executor, type RunningAttempt, type Slot } from './executor.js';
import { Finalizer } from './finalizer.js';
import { type HeartbeatLease, LeaseKeeper } from './lease-keeper.js';
import { type PoolOptions, type PoolSettings, resolvePoolSettings } from './options.js';
import {
  emitEntries,
  emitLeaseLost,
  emitOutcomeEvents,
  interruptedEntries,
  type OutcomeParts,
  outcomeEntries,
} from './outcome-events.js';
import { decideOutcome, finalizeItemFor } from './outcome-policy.js';
import { STARTS_PER_TURN } from './prefetch.js';
import { Producer } from './producer.js';
import { PoolRegistrationKeeper } from './registration.js';

export type { PoolOptions };

/** Told when a pool starts and stops (the client runs maintenance while any pool runs). */
export interface PoolHost {
  poolStarted(pool: Pool): void;
  poolStopped(pool: Pool): void;
}

type PoolState = 'created' | 'running' | 'stopping' | 'stopped';

/** See the module comment. Create with `jobwire.createPool()`. */
export class Pool {
  readonly id: string;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly shutdownGraceMs: number;
  readonly #runtime: Runtime;
  readonly #settings: PoolSettings;
  readonly #host: PoolHost | undefined;
  readonly #executor: Executor;
  readonly #producer: Producer;
  readonly #finalizer: Finalizer;
  readonly #leaseKeeper: LeaseKeeper;
  readonly #registration: PoolRegistrationKeeper;
  readonly #shutdownTarget: ShutdownTarget;
  #state: PoolState = 'created';
  #stopPromise: Promise<void> | undefined;
  #idleWaiters: (() => void)[] = [];
  /** Slots that found no job while a claim might still bring one: `worker:idle` waits for it. */
  readonly #idleUnreported = new Set<Slot>();
  /** Buffered jobs started by ending attempts since the event loop last turned (see STARTS_PER_TURN). */
  #startsThisTurn = 0;
  #unlistenCancelled: (() => void) | undefined;
  #stopDirectStarts: (() => void) | undefined;
  #releasedOnAbort = 0;
  readonly #pendingReleases = new Set<Promise<void>>();

  constructor(runtime: Runtime, options: PoolOptions, host?: PoolHost) {
    const settings = resolvePoolSettings(options);
    this.#runtime = runtime;
    this.#settings = settings;
    this.#host = host;
    this.id = settings.id;
    this.queues = settings.queues;
    this.concurrency = settings.concurrency;
    this.leaseMs = settings.leaseMs;
    this.shutdownGraceMs = settings.shutdownGraceMs;
    const reportError = (operation: string, error: unknown, retryInMs: number) =>
      this.#reportError(operation, error, retryInMs);
    this.#executor = new Executor(runtime, settings, {
      progressChanged: (attempt) => this.#leaseKeeper.progressChanged(attempt),
      attemptEnded: (attempt, outcome, finishedAt, durationMs) =>
        this.#onAttemptEnded(attempt, outcome, finishedAt, durationMs),
      // Only a running pool starts work on it; a stopping one has given its buffer back.
      slotFreed: (slot) => {
        if (this.#state === 'running') this.#fillSlot(slot, runtime.clock.now());
      },
    });
    this.#finalizer = new Finalizer(
      runtime.driver,
      () => runtime.dbNow(),
      (error, retryInMs) => reportError('finalize', error, retryInMs),
      () => this.#producer.retryNow(),
    );
    this.#producer = new Producer(runtime, settings, this.#executor, {
      finalizerBacklog: () => this.#finalizer.backlog,
      claimSettled: () => this.#onClaimSettled(),
      giveBack: (jobs) => this.#trackRelease(this.#giveBack(jobs)),
      returnSuspects: (jobs) => void this.#trackRelease(this.#giveBack(jobs), false),
      reportError,
    });
    this.#leaseKeeper = new LeaseKeeper(runtime, settings, {
      collectLeases: (leases) => this.#collectLeases(leases),
      storageAnswered: () => {
        this.#finalizer.retryNow();
        this.#producer.retryNow();
      },
      abortLocal: (jobId, reason) => this.#abortLocal(jobId, reason),
      reportError,
    });
    this.#registration = new PoolRegistrationKeeper(runtime, settings, {
      busy: () => this.#executor.running.size,
      reportError,
    });
    this.#shutdownTarget = {
      events: runtime.events,
      shutdownGraceMs: settings.shutdownGraceMs,
      stop: (stopOptions) => this.stop(stopOptions),
      abortNow: (reason) => this.#executor.abortAll(reason),
    };
    const at = runtime.clock.now();
    const { events } = runtime;
    events.emit('pool:created', {
      poolId: this.id,
      queues: [...this.queues],
      concurrency: this.concurrency,
      at,
    });
    for (const slot of this.#executor.slots) {
      events.emit('worker:created', { poolId: this.id, workerId: slot.workerId, index: slot.index, at });
    }
  }

  /** True between `start()` and the beginning of `stop()`. */
  get isRunning(): boolean {
    return this.#state === 'running';
  }

  /** Jobs running now. */
  get runningCount(): number {
    return this.#executor.running.size;
  }

  /** Begin claiming and running jobs. */
  async start(): Promise<void> {
    if (this.#state !== 'created') {
      if (this.#state === 'running') return;
      throw new InvalidOptionError('start', 'a stopped pool cannot be restarted; create a new one');
    }
    this.#state = 'running';
    const { events, driver, clock } = this.#runtime;
    const at = clock.now();
    this.#unlistenCancelled = driver.notifier.listen(CHANNELS.jobCancelled, (jobId) =>
      this.#abortLocal(jobId, new JobCancelledError(jobId)),
    );
    this.#leaseKeeper.start();
    if (this.#settings.handleSignals) registerForSignals(this.#shutdownTarget);
    this.#host?.poolStarted(this);
    if (this.#settings.directStarts) {
      this.#stopDirectStarts = this.#runtime.directStarts.add({
        offer: (queue, task) => this.#offer(queue, task),
      });
    }
    events.emit('pool:started', {
      poolId: this.id,
      queues: [...this.queues],
      concurrency: this.concurrency,
      at,
    });
    for (const slot of this.#executor.slots) {
      events.emit('worker:started', { poolId: this.id, workerId: slot.workerId, index: slot.index, at });
    }
    this.#producer.start();
    // Listed in the pool registry (`listPools`) once this resolves; failures are `pool:error`.
    await this.#registration.start();
  }

  /**
   * Resolves when nothing is running, buffered or waiting to be written and — while the pool
   * runs — its last claim found nothing to take (tests, the demo).
   */
  whenIdle(): Promise<void> {
    if (this.#settled()) return Promise.resolve();
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

  async #stop(graceMs: number, reason: string): Promise<void> {
    const { events, driver, clock } = this.#runtime;
    this.#state = 'stopping';
    this.#stopDirectStarts?.();
    this.#registration.stopping();
    const unstarted = this.#producer.stop();
    // Heartbeats go on until the end (leaseKeeper.close below): jobs running through the grace
    // period, and outcomes waiting to be written, must keep their leases or they would be rescued
    // and run again elsewhere.
    // A stopping pool takes nothing more: slots waiting for a claim's answer are idle now.
    this.#reportDeferredIdle();
    const running = this.#executor.running;
    events.emit('pool:stopping', {
      poolId: this.id,
      reason,
      running: running.size,
      graceMs,
      at: clock.now(),
    });

    let released = 0;
    if (unstarted.length > 0) {
      try {
        const leases = unstarted.map((job) => ({ id: job.id, leaseToken: job.leaseToken }));
        released = (await driver.jobRelease({ leases, now: this.#runtime.dbNow() })).length;
      } catch (error) {
        // Unreleased leases expire and the jobs are rescued: slower, but nothing is lost.
        this.#reportError('release', error, 0);
      }
    }

    let aborted = 0;
    if (running.size > 0 && !(await this.#executor.whenDrained(graceMs))) {
      aborted = running.size;
      this.#executor.abortAll(new ShutdownAbortError());
      await this.#executor.whenDrained(1000);
    }
    await this.#finalizer.drain(Math.max(graceMs, 1000));
    this.#finalizer.abandonPending();
    // Outcomes dropped now are never answered (their leases expire and the jobs are rescued).
    this.#producer.outcomePending.clear();
    // Async drivers (PostgreSQL) release aborted attempts' leases after the attempt settles.
    await Promise.all(this.#pendingReleases);
    await this.#leaseKeeper.close();
    await this.#registration.close();
    this.#unlistenCancelled?.();
    this.#state = 'stopped';
    unregisterForSignals(this.#shutdownTarget);
    const at = clock.now();
    for (const slot of this.#executor.slots) {
      events.emit('worker:stopped', { poolId: this.id, workerId: slot.workerId, index: slot.index, at });
    }
    events.emit('pool:stopped', { poolId: this.id, aborted, released: released + this.#releasedOnAbort, at });
    this.#host?.poolStopped(this);
    this.#notifyIdle();
  }

  #onAttemptEnded(
    attempt: RunningAttempt,
    outcome: AttemptOutcome,
    finishedAt: EpochMs,
    durationMs: number,
  ): void {
    const { job, slot, control } = attempt;
    const { events, tasks, limits } = this.#runtime;
    const decision = decideOutcome({
      job,
      outcome,
      abortReason: control.aborted ? control.reason : undefined,
      backoffFn: outcome.ok ? undefined : tasks.get(job.task)?.backoffFn,
      maxResultBytes: limits.maxResultBytes,
      poolId: this.id,
      now: finishedAt,
    });
    if (decision.kind === 'drop') {
      // Cancelled: storage says so already. Lease lost: nothing of this attempt is ours to write.
      if (decision.why === 'lease-lost') emitLeaseLost(events, this.#executor.eventBase(attempt), finishedAt);
    } else if (decision.kind === 'interrupt') {
      this.#trackRelease(this.#releaseInterrupted(attempt, decision.error, durationMs));
    } else {
      const producer = this.#producer;
      producer.outcomePending.add(job.id);
      const base = this.#executor.eventBase(attempt);
      const item = finalizeItemFor(job, decision);
      if (item.outcome === 'completed' && this.#runtime.deletesAtCompletion(job.queue)) {
        item.deleteAtCompletion = true;
      }
      // Heartbeats store progress only every few seconds: the last value goes with the outcome.
      if (attempt.progress !== undefined) item.progressJson = attempt.progress;
      // One record per outcome, completed in place as the write goes (no copies on the hot path).
      const parts: OutcomeParts = {
        job,
        base,
        decision,
        outcome,
        slot: slot.index,
        finishedAt,
        durationMs,
        written: item,
      };
      // With the log on, the outcome's events are stored by the write itself (built for the item
      // actually written: the finalizer may replace an unstorable one).
      const log = this.#runtime.eventLog
        ? (written: FinalizeItem) => {
            parts.written = written;
            return outcomeEntries(parts, undefined, true);
          }
        : undefined;
      this.#finalizer.add(
        item,
        (result, written) => {
          parts.written = written;
          emitOutcomeEvents(events, parts, result);
          emitDependentChanges(events, this.#runtime.wakeups, result.dependents);
          // A retry or snooze of this pool's own queue: wake at its due time, not at the next poll.
          if (result.applied && result.runAt !== undefined) producer.wakeAt(result.runAt);
          producer.outcomeReported(job.id);
          if (this.#idleWaiters.length > 0) this.#notifyIdle();
          // A claim round skipped while the finalizer was behind is retried once it catches up.
          if (producer.mayHaveWork) producer.scheduleFill();
        },
        log,
      );
    }

    // Still held by a handler that outlived its abort: filled once it settles (`slotFreed`).
    if (slot.attempt !== null) {
      if (this.#producer.mayHaveWork) this.#producer.scheduleFill();
      return;
    }
    this.#fillSlot(slot, finishedAt);
  }

  /**
   * Take the next buffered job at once on the free `slot`, or look for work (the slot is idle
   * once none is left). Short jobs end and start the next in microtasks, so a whole buffer would
   * run in one turn of the event loop; past STARTS_PER_TURN the free slots are filled on the next
   * turn instead.
   */
  #fillSlot(slot: Slot, at: EpochMs): void {
    const deferred =
      this.#startsThisTurn >= STARTS_PER_TURN && this.#state === 'running' && this.#producer.hasBuffered;
    const next = deferred ? undefined : this.#producer.takeNext();
    if (next) {
      if (this.#startsThisTurn++ === 0) setImmediate(() => (this.#startsThisTurn = 0));
      this.#executor.start(next, slot);
    } else if (deferred) {
      this.#producer.scheduleFill();
    } else {
      if (this.#state === 'running' && (this.#producer.mayHaveWork || this.#producer.claiming)) {
        this.#idleUnreported.add(slot);
      } else {
        this.#emitWorkerIdle(slot, at);
      }
    }
    if (this.#producer.mayHaveWork) this.#producer.scheduleFill();
  }

  /** A claim round ended: slots still free after a claim that found nothing are idle now. */
  #onClaimSettled(): void {
    if (!this.#producer.mayHaveWork) this.#reportDeferredIdle();
    if (this.#idleWaiters.length > 0) this.#notifyIdle();
  }

  /** `worker:idle` for slots that found no job and are still free. */
  #reportDeferredIdle(): void {
    if (this.#idleUnreported.size === 0) return;
    const at = this.#runtime.clock.now();
    for (const slot of this.#idleUnreported) if (slot.attempt === null) this.#emitWorkerIdle(slot, at);
    this.#idleUnreported.clear();
  }

  #emitWorkerIdle(slot: Slot, at: EpochMs): void {
    const { events } = this.#runtime;
    if (events.has('worker:idle')) {
      events.emit('worker:idle', { poolId: this.id, workerId: slot.workerId, index: slot.index, at });
    }
  }

  /**
   * Give claimed jobs that never started back (the pool stopped): pending again, the attempt
   * unused. The log stored `job:started` at their claim, so it also gets `job:released`.
   */
  async #giveBack(jobs: readonly ClaimedJob[]): Promise<string[]> {
    const { driver, events, clock, eventLog } = this.#runtime;
    const at = clock.now();
    const entries = new Map(
      jobs.map((job) => [job.id, { ...jobEventBase(job), attempt: job.attempt - 1, poolId: this.id, at }]),
    );
    const ids = await driver.jobRelease({
      leases: jobs.map((job) => ({
        id: job.id,
        leaseToken: job.leaseToken,
        ...(eventLog ? { events: [{ type: 'job:released', data: entries.get(job.id) }] } : {}),
      })),
      now: this.#runtime.dbNow(),
    });
    for (const id of ids) events.emit('job:released', entries.get(id)!);
    return ids;
  }

  /** Give a cut-off attempt's lease back as an interruption (see Driver.jobRelease) and report it. */
  async #releaseInterrupted(
    attempt: RunningAttempt,
    error: StoredError,
    durationMs: number,
  ): Promise<string[]> {
    const { job } = attempt;
    const { driver, events, clock, limits, eventLog } = this.#runtime;
    const at = clock.now();
    const base = this.#executor.eventBase(attempt);
    const entries = interruptedEntries(job, base, error, limits.maxInterruptions, durationMs, at);
    const ids = await driver.jobRelease({
      leases: [
        {
          id: job.id,
          leaseToken: job.leaseToken,
          interruption: error,
          ...(eventLog ? { events: entries } : {}),
        },
      ],
      maxInterruptions: limits.maxInterruptions,
      now: this.#runtime.dbNow(),
    });
    if (ids.length === 0) emitLeaseLost(events, base, at);
    else emitEntries(events, entries);
    return ids;
  }

  /** Count a release's jobs when it lands; `#stop` waits for every release still in flight. */
  #trackRelease(release: Promise<string[]>, countOnStop = true): Promise<void> {
    const tracked: Promise<void> = release
      .then((ids) => {
        if (countOnStop) this.#releasedOnAbort += ids.length;
      })
      .catch((error) => this.#reportError('release', error, 0))
      .finally(() => this.#pendingReleases.delete(tracked));
    this.#pendingReleases.add(tracked);
    return tracked;
  }

  #collectLeases(leases: HeartbeatLease[]): void {
    for (const { job, progress } of this.#executor.running.values()) {
      leases.push(
        progress === undefined
          ? { id: job.id, leaseToken: job.leaseToken }
          : { id: job.id, leaseToken: job.leaseToken, progressJson: progress },
      );
    }
    for (const job of this.#producer.bufferedLeases())
      leases.push({ id: job.id, leaseToken: job.leaseToken });
    for (const lease of this.#finalizer.leases()) leases.push(lease);
  }

  /**
   * A slot for a job an enqueue of this process is about to store (direct-starts.ts): only while
   * running, for a queue this pool serves and a task it can run, and only when nothing claimed is
   * waiting for a slot — then a claim would start the job next anyway, and storage checks that no
   * older job comes first.
   */
  #offer(queue: string, task: string): DirectStartReservation | undefined {
    if (this.#state !== 'running' || !this.queues.includes(queue)) return undefined;
    const producer = this.#producer;
    if (producer.bufferedCount > 0 || producer.claiming || !this.#runtime.tasks.get(task)) return undefined;
    const slot = this.#executor.reserve();
    if (!slot) return undefined;
    return {
      start: { poolId: this.id, leaseMs: this.leaseMs, queues: this.queues },
      accept: (job) => {
        this.#executor.unreserve(slot);
        // Stopped meanwhile: the job goes back to the queue.
        if (this.#state !== 'running') this.#trackRelease(this.#giveBack([job]));
        else producer.startDirect(job, slot);
      },
      cancel: () => {
        this.#executor.unreserve(slot);
        // Claims counted the slot as busy: claim (or start a buffered job) for it now.
        this.#producer.scheduleFill();
        if (this.#idleWaiters.length > 0) this.#notifyIdle();
      },
    };
  }

  /** Abort a job running here (cancelled elsewhere or lease lost); drop it if only buffered. */
  #abortLocal(jobId: string, reason: Error): void {
    this.#executor.abort(jobId, reason);
    this.#producer.dropBuffered(jobId);
  }

  #isIdle(): boolean {
    // An outcome counts until its write is answered (the finalizer's backlog drops a batch as
    // soon as its write starts): idle means everything this pool ran is in storage.
    const producer = this.#producer;
    return (
      this.#executor.running.size === 0 &&
      this.#executor.reservedCount === 0 &&
      producer.bufferedCount === 0 &&
      producer.outcomePending.size === 0
    );
  }

  /** Idle, and while running, the last claim found nothing to take. */
  #settled(): boolean {
    if (!this.#isIdle() || this.#producer.claiming) return false;
    return !(this.#state === 'running' && this.#producer.mayHaveWork);
  }

  #notifyIdle(): void {
    if (!this.#settled()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #reportError(operation: string, error: unknown, retryInMs: number): void {
    const at = this.#runtime.clock.now();
    const stored = toStoredError(error, 0, at);
    this.#runtime.events.emit('pool:error', { poolId: this.id, operation, error: stored, retryInMs, at });
  }
}
