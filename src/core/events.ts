/**
 * The event catalogue and the in-process event bus.
 *
 * Keys are `scope:action` in the past tense; each payload is one object. Emission is safe: a
 * listener that throws (or returns a rejected promise) is reported to `onListenerError` and
 * never reaches the code that emitted — a pool's loop cannot be broken by a listener.
 * `has()` lets hot paths skip building a payload nobody listens to.
 */
import type { EpochMs, JobState, StoredError } from './types.js';

/** Fields every job event carries. */
export interface JobEventBase {
  jobId: string;
  task: string;
  queue: string;
  /** Follows a job and every job enqueued from inside its handler. */
  correlationId: string;
  /** The attempt this event is about (0 before the first run). */
  attempt: number;
  maxAttempts: number;
}

/** Fields of events about an attempt a worker ran. */
export interface AttemptEventBase extends JobEventBase {
  poolId: string;
  workerId: string;
  /**
   * When the job became due (its run-at time; for a retry, when its backoff ended). `queuedAt`
   * is only ever the enqueue time, on `job:queued`.
   */
  runAt: EpochMs;
  startedAt: EpochMs;
  /** startedAt − runAt: how long the due job waited for a worker. */
  waitMs: number;
  /**
   * The job's metadata as enqueued (e.g. `{ videoId: 'v42' }`), so consumers of attempt events
   * can show their own identifiers without looking the job up.
   */
  metadata: Record<string, unknown>;
}

/** A worker slot's identity. */
export interface WorkerEventBase {
  poolId: string;
  workerId: string;
  /** 0-based slot number inside the pool. */
  index: number;
}

/** What a health alert watches (see `JobwireOptions.health`). */
export type HealthAlertKind = 'queue-backlog' | 'queue-latency' | 'queue-failure-rate';

/** Payload of `alert:fired` (and, with `firedAt`, `alert:resolved`). */
export interface HealthAlertEvent {
  /** `<kind>:<queue>`, e.g. `queue-backlog:mail`. */
  alertId: string;
  queue: string;
  kind: HealthAlertKind;
  /** The value measured now, and the threshold it is compared with. */
  value: number;
  threshold: number;
  at: EpochMs;
}

/** Payload of `queue:health`: one queue's numbers at `at` and over the last `windowMs`. */
export interface QueueHealthEvent {
  queue: string;
  paused: boolean;
  /** Jobs not yet due. */
  scheduled: number;
  /** Due jobs waiting for a worker. */
  pending: number;
  running: number;
  /** `exact`, or `atLeast` when the queue's waiting jobs passed the read's cap (see `QueueStats`). */
  precision: { pending: 'exact' | 'atLeast'; scheduled: 'exact' | 'atLeast' };
  /** How long the oldest due job has waited (at − its due time), or null when none waits. */
  oldestPendingMs: number | null;
  windowMs: number;
  /** Jobs completed in the window. */
  completed: number;
  /** Attempts whose handler failed in the window (retried or final). */
  failedAttempts: number;
  /** Jobs abandoned in the window. */
  abandoned: number;
  /** Completed jobs per second over the window. */
  throughputPerSec: number;
  /** completed / (completed + failedAttempts) over the window; null when no attempt ended. */
  successRate: number | null;
  /** failedAttempts / (completed + failedAttempts) over the window; null when no attempt ended. */
  failureRate: number | null;
  at: EpochMs;
}

/** The typed event map: key → payload. Each entry says when it fires. */
export interface JobwireEvents {
  /** A pool was constructed (not yet claiming). */
  'pool:created': { poolId: string; queues: string[]; concurrency: number; at: EpochMs };
  /** A pool began claiming jobs. */
  'pool:started': { poolId: string; queues: string[]; concurrency: number; at: EpochMs };
  /** A pool stopped claiming and is waiting for running jobs (up to `graceMs`). */
  'pool:stopping': { poolId: string; reason: string; running: number; graceMs: number; at: EpochMs };
  /** A pool finished shutting down; `aborted` jobs were cut off at the end of the grace period. */
  'pool:stopped': { poolId: string; aborted: number; released: number; at: EpochMs };
  /** A pool hit a storage or internal error; it keeps running and retries with backoff. */
  'pool:error': { poolId: string; operation: string; error: StoredError; retryInMs: number; at: EpochMs };

