/**
 * The storage seam. Core code (client, pool, services) talks to a database only through this
 * interface; each database has one implementation in `src/drivers/<name>/`, made reachable by
 * URL scheme with one `registerDriver` call (`registry.ts`). It is internal: it may change
 * between minor versions, so applications should use the client API.
 *
 * Conventions (after River's driver): methods are named noun first and kept in alphabetical
 * order; each takes ONE params object of a named type (`JobClaimParams` for `jobClaim`, …), so
 * every driver implements the same signatures; time-dependent methods take an optional `now` (epoch ms)
 * so tests can drive the clock — when it is absent the driver uses the database's own time.
 * Differences between databases are expressed as `capabilities`, never by checking `name`.
 */
import type { EpochMs, JobRecord, JobState, QueueCounts, QueueInfo } from '../core/types.js';
import type { JobDependencies, RetriedJob } from './dependencies.js';
import type {
  EventAppendParams,
  EventListForJobParams,
  EventPruneParams,
  EventReadParams,
  EventReadResult,
  EventSubscriptionAdvanceParams,
  EventSubscriptionParams,
  StoredLogEvent,
} from './event-log.js';
import type { FlowRuleRecord, FlowRuleRemoveParams, FlowRuleSetParams } from './flow.js';
import type {
  AlertFireParams,
  AlertResolveParams,
  DeletedCompletionsPruneParams,
  JobCancelParams,
  JobClaimParams,
  JobCountByStateParams,
  JobDeleteFinishedParams,
  JobDeleteParams,
  JobDependenciesParams,
  JobFinalizeManyParams,
  JobFinishedCutoffParams,
  JobGetParams,
  JobHeartbeatManyParams,
  JobInsertManyParams,
  JobInsertManyResult,
  JobListParams,
  JobReleaseParams,
  JobRescueExpiredParams,
  JobRetryParams,
  LeaderElectParams,
  LeaderResignParams,
  PoolReapStaleParams,
  PoolRemoveParams,
  PoolUpsertParams,
  QueueCountsParams,
  QueueStateParams,
  QueueStatsParams,
  ScheduleGetParams,
  ScheduleListDueParams,
  ScheduleWriteParams,
} from './params.js';
import type {
  CancelledJob,
  ClaimedJob,
  DeletedJob,
  FinalizeResult,
  JobPage,
  MigrationResult,
  PoolRecord,
  QueueStats,
  RescuedJob,
  ScheduleRecord,
  ScheduleWriteResult,
  SchemaVersion,
  StoredAlert,
  StoredTaskDefaults,
  TaskGetParams,
  TaskUpsertManyParams,
} from './records.js';

export * from './dependencies.js';
export * from './event-log.js';
export * from './flow.js';
export type * from './params.js';
export * from './records.js';

/** What a driver can do; core code branches on these, never on the driver's name. */
export interface DriverCapabilities {
  /** Wake-ups reach other processes (e.g. PostgreSQL LISTEN/NOTIFY). When false, other processes poll. */
  readonly crossProcessNotify: boolean;
  /** Enqueue can join a transaction the caller opened (`executor` param). */
  readonly callerTransactions: boolean;
  /**
   * Statements run synchronously on the calling thread (e.g. better-sqlite3): while one runs,
   * the event loop waits. Background work (the pruner) then keeps each statement short.
   */
  readonly blocksEventLoop: boolean;
}

/** Publish/subscribe for wake-ups. Payloads are short strings (never job payloads). */
export interface Notifier {
  notify(channel: string, payload: string): void;
  /** Subscribe; returns an unsubscribe function. */
  listen(channel: string, listener: (payload: string) => void): () => void;
}

/** Channel names used on the notifier. */
export const CHANNELS = {
  /** A job became due in a queue; the payload is the queue name. */
  jobAvailable: 'jobwire_job_available',
  /** A running job was cancelled; the payload is the job id. */
  jobCancelled: 'jobwire_job_cancelled',
  /** A caller's transaction that enqueued jobs committed; the payload is its `commitToken`. */
  committed: 'jobwire_committed',
  /** Events were stored in the durable log (a hint for tailing readers; may be coalesced). */
  eventsWritten: 'jobwire_events_written',
} as const;

/** The storage driver interface. See the module comment for conventions. */
export interface Driver {
  /** For messages and docs only: never branch on it. */
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  readonly notifier: Notifier;

  /** Release connections and handles. Safe to call twice. */
  close(): Promise<void>;

  // -- The durable event log (see event-log.ts). One block. --------------------------------------
  // Writes that change jobs or queues store their events themselves (their `log` params); these
  // methods add process-local events, read the log, keep subscriptions' cursors and prune.

  /** Store process-local events (workers, pools, progress) as one row in their own transaction. */
  eventAppend(params: EventAppendParams): Promise<void>;

