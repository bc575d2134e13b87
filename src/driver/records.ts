/**
 * What crosses the driver seam besides parameters: jobs to insert, claimed jobs, leases and
 * their outcomes, rescued and cancelled jobs, pages, published task defaults. Plain data only.
 */
import type { BackoffSpec, DedupRule, EpochMs, JobRecord, JobState, StoredError } from '../core/types.js';
import type { DependencyInsert, DependentChange } from './dependencies.js';
import type { LogEntry } from './event-log.js';

/** One job to insert. Payload, metadata and result are already JSON-encoded text. */
export interface JobInsertParams {
  task: string;
  queue: string;
  payloadJson: string;
  priority: number;
  maxAttempts: number;
  /** Delay from the database's now; 0 means due immediately. Ignored when `runAt` is set. */
  delayMs: number;
  /** An absolute due time; overrides `delayMs`. */
  runAt: EpochMs | null;
  uniqueKey: string | null;
  /** The flow-control key (docs/flow-control.md); absent or null for jobs without one. */
  concurrencyKey?: string | null;
  correlationId: string;
  metadataJson: string;
  timeoutMs: number | null;
  backoff: BackoffSpec | null;
  /**
   * A deduplication rule (see core/dedup.ts). A `unique` rule's key is also in `uniqueKey`.
   * Absent or null: only `uniqueKey`, if set, applies (active states).
   */
  dedup?: DedupRule | null;
  /** Jobs this one waits for (absent or empty: none); see dependencies.ts. */
  dependsOn?: readonly DependencyInsert[];
}

/** The outcome of inserting one job. */
export interface JobInsertResult {
  job: JobRecord;
  /**
   * True when no job was added: a rule matched an existing job and `job` is that job, as the
   * insert found it (for debounce: after replacing its payload and run time).
   */
  duplicate: boolean;
  /** With `duplicate`: the rule that matched (`unique` also for a plain `uniqueKey`). */
  matchedBy?: 'unique' | 'throttle' | 'debounce';
  /** With a debounce match: the waiting job's due time before this insert moved it. */
  previousRunAt?: EpochMs;
  /** For a job stored `blocked`: the dependencies holding it, by id. */
  blockedOn?: string[];
  /**
   * Those of `blockedOn` that had already ended without completing under the `block` policy:
   * the job is stuck on them from the start (`job:blocked` reason `dependency-failed`).
   */
  stuckOn?: string[];
  /** The job as started for the pool of `JobInsertManyParams.start`, when the driver started it. */
  started?: ClaimedJob;
}

/** A queue refused an insert batch because it would exceed its limit. */
export interface QueueLimitExceeded {
  queue: string;
  maxPending: number;
  /** Jobs waiting (scheduled or pending) in the queue before the refused batch. */
  pending: number;
  /** Waiting jobs the refused batch would have added (its `blocked` jobs do not count). */
  adding: number;
}

/**
 * Interruptions after which a job is a *suspect*: caught in that many crashes (or cut-offs), it may
 * be the job that crashes its process. A pool holds at most one suspect at a time
 * (`JobClaimParams.excludeSuspects`), so two suspects never share a process: the neighbours a
 * poison job took down twice are never placed beside it again, and only the poison itself reaches
 * `maxInterruptions` (3 or more). Fresh and once-interrupted jobs are claimed as usual, so a mass
 * rescue (a killed process's whole batch) is taken back at full speed.
 */
export const SUSPECT_INTERRUPTIONS = 2;

/** A job handed to a worker by `jobClaim`. */
export interface ClaimedJob {
  id: string;
  task: string;
  queue: string;
  payloadJson: string;
  priority: number;
  /** This attempt's number (1 for the first run). */
  attempt: number;
  maxAttempts: number;
  /** Interruptions before this attempt (see `JobRecord.interruptions`). */
  interruptions: number;
  /** The fencing token: every later write for this attempt must present it. */
  leaseToken: number;
  runAt: EpochMs;
  createdAt: EpochMs;
  startedAt: EpochMs;
  correlationId: string;
  metadataJson: string;
  timeoutMs: number | null;
  backoff: BackoffSpec | null;
  /**
   * How many dependency edges named the job when it was claimed, when the driver reports it and
   * it is above 0: a hint for `FinalizeItem.hasDependents` (drivers re-check when finishing).
   */
  dependents?: number;
}

/** A worker's claim on a running job: job id plus fencing token. */
export interface Lease {
  id: string;
  leaseToken: number;
}