  /**
   * This process became leader (of the `maintenance` leadership): its leader-only services (the
   * rescuer first) now run here. `ownerId` identifies this process's elector.
   */
  'leader:elected': { ownerId: string; at: EpochMs };
  /**
   * This process is no longer leader: it gave leadership up because its last pool stopped
   * (`stopped`), or another process may hold it now (`lost`: a renewal came too late, or none
   * succeeded within `maintenance.leaderTtlMs` because storage was out of reach).
   */
  'leader:resigned': { ownerId: string; reason: 'stopped' | 'lost'; at: EpochMs };
  /**
   * A background service failed and tries again in `retryInMs`: the leader election (`service`
   * `leader-elector`, operation `elect`) or a leader-only service (the `rescuer`, operation
   * `rescue`). Pools report their own failures as `pool:error`.
   */
  'service:error': {
    service: string;
    operation: string;
    error: StoredError;
    retryInMs: number;
    at: EpochMs;
  };

  /** A worker slot was created with its pool. */
  'worker:created': WorkerEventBase & { at: EpochMs };
  /** A worker slot began taking jobs. */
  'worker:started': WorkerEventBase & { at: EpochMs };
  /** A worker finished its job and has no next job to take. */
  'worker:idle': WorkerEventBase & { at: EpochMs };
  /** A worker took a job. */
  'worker:busy': WorkerEventBase & { jobId: string; task: string; at: EpochMs };
  /** A worker slot stopped with its pool. */
  'worker:stopped': WorkerEventBase & { at: EpochMs };