  /** The cursor after the newest committed event: a read after it returns only later events. */
  eventHead(): Promise<string>;

  /** One job's events, oldest first (at most `limit`). */
  eventListForJob(params: EventListForJobParams): Promise<StoredLogEvent[]>;

  /**
   * Remove the oldest events: written before `before`, or beyond `maxRows` rows. Whole rows, in
   * log order, at most `limit` per call; returns how many rows went. A cursor pointing into what
   * was removed is refused by `eventRead` with `EventCursorExpiredError`.
   */
  eventPrune(params: EventPruneParams): Promise<number>;

  /**
   * Committed events after `after` in commit order (never one twice, never a gap), filtered,
   * at most `limit`. Throws `EventCursorExpiredError` when events after the cursor were pruned,
   * and `InvalidOptionError` for a cursor this driver did not make.
   */
  eventRead(params: EventReadParams): Promise<EventReadResult>;

  /**
   * Store a subscription's new cursor if the stored one is still `from` (null: none stored),
   * committing `work` with it. False when another consumer moved the cursor first (nothing of
   * `work` is kept where the driver ran it in the transaction).
   */
  eventSubscriptionAdvance(params: EventSubscriptionAdvanceParams): Promise<boolean>;

  /** Forget a subscription's stored cursor. True if there was one. */
  eventSubscriptionDelete(params: EventSubscriptionParams): Promise<boolean>;

  /** A subscription's stored cursor, or null when it has none yet. */
  eventSubscriptionGet(params: EventSubscriptionParams): Promise<string | null>;

  // -- Flow control (docs/flow-control.md). One block: see flow.ts. -----------------------------
  // Claims enforce the rules: a key's (or queue's) running jobs are its slots, so every write
  // that moves a job out of `running` frees its slot in that same fenced write.

  /** Every stored rule, sorted by queue, then key (the queue-wide rule first). */
  flowRuleList(): Promise<FlowRuleRecord[]>;

  /** Remove one rule (key null: the queue-wide one). True if there was one. */
  flowRuleRemove(params: FlowRuleRemoveParams): Promise<boolean>;

  /**
   * Insert or replace rules (by queue and key) in one transaction; an unchanged rule writes
   * nothing, so every process may set its rules at start. Bad input is refused with
   * `InvalidOptionError` naming the field, and nothing is stored.
   */
  flowRuleSet(params: FlowRuleSetParams): Promise<void>;

  /** Cancel jobs that are scheduled, pending or running. Others are left alone. */
  jobCancel(params: JobCancelParams): Promise<CancelledJob[]>;

  /**
   * Claim up to `limit` due jobs from `queues` (skipping paused queues), highest priority first,
   * then oldest due time, then id. Each claimed job becomes `running` with attempt + 1, a new
   * fencing token and a lease that expires `leaseMs` from now.
   */
  jobClaim(params: JobClaimParams): Promise<ClaimedJob[]>;

  /** Job counts by state, optionally for some queues only; with `states`, of those states only. */
  jobCountByState<S extends JobState = JobState>(
    params: JobCountByStateParams<S>,
  ): Promise<Record<S, number>>;

  /**
   * Delete jobs in any state (a running job's worker is fenced off). Returns the deleted jobs as
   * they were, in input order (unknown ids are left out). The edges of deleted dependents go with
   * them; a deleted dependency's waiting edges get their policy as if it had been cancelled (see
   * dependencies.ts), returned as its `dependents`; the entries `log` makes of the result are
   * stored in the same transaction.
   */
  jobDelete(params: JobDeleteParams): Promise<DeletedJob[]>;

  /** One job's edges: the jobs it depends on and the jobs depending on it, each sorted by id. */
  jobDependencies(params: JobDependenciesParams): Promise<JobDependencies>;

  /**
   * Write the outcome of many attempts at once, each only if the job is still `running` under
   * the given fencing token. Results are in input order. A completion repeated under the same
   * token on a job that is already `completed` — a retried write whose first reply was lost —
   * is reported applied without writing again (only that token's holder can complete a job:
   * rescue, cancel and retry never do), so the worker reports the completion it really made.
   */
  jobFinalizeMany(params: JobFinalizeManyParams): Promise<FinalizeResult[]>;

  /** One job, or undefined. */
  jobGet(params: JobGetParams): Promise<JobRecord | undefined>;

  /**
   * Extend leases of running jobs and store their latest progress (the only way progress reaches
   * storage; a lease without `progressJson` keeps the stored progress). Fenced like every write:
   * a stale token neither extends nor writes. Returns the ids whose lease was no longer held:
   * their workers must stop.
   */
  jobHeartbeatMany(params: JobHeartbeatManyParams): Promise<string[]>;