/**
 * Events a fenced write stores in the durable log only if it applies (see event-log.ts). In a
 * retry or snoozed item, a `nextRunAt` equal to `RUN_AT_PLACEHOLDER` stands for the due time
 * the driver writes, and the driver stores that time instead.
 */
export interface LoggedItem {
  events?: readonly LogEntry[];
}

/** How an attempt ended, to be written only if the lease still holds. */
export type FinalizeItem = Lease &
  LoggedItem & {
    /** The claim said jobs depend on this one (`ClaimedJob.dependents`): a routing hint only. */
    hasDependents?: true;
    /**
     * The attempt's last progress (JSON text), stored with the outcome, fenced alike: a value the
     * handler reported just before it returned may not have reached a heartbeat yet.
     */
    progressJson?: string;
  } & (
    | {
        outcome: 'completed';
        resultJson: string | null;
        /**
         * Delete the row instead of keeping it `completed` (retention `completed: 'immediately'`),
         * unless jobs depend on it or it has a dedup key (`unique`, `throttle`, `debounce`): those
         * are kept as `completed`. A deleted completion still stores its events and counts in
         * `queueStats`. The result reports `deleted: true`.
         */
        deleteAtCompletion?: true;
      }
    /** Failed with attempts left: back to `scheduled`, due after `delayMs`. */
    | { outcome: 'retry'; error: StoredError; delayMs: number }
    /** Failed for good. */
    | { outcome: 'abandoned'; error: StoredError }
    /** Run again after `delayMs`; this attempt does not count. */
    | { outcome: 'snoozed'; delayMs: number }
  );

/** The result of one guarded finalization. */
export interface FinalizeResult {
  id: string;
  /** False when the fence rejected the write: the lease was lost (rescued, cancelled, deleted). */
  applied: boolean;
  /** The job's new due time, for `retry` and `snoozed` outcomes that were applied. */
  runAt?: EpochMs;
  /** When the write happened (database time). */
  at: EpochMs;
  /** What the write did to jobs depending on this one (absent: nothing). */
  dependents?: DependentChange[];
  /** The completed job's row was deleted (`deleteAtCompletion`) rather than kept. */
  deleted?: true;
}

/** A job whose lease had expired, as the rescue found it. */
export interface RescuedJob {
  id: string;
  task: string;
  queue: string;
  /** The attempt that was interrupted (a re-queued job stores one less: the number is given back). */
  attempt: number;
  maxAttempts: number;
  /** Interruptions including this one. */
  interruptions: number;
  correlationId: string;
  /** The pool that held the expired lease. */
  previousPoolId: string | null;
  leaseExpiredAt: EpochMs;
  /** The `LeaseExpiredError` appended to the job's history, exactly as stored. */
  error: StoredError;
  /** `pending` (due at its old run-at time) while the interruption budget lasts, else `abandoned`. */
  newState: 'pending' | 'abandoned';
  /** What an abandon did to jobs depending on this one (absent: nothing). */
  dependents?: DependentChange[];
}

/**
 * A lease to give back. With `interruption` the attempt was cut off (a shutdown ran out of
 * grace): the error is appended to the job's history (marked `interrupted`) and the job's
 * interruptions grow by one; without it (a job claimed but never started) nothing is recorded.
 */
export type ReleaseLease = Lease & LoggedItem & { interruption?: StoredError };

/** Default of `maxInterruptions` where a caller gives none (see `JobwireOptions.maxInterruptions`). */
export const DEFAULT_MAX_INTERRUPTIONS = 5;

/** A job whose state `jobCancel` changed. */
export interface CancelledJob {
  id: string;
  task: string;
  queue: string;
  correlationId: string;
  /** The job's attempt numbers when it was cancelled. */
  attempt: number;
  maxAttempts: number;
  previousState: JobState;
  at: EpochMs;
  /** What the cancel did to jobs depending on this one (absent: nothing). */
  dependents?: DependentChange[];
}

/**
 * A job `jobDelete` deleted, as it was when deleted: the same fields as a cancel's
 * (`previousState` the state it was in; a running job's worker is fenced off, its outcome
 * dropped; `dependents` what the delete did to jobs depending on it).
 */
export type DeletedJob = CancelledJob;

/** Filters of `jobList` (each given list narrows the page to jobs matching one of its values). */
export interface JobFilter {
  states?: readonly JobState[];
  queues?: readonly string[];
  tasks?: readonly string[];
}