  /** A job was stored. `runAt` later than `queuedAt` means it waits as `scheduled`. */
  'job:queued': JobEventBase & {
    state: JobState;
    priority: number;
    queuedAt: EpochMs;
    runAt: EpochMs;
    uniqueKey: string | null;
    metadata: Record<string, unknown>;
  };
  /**
   * An enqueue was answered with an existing job instead of a new one: `rule` (`unique`, which
   * includes `uniqueKey`, or `throttle`) matched the job `jobId` holding `key`, in `state`.
   */
  'job:deduplicated': JobEventBase & {
    rule: 'unique' | 'throttle';
    key: string;
    state: JobState;
    at: EpochMs;
  };
  /**
   * A debounce enqueue replaced the payload of the waiting job `jobId` holding `key` and moved its
   * due time from `previousRunAt` to `runAt` (capped by the rule's maxWait).
   */
  'job:debounced': JobEventBase & {
    key: string;
    state: JobState;
    runAt: EpochMs;
    previousRunAt: EpochMs;
    at: EpochMs;
  };
  /** A worker started an attempt. */
  'job:started': AttemptEventBase;
  /** A running handler reported progress. */
  'job:progress': AttemptEventBase & { progress: unknown; at: EpochMs };
  /** An attempt succeeded and its result was stored. */
  'job:completed': AttemptEventBase & { completedAt: EpochMs; durationMs: number; result: unknown };
  /** An attempt failed (it may be retried; see `job:retrying` / `job:abandoned`). */
  'job:failed': AttemptEventBase & {
    failedAt: EpochMs;
    durationMs: number;
    error: StoredError;
    willRetry: boolean;
  };
  /** A failed job was scheduled to run again after `delayMs`. */
  'job:retrying': AttemptEventBase & { delayMs: number; nextRunAt: EpochMs; error: StoredError };
  /** A handler asked to run again later (SnoozeError); the attempt does not count. */
  'job:snoozed': AttemptEventBase & { delayMs: number; nextRunAt: EpochMs };
  /**
   * A job will not run again: no attempts left (`attempts-exhausted`), an unrecoverable error,
   * or its interruption budget (`maxInterruptions`) used up — by a lease that expired
   * (`lease-expired`) or by a shutdown that cut the attempt off (`interrupted`).
   */
  'job:abandoned': JobEventBase & {
    reason: 'attempts-exhausted' | 'unrecoverable' | 'lease-expired' | 'interrupted';
    error: StoredError;
    at: EpochMs;
  };
  /**
   * `retryJob` made a finished job (`previousState`: abandoned, cancelled or completed) pending
   * again with a fresh set of attempts: `attempt` is the new count (0), due at `runAt`.
   */
  'job:retried': JobEventBase & { previousState: JobState; runAt: EpochMs; at: EpochMs };
  /**
   * A job was cancelled; when it was running, its AbortSignal fired. `dependencyId`: it was
   * cancelled because that dependency ended without completing (edge policy `cancel`, or the
   * cascade from a cancelled dependent above it).
   */
  'job:cancelled': JobEventBase & { previousState: JobState; at: EpochMs; dependencyId?: string };
  /**
   * A job was deleted by hand (`deleteJob`: the API, HTTP, dashboard or CLI), in whatever state
   * it was in (`previousState`; a running job's worker is fenced off: its outcome is dropped).
   * What waited for it gets its edges' policy, each change with its own event. Bulk deletes of
   * finished jobs (`deleteJobs`, `jobs purge`, the retention pruner) emit none.
   */
  'job:deleted': JobEventBase & { previousState: JobState; at: EpochMs };
  /**
   * A job is `blocked` on its dependencies: stored so (`reason` `waiting`, `dependencyIds` the
   * unfinished ones), or a dependency ended without completing under the `block` policy
   * (`dependency-failed`): it stays blocked until that dependency is retried by hand and completes.
   */
  'job:blocked': JobEventBase & {
    reason: 'waiting' | 'dependency-failed';
    dependencyIds: string[];
    at: EpochMs;
  };
  /**
   * A blocked job's last dependency completed (or ended under the `run` policy) and it became
   * due (`pending`, or `scheduled` until `runAt`), in the same write as that dependency's end.
   */
  'job:unblocked': JobEventBase & {
    state: 'pending' | 'scheduled';
    runAt: EpochMs;
    dependencyId: string;
    at: EpochMs;
  };
  /**
   * A running job's lease expired (its worker died or hung) and it was put back to run again. This
   * is an interruption: `attempt` (the one cut off) is not used up — the next run has the same
   * number — and the job keeps its due time, so it runs before jobs enqueued after it.
   * `interruptions` counts this one; at `maxInterruptions` the job is abandoned instead
   * (`job:abandoned`, reason `lease-expired`).
   */
  'job:rescued': JobEventBase & {
    previousPoolId: string | null;
    leaseExpiredAt: EpochMs;
    interruptions: number;
    /** The `LeaseExpiredError` added to the job's history (marked `interrupted`), as stored. */
    error: StoredError;
    at: EpochMs;
  };
  /**
   * A pool's shutdown cut a running attempt off at the end of its grace period (the handler's
   * signal aborted with ShutdownAbortError). This is an interruption, not a failure: the attempt
   * is given back (the next run has the same number), `error` (name `ShutdownInterruptedError`,
   * `interrupted: true`) is added to the job's history, and `interruptions` counts this one.
   * `willRunAgain` is false when that used up `maxInterruptions`: `job:abandoned` (reason
   * `interrupted`) follows.
   */
  'job:interrupted': AttemptEventBase & {
    error: StoredError;
    interruptions: number;
    willRunAgain: boolean;
    durationMs: number;
    at: EpochMs;
  };
  /**
   * A claimed job that never started was given back because its pool stopped: it is pending
   * again, and `attempt` is the count before the claim (the claimed attempt was not used).
   */
  'job:released': JobEventBase & { poolId: string; at: EpochMs };
  /** A worker's write was rejected by the fence: its lease had been taken over. Its result is dropped. */
  'job:lease-lost': AttemptEventBase & { at: EpochMs };

  // -- Flow control holds (docs/flow-control.md, "Events"). One block. --------------------------
  /**
   * A flow-control limit holds work back: a claim passed over a key (`scope` `key`) or a whole
   * queue (`scope` `queue`, `key` null) that had a due job, because its `concurrency` limit was
   * full (`running` of `max`) or its `rate` limit allowed no start now (`max` starts per
   * `intervalMs`; null for concurrency). Once per hold — not per claim round, not per waiting
   * job — in the claiming process and the durable log; `flow:unheld` ends it.
   */
  'flow:held': {
    queue: string;
    key: string | null;
    scope: 'key' | 'queue';
    limit: 'concurrency' | 'rate';
    running: number;
    max: number;
    intervalMs: number | null;
    at: EpochMs;
  };
  /**
   * A hold ended after `heldMs` (at − heldSince): a job of the key (queue) started (`reason`
   * `started`, in the claim that started it), or a claim found it no longer held with nothing of
   * it to start (`cleared`: its waiting jobs were cancelled or deleted, or are held by another
   * limit). Once per `flow:held`.
   */
  'flow:unheld': {
    queue: string;
    key: string | null;
    scope: 'key' | 'queue';
    reason: 'started' | 'cleared';
    heldSince: EpochMs;
    heldMs: number;
    at: EpochMs;
  };