  /**
   * Insert jobs atomically: all or none. A job whose unique key matches an active job is not
   * inserted; its result names the existing job. When `maxPendingByQueue` limits a queue that
   * this batch would overfill, nothing is inserted and the offending queue is returned.
   * `executor` is a driver-specific handle of a transaction the caller opened.
   */
  jobInsertMany(params: JobInsertManyParams): Promise<JobInsertManyResult>;

  /**
   * A page of jobs matching the filter, newest first, paginated with an opaque cursor. Each call
   * reads at most JOB_LIST_SCAN_CAP jobs below the cursor, so a page can be short, even empty,
   * and still have a `nextCursor`: only a null cursor means nothing older matches (see JobPage).
   */
  jobList(params: JobListParams): Promise<JobPage>;

  /**
   * Give leased jobs back without counting the attempt (pool shutdown): they become `pending`
   * with the attempt number given back and their due time (`run_at`) unchanged, so they keep
   * their place in the queue. A lease with an `interruption` also counts an interruption and
   * records the error; when that makes `maxInterruptions` (default DEFAULT_MAX_INTERRUPTIONS)
   * the job is `abandoned` instead (the caller can tell from `ClaimedJob.interruptions`). Fenced
   * like every write. Returns the ids written (released or abandoned), in input order.
   */
  jobRelease(params: JobReleaseParams): Promise<string[]>;

  /**
   * Re-queue running jobs whose lease expired (their worker died or hung). This is an
   * interruption, not a failure: the attempt number is given back, `interruptions` grows by one,
   * a `LeaseExpiredError` marked `interrupted` is appended (its message from
   * `leaseExpiredMessage`), and the job becomes `pending` with its due time unchanged (ahead of
   * jobs enqueued after it) — or `abandoned` once it has been interrupted `maxInterruptions`
   * times (default DEFAULT_MAX_INTERRUPTIONS).
   */
  jobRescueExpired(params: JobRescueExpiredParams): Promise<RescuedJob[]>;

  /**
   * Make `abandoned`, `cancelled` or `completed` jobs `pending` again with a fresh set of attempts
   * and a fresh interruption budget (`attempt` and `interruptions` back to 0). A job whose
   * dependencies have not all completed goes back to `blocked` instead, its edges recomputed from
   * its dependencies' states (`edgeAfterRetry`), in the order `retryWave` gives; a job with a
   * `cancel` edge to an abandoned or cancelled dependency that is not retried too is left as it is.
   * Returns the jobs retried (`blockedOn`/`stuckOn` for those put back blocked).
   */
  jobRetry(params: JobRetryParams): Promise<RetriedJob[]>;

  /**
   * Try to become (or stay) leader of `name` for `ttlMs`. True when `ownerId` holds the
   * leadership after the call. Used to run maintenance in one process only.
   */
  leaderAttemptElect(params: LeaderElectParams): Promise<boolean>;

  /** Give up leadership if held. */
  leaderResign(params: LeaderResignParams): Promise<void>;

  /** Apply pending schema migrations; refuse a schema newer than this code. Safe to run concurrently. */
  migrate(): Promise<MigrationResult>;

  /**
   * The schema version stored in the database (0 before the first migration) and the latest this
   * code knows, read without migrating or taking a write lock (readiness probes call it often).
   */
  schemaVersion(): Promise<SchemaVersion>;

  // -- Pool registry (who is working, across processes). One block. -----------------------------

  /** Every registered pool, oldest start first (then by id). */
  poolList(): Promise<PoolRecord[]>;

  /**
   * Remove rows not refreshed for more than `missedHeartbeats` of their own heartbeat periods
   * and return them as they were. Atomic: two callers never both get the same row.
   */
  poolReapStale(params: PoolReapStaleParams): Promise<PoolRecord[]>;

  /** Remove a pool's row (its pool stopped). True if there was one. */
  poolRemove(params: PoolRemoveParams): Promise<boolean>;

  /**
   * Insert or refresh a pool's row (its registry heartbeat): every field is overwritten and
   * `lastSeenAt` becomes `now`. Bad input is refused with `InvalidOptionError` naming the field.
   */
  poolUpsert(params: PoolUpsertParams): Promise<void>;

  /**
   * Counts by queue and state at a cost bounded by `exactUpTo`, whatever the table's size: each
   * read goes through an index and stops after `exactUpTo` + 1 jobs (see bounded-counts.ts).
   * Every count of a state that holds at most `exactUpTo` jobs in all is `exact`; a queue with
   * more than `exactUpTo` jobs in a state never has that count flagged `exact`. Flagged counts
   * are `atLeast` what the read saw, or an `estimate`. Lists the queues with settings, with
   * waiting jobs, or seen or estimated by a read (a queue holding only old finished jobs may be
   * missing once finished jobs pass the cap).
   */
  queueCounts(params: QueueCountsParams): Promise<QueueCounts[]>;