/**
 * How many jobs one `jobList` call reads at most, newest id first below its cursor, whatever the
 * filters. A filter whose matches are old or absent would otherwise walk the whole table for one
 * page (about a second on six million jobs); with the cap every call costs about the same, and
 * the caller pages on with the cursor.
 */
export const JOB_LIST_SCAN_CAP = 10_000;

/**
 * A page of jobs matching the filters, newest first (by id). `jobList` reads the jobs below its
 * cursor newest first and stops at whichever comes first:
 *
 * - `limit + 1` matches: `jobs` holds the first `limit` and `nextCursor` is the last one's id;
 * - JOB_LIST_SCAN_CAP jobs read: `jobs` holds the matches among them (fewer than `limit + 1`,
 *   possibly none) and `nextCursor` is the id of the last job read, matching or not, so the next
 *   call goes on right below it: paging on never skips or repeats a job;
 * - the oldest job: `jobs` holds the matches and `nextCursor` is null.
 *
 * So a short or empty page with a cursor means "no more matches among the jobs read, older jobs
 * may match"; only a null cursor means "nothing older matches". Without filters every job
 * matches, so pages are full until the last. A list of running jobs alone (`states:
 * ['running']`) reads the running jobs themselves, through their index — as many as run at once,
 * whatever the table's size — so its pages are never cut short by the cap.
 */
export interface JobPage {
  jobs: JobRecord[];
  /** Pass as `before` to go on below this page (see JobPage); null when nothing older matches. */
  nextCursor: string | null;
}

/** Result of `migrate`. */
export interface MigrationResult {
  /** Schema version before and after. */
  from: number;
  to: number;
  applied: number[];
}

/** What `Driver.schemaVersion` reads: the stored version and the one this code migrates to. */
export interface SchemaVersion {
  /** The newest migration recorded in the database; 0 when none is (never migrated). */
  current: number;
  /** The newest migration this code knows. */
  latest: number;
}

/**
 * A task's contract as workers publish it: the job defaults a process without the task's code
 * (a producer service, `jobwire enqueue`) applies when it enqueues the task by name.
 */
export interface TaskDefaultsRecord {
  /** A task name (1–128 letters, digits, `.`, `_`, `-`, `:`). */
  name: string;
  queue: string;
  priority: number;
  maxAttempts: number;
  /** Per-attempt time limit in ms, or null for none. */
  timeoutMs: number | null;
  /** The retry backoff, or null for the default. */
  backoff: BackoffSpec | null;
}

/** A stored contract with the time it last changed. */
export type StoredTaskDefaults = TaskDefaultsRecord & { updatedAt: EpochMs };

/** Params of `taskGet`. */
export interface TaskGetParams {
  name: string;
}

/** Params of `taskUpsertMany`. */
export interface TaskUpsertManyParams {
  /** At most `MAX_TASK_UPSERT` records, names unique within the call. */
  tasks: readonly TaskDefaultsRecord[];
  now?: EpochMs;
}

/** Most records one `taskUpsertMany` call takes. */
export const MAX_TASK_UPSERT = 1000;

// -- Pool registry (who is working, across processes). One block: see Driver.poolUpsert. -------

/** What a running pool writes about itself with every registry heartbeat. */
export interface PoolRegistration {
  /** The pool's id (`PoolOptions.id`): storable text of 1–200 characters. */
  poolId: string;
  host: string;
  pid: number;
  queues: readonly string[];
  /** Worker slots. */
  concurrency: number;
  /** Slots running a job right now. */
  busy: number;
  /** `running`, or `stopping` while the pool drains. */
  state: PoolRunState;
  /** How often the pool refreshes its row, in ms: the reaper's unit of silence. */
  heartbeatMs: number;
  /** The jobwire version the pool runs, or null when unknown. */
  version: string | null;
  /** When the pool started (epoch ms, the pool's clock). */
  startedAt: EpochMs;
}

/** A pool's state as its registry row shows it. */
export type PoolRunState = 'running' | 'stopping';

/** A registry row as read back: the registration with when it was last refreshed. */
export interface PoolRecord extends PoolRegistration {
  queues: string[];
  /** The last heartbeat (database time, or the `now` the pool passed). */
  lastSeenAt: EpochMs;
}

/** Most queues one registry row lists (a pool with more is refused, not truncated). */
export const MAX_POOL_QUEUES = 1000;