  /** A queue was paused: pools stop claiming from it. */
  'queue:paused': { queue: string; at: EpochMs };
  /** A paused queue was resumed. */
  'queue:resumed': { queue: string; at: EpochMs };
  /** An enqueue was refused because the queue holds its maximum of waiting jobs. */
  'queue:full': { queue: string; task: string; maxPending: number; pending: number; at: EpochMs };

  // -- Pool registry (who is working, across processes). One block. -----------------------------
  /**
   * A pool stopped refreshing its registry row for longer than `maintenance.poolLostAfterHeartbeats`
   * of its heartbeat periods (its process died, froze or lost storage): the leader removed the
   * row. Fires once per cluster, in the leader's process only. A pool that was only cut off
   * registers itself again at its next heartbeat.
   */
  'pool:lost': { poolId: string; host: string; pid: number; lastSeenAt: EpochMs; at: EpochMs };

  // -- Queue health (the leader's health monitor, `JobwireOptions.health`). One block. ----------

  /**
   * Every health interval, in the leader process only (so once per cluster): one queue's
   * numbers, for each queue with active jobs, finishes in the window, settings or a threshold.
   */
  'queue:health': QueueHealthEvent;
  /**
   * A queue's backlog crossed its threshold (`queue-backlog`: more than `maxPending` due jobs
   * waiting; `queue-latency`: the oldest due job waited longer than `maxOldestPendingMs`). Fires
   * with the matching `alert:fired`, once per cluster until the alert resolves.
   */
  'queue:backlog': {
    alertId: string;
    queue: string;
    kind: 'queue-backlog' | 'queue-latency';
    value: number;
    threshold: number;
    at: EpochMs;
  };
  /**
   * A health threshold was crossed: once per cluster (the state is stored; of two overlapping
   * leaders only one records it), then not again until `alert:resolved`. `alertId` is
   * `<kind>:<queue>`.
   */
  'alert:fired': HealthAlertEvent;
  /** A fired alert's value went back to 80 % of its threshold or below: once per cluster. */
  'alert:resolved': HealthAlertEvent & { firedAt: EpochMs };

  /** The process received a shutdown signal; pools begin a graceful stop. */
  'shutdown:requested': { signal: string; forced: boolean; graceMs: number; at: EpochMs };

  // -- Schedules (the leader's scheduler; see docs/schedules.md). One block. -------------------
  /**
   * A schedule's tick came and its job is due: the job enqueued ahead for it (or, with overlap
   * `skip`, enqueued now). Once per tick in the whole cluster, in the leader's process. `late`:
   * the tick was handled more than the schedule's grace after it (a run-once catch-up).
   */
  'schedule:fired': ScheduleEventBase & {
    tick: EpochMs;
    jobId: string;
    runAt: EpochMs;
    late: boolean;
    at: EpochMs;
  };
  /**
   * Ticks passed while no leader could handle them (the cluster was down) and the missed-run
   * policy does not run them: `count` ticks from `firstTick` to `lastTick`. A job enqueued ahead
   * for the first of them was cancelled if it had not started (`skip`).
   */
  'schedule:missed': ScheduleEventBase & {
    count: number;
    firstTick: EpochMs;
    lastTick: EpochMs;
    policy: 'skip' | 'run-once' | 'backfill';
    at: EpochMs;
  };
  /**
   * A tick did not run because another job of the schedule holds its one slot (overlap `skip`):
   * the previous job, still pending or running, or — when several ticks came due at once, after
   * an outage — the latest tick's job, which runs instead. `activeJobId` names that job.
   */
  'schedule:skipped': ScheduleEventBase & {
    tick: EpochMs;
    reason: 'overlap';
    activeJobId: string | null;
    at: EpochMs;
  };
  /** Missed ticks were enqueued by the `backfill` policy (within its window and count cap). */
  'schedule:backfilled': ScheduleEventBase & { ticks: EpochMs[]; jobIds: string[]; at: EpochMs };
}