  /** Every queue that has jobs or has been paused, with counts. */
  queueList(): Promise<QueueInfo[]>;

  /** Stop pools from claiming from a queue (enqueue still works). True if it was running. */
  queuePause(params: QueueStateParams): Promise<boolean>;

  /** Let pools claim from a queue again. True if it was paused. */
  queueResume(params: QueueStateParams): Promise<boolean>;

  // -- Queue health: statistics and the leader's alert state. One block. -----------------------

  /**
   * Record an alert as fired unless one with its id is already stored. True when this call
   * stored it: of two leaders overlapping during a hand-over only one sees true, so an alert is
   * announced once per cluster.
   */
  alertFire(params: AlertFireParams): Promise<boolean>;

  /** The alerts fired and not resolved, sorted by id. */
  alertList(): Promise<StoredAlert[]>;

  /** Remove a fired alert. True when this call removed it (announce the resolution then). */
  alertResolve(params: AlertResolveParams): Promise<boolean>;

  /**
   * Per-queue statistics, sorted by name, for every queue that has active jobs, finished jobs in
   * the window, or a settings row (paused once). Its cost is bounded by what it reports: per
   * queue at most `exactUpTo + 1` waiting jobs (in run-at order, so the oldest due one is the
   * first), the running jobs, the jobs finished in the window (finished-jobs index, by state
   * then finish time), and for failed attempts only the waiting jobs that can hold an error
   * dated in the window (schema 13): never the whole backlog or history.
   */
  queueStats(params: QueueStatsParams): Promise<QueueStats[]>;

  // -- Task contracts (published job defaults). One block: see TaskDefaultsRecord below. --------

  /** The published defaults of one task, or undefined (also for a name no task can have). */
  taskGet(params: TaskGetParams): Promise<StoredTaskDefaults | undefined>;

  /** Every published task's defaults, sorted by name (code-unit order). */
  taskList(): Promise<StoredTaskDefaults[]>;

  /**
   * Publish the defaults of tasks (a worker's registered tasks), writing a row only when it is
   * new or differs, so a fleet of workers starting at once writes each contract once. All or
   * none: a bad record refuses the whole call (`InvalidOptionError` naming the field) and stores
   * nothing. Returns the names written, in input order.
   */
  taskUpsertMany(params: TaskUpsertManyParams): Promise<string[]>;

  // -- Retention (pruning finished jobs). One block. ------------------------------------------

  /**
   * Delete up to `limit` finished jobs (completed, abandoned or cancelled) matching the filter,
   * oldest finish first, through the finished-jobs index (by state, then finish time): it reads
   * only its states' oldest rows, however many jobs of other states the history keeps — one
   * short write however large the history. Active jobs are never touched. Returns how many rows were deleted; a caller
   * repeats while it gets `limit`.
   */
  jobDeleteFinished(params: JobDeleteFinishedParams): Promise<number>;

  /**
   * Delete the per-second counts of completions whose rows were deleted as they completed
   * (`FinalizeItem.deleteAtCompletion`) for the seconds before `before`. Returns how many count
   * rows went. The leader's pruner keeps a day of them: `queueStats` windows up to a day count
   * every deleted completion.
   */
  deletedCompletionsPrune(params: DeletedCompletionsPruneParams): Promise<number>;

  /**
   * The finish time of the newest job beyond the `keep` most recently finished ones matching
   * the filter, or null when there are at most `keep`. Deleting what finished at or before it
   * keeps the newest `keep` (fewer only when several finished in the same millisecond as the
   * `keep`-th newest).
   */
  jobFinishedCutoff(params: JobFinishedCutoffParams): Promise<EpochMs | null>;

  // -- Schedules. One block. ------------------------------------------------------------------

  /** One schedule, or undefined. */
  scheduleGet(params: ScheduleGetParams): Promise<ScheduleRecord | undefined>;

  /** Every schedule, sorted by id (code-unit order). */
  scheduleList(): Promise<ScheduleRecord[]>;

  /** Up to `limit` schedules that are not paused and whose next tick has come, earliest first. */
  scheduleListDue(params: ScheduleListDueParams): Promise<ScheduleRecord[]>;

  /**
   * Write a schedule's state, in ONE transaction with the jobs that state stands for: a
   * compare-and-set on `expectedVersion` (null: create, only if absent), then the cancellation
   * of `cancelJobIds` that are still waiting, the insert of `jobs` through the driver's own
   * insert path (unique keys and notifications as in `jobInsertMany`), and the new state with
   * version + 1 (or the row's deletion). When the version does not match nothing is written, so
   * of two processes advancing the same tick only one inserts its job.
   */
  scheduleWrite(params: ScheduleWriteParams): Promise<ScheduleWriteResult>;
}