// -- Queue health (statistics and the leader's alert state). One block. ------------------------

/**
 * One queue's statistics at `now` (see `Driver.queueStats`). Waiting counts are exact at `now` up
 * to the read's cap (`precision`), the running count is exact; the window counts cover finishes
 * and failures in (now − windowMs, now].
 */
export interface QueueStats {
  queue: string;
  paused: boolean;
  /** Jobs not yet due (state `scheduled`, run-at after now). */
  scheduled: number;
  /** Due jobs waiting for a worker (`pending`, or `scheduled` whose run-at has passed). */
  pending: number;
  running: number;
  /** The earliest run-at among the due waiting jobs (`pending`), or null when there is none. */
  oldestPendingRunAt: EpochMs | null;
  /** Jobs that completed in the window. */
  completed: number;
  /**
   * Attempts whose handler failed in the window: the retried ones and the last ones (stored
   * errors not marked `interrupted`, on jobs still active or finished in the window).
   */
  failedAttempts: number;
  /** Attempts cut off in the window (lease expired, shutdown): stored errors marked `interrupted`. */
  interruptedAttempts: number;
  /** Jobs abandoned in the window (failures, timeouts, the interruption budget used up). */
  abandoned: number;
  /** Jobs cancelled in the window. */
  cancelled: number;
  /**
   * How far `pending` and `scheduled` can be trusted: the waiting jobs of a queue are read up to
   * a cap (`QueueStatsParams.exactUpTo`), so a count is `exact`, or `atLeast` when the read
   * stopped at the cap. An `atLeast` pending count is the cap + 1: more than the cap wait.
   */
  precision: { pending: WaitingCountPrecision; scheduled: WaitingCountPrecision };
}

/** The precision of a `QueueStats` waiting count (no estimates: a bound or the true count). */
export type WaitingCountPrecision = 'exact' | 'atLeast';

/** An alert that fired and has not resolved, as the leader stored it. */
export interface StoredAlert {
  /** `<kind>:<queue>`, e.g. `queue-backlog:mail`. */
  id: string;
  queue: string;
  kind: string;
  /** The value that crossed the threshold, and the threshold. */
  value: number;
  threshold: number;
  firedAt: EpochMs;
}

// -- Schedules. One block: see Driver.scheduleWrite. ---------------------------------------------

/**
 * A schedule as stored. The definition (pattern or interval, zone, task, payload, policies) is
 * the core's JSON, opaque to drivers; the other fields are the schedule's durable state: the
 * tick that fires next (and the job already enqueued for it), and the last tick that fired.
 */
export interface ScheduleRecord {
  id: string;
  definitionJson: string;
  /** +1 on every write: the compare-and-set token of `scheduleWrite`. */
  version: number;
  paused: boolean;
  /** The next tick (epoch ms), or null when paused or ended. */
  nextTickAt: EpochMs | null;
  /** The job enqueued ahead for `nextTickAt`, or null (none enqueued ahead). */
  nextJobId: string | null;
  lastTickAt: EpochMs | null;
  lastJobId: string | null;
  /** When the last tick was handed to its job (the leader's time). */
  lastFiredAt: EpochMs | null;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

/** Which job a schedule field names: one inserted by this write (`index` into `jobs`), or an existing one. */
export type ScheduleJobRef = { index: number } | { id: string } | null;

/** The state a `scheduleWrite` leaves a schedule in. */
export interface ScheduleState {
  definitionJson: string;
  paused: boolean;
  nextTickAt: EpochMs | null;
  nextJob: ScheduleJobRef;
  lastTickAt: EpochMs | null;
  lastJob: ScheduleJobRef;
  lastFiredAt: EpochMs | null;
}

/** The outcome of `scheduleWrite`. */
export type ScheduleWriteResult = ScheduleWritten | { applied: false; current: ScheduleRecord | undefined };

/** A `scheduleWrite` that applied: what it wrote. */
export type ScheduleWritten = {
  applied: true;
  /** The schedule as written, or null when the write deleted it. */
  schedule: ScheduleRecord | null;
  /** Each job of `jobs`, in order (a unique-key duplicate names the job that held the key). */
  inserted: JobInsertResult[];
  /** The jobs of `cancelJobIds` that were still waiting and are now cancelled. */
  cancelled: CancelledJob[];
};
// (`applied: false`: the compare-and-set failed, the schedule's version was not the one expected;
// nothing was written.)