/** Fields every schedule event carries. */
export interface ScheduleEventBase {
  scheduleId: string;
  task: string;
  queue: string;
}

/** Any event name. */
export type JobwireEventName = keyof JobwireEvents;

/** A listener for event `K`. */
export type JobwireListener<K extends JobwireEventName> = (event: JobwireEvents[K]) => unknown;

/** A listener that receives every event with its name. */
export type AnyEventListener = <K extends JobwireEventName>(name: K, event: JobwireEvents[K]) => unknown;

/** Typed in-process event bus with safe emission. */
export class EventBus {
  readonly #listeners = new Map<string, Set<(event: never) => unknown>>();
  /** Per event name, each `once` listener → the wrapper registered for it (so `off` finds it). */
  readonly #onceWrappers = new Map<string, Map<unknown, (event: never) => unknown>>();
  readonly #anyListeners = new Set<AnyEventListener>();
  readonly #onListenerError: (error: unknown, eventName: string) => void;

  constructor(onListenerError?: (error: unknown, eventName: string) => void) {
    this.#onListenerError =
      onListenerError ??
      ((error, name) => {
        // Last resort: the listener's owner should see it, but the emitter must not.
        console.error(`[jobwire] a listener for "${name}" threw:`, error);
      });
  }

  /** Listen to one event. Returns a function that removes the listener. */
  on<K extends JobwireEventName>(name: K, listener: JobwireListener<K>): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as (event: never) => unknown);
    return () => this.off(name, listener);
  }

  /** Listen to the next occurrence of one event only. */
  once<K extends JobwireEventName>(name: K, listener: JobwireListener<K>): () => void {
    let wrappers = this.#onceWrappers.get(name);
    if (!wrappers) {
      wrappers = new Map();
      this.#onceWrappers.set(name, wrappers);
    }
    const wrapper: JobwireListener<K> = (event) => {
      off();
      return listener(event);
    };
    wrappers.set(listener, wrapper as (event: never) => unknown);
    const removeWrapper = this.on(name, wrapper);
    const off = () => {
      removeWrapper();
      if (wrappers.get(listener) === wrapper) wrappers.delete(listener);
    };
    return off;
  }

  /** Remove a listener added with `on` or `once`. */
  off<K extends JobwireEventName>(name: K, listener: JobwireListener<K>): void {
    const set = this.#listeners.get(name);
    set?.delete(listener as (event: never) => unknown);
    // A `once` listener is registered as its wrapper: before, `off` left it in place.
    const wrapper = this.#onceWrappers.get(name)?.get(listener);
    if (wrapper) {
      set?.delete(wrapper);
      this.#onceWrappers.get(name)?.delete(listener);
    }
  }

  /** Listen to every event (for sinks, logs, the CLI). Returns a function that removes it. */
  onAny(listener: AnyEventListener): () => void {
    this.#anyListeners.add(listener);
    return () => this.#anyListeners.delete(listener);
  }

  /** True when someone listens to `name` — lets hot paths skip building payloads. */
  has(name: JobwireEventName): boolean {
    return this.#anyListeners.size > 0 || (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  /** Deliver an event to its listeners; never throws. */
  emit<K extends JobwireEventName>(name: K, event: JobwireEvents[K]): void {
    const set = this.#listeners.get(name);
    if (set) {
      for (const listener of set) this.#call(name, () => (listener as JobwireListener<K>)(event));
    }
    for (const listener of this.#anyListeners) this.#call(name, () => listener(name, event));
  }

  #call(name: string, fn: () => unknown): void {
    try {
      const returned = fn();
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        (returned as Promise<unknown>).then(undefined, (error) => this.#reportListenerError(error, name));
      }
    } catch (error) {
      this.#reportListenerError(error, name);
    }
  }

  #reportListenerError(error: unknown, name: string): void {
    try {
      this.#onListenerError(error, name);
    } catch {
      // The error reporter itself failed; there is nowhere left to report to.
    }
  }
}
