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
import type { BackoffSpec, EpochMs, JobRecord, JobState, QueueInfo, StoredError } from '../core/types.js';

/** What a driver can do; core code branches on these, never on the driver's name. */
export interface DriverCapabilities {
  /** Wake-ups reach other processes (e.g. PostgreSQL LISTEN/NOTIFY). When false, other processes poll. */
  readonly crossProcessNotify: boolean;
  /** Enqueue can join a transaction the caller opened (`executor` param). */
  readonly callerTransactions: boolean;
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
} as const;

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
  correlationId: string;
  metadataJson: string;
  timeoutMs: number | null;
  backoff: BackoffSpec | null;
}

/** The outcome of inserting one job. */
export interface JobInsertResult {
  job: JobRecord;
  /** True when a job with the same unique key was already active; `job` is that job. */
  duplicate: boolean;
}

/** A queue refused an insert batch because it would exceed its limit. */
export interface QueueLimitExceeded {
  queue: string;
  maxPending: number;
  pending: number;
}

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
}

/** A worker's claim on a running job: job id plus fencing token. */
export interface Lease {
  id: string;
  leaseToken: number;
}

/** How an attempt ended, to be written only if the lease still holds. */
export type FinalizeItem = Lease &
  (
    | { outcome: 'completed'; resultJson: string | null }
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
}

/**
 * A lease to give back. With `interruption` the attempt was cut off (a shutdown ran out of
 * grace): the error is appended to the job's history (marked `interrupted`) and the job's
 * interruptions grow by one; without it (a job claimed but never started) nothing is recorded.
 */
export type ReleaseLease = Lease & { interruption?: StoredError };

/** Default of `maxInterruptions` where a caller gives none (see `JobwireOptions.maxInterruptions`). */
export const DEFAULT_MAX_INTERRUPTIONS = 5;

/** A job whose state `jobCancel` changed. */
export interface CancelledJob {
  id: string;
  task: string;
  queue: string;
  correlationId: string;
  previousState: JobState;
  at: EpochMs;
}

/** Filters of `jobList` (each given list narrows the page to jobs matching one of its values). */
export interface JobFilter {
  states?: readonly JobState[];
  queues?: readonly string[];
  tasks?: readonly string[];
}

/** A page of jobs, newest first. */
export interface JobPage {
  jobs: JobRecord[];
  /** Pass as `before` to get the next (older) page; null when this was the last page. */
  nextCursor: string | null;
}

/** Result of `migrate`. */
export interface MigrationResult {
  /** Schema version before and after. */
  from: number;
  to: number;
  applied: number[];
}

// -- method parameters: one named type per driver method, shared by every driver ------------

/** Parameters of `Driver.jobCancel`. */
export interface JobCancelParams {
  ids: readonly string[];
  now?: EpochMs;
}

/** Parameters of `Driver.jobClaim`. */
export interface JobClaimParams {
  queues: readonly string[];
  limit: number;
  leaseMs: number;
  /** The claiming pool, stored as the job's `poolId` while it runs. */
  poolId: string;
  now?: EpochMs;
}

/** Parameters of `Driver.jobCountByState`. */
export interface JobCountByStateParams {
  queues?: readonly string[];
}

/** Parameters of `Driver.jobDelete`. */
export interface JobDeleteParams {
  ids: readonly string[];
}

/** Parameters of `Driver.jobFinalizeMany`. */
export interface JobFinalizeManyParams {
  items: readonly FinalizeItem[];
  now?: EpochMs;
}

/** Parameters of `Driver.jobGet`. */
export interface JobGetParams {
  id: string;
}

/** A lease to extend, with the latest progress (JSON text) when it changed since the last beat. */
export type HeartbeatLease = Lease & { progressJson?: string };

/** Parameters of `Driver.jobHeartbeatMany`. */
export interface JobHeartbeatManyParams {
  leases: readonly HeartbeatLease[];
  leaseMs: number;
  now?: EpochMs;
}

/** Parameters of `Driver.jobInsertMany`. */
export interface JobInsertManyParams {
  jobs: readonly JobInsertParams[];
  /** Per-queue limits of pending jobs this batch must not overfill. */
  maxPendingByQueue?: ReadonlyMap<string, number>;
  /** A driver-specific handle of a transaction the caller opened (see `callerTransactions`). */
  executor?: unknown;
  now?: EpochMs;
}

/** The result of `Driver.jobInsertMany`: every job's outcome, or the queue that refused the batch. */
export type JobInsertManyResult = { inserted: JobInsertResult[] } | { queueFull: QueueLimitExceeded };

/** Parameters of `Driver.jobList`. */
export interface JobListParams extends JobFilter {
  limit: number;
  /** The `nextCursor` of the previous page; absent or null for the first page. */
  before?: string | null;
}

/** Parameters of `Driver.jobRelease`. */
export interface JobReleaseParams {
  leases: readonly ReleaseLease[];
  maxInterruptions?: number;
  now?: EpochMs;
}

/** Parameters of `Driver.jobRescueExpired`. */
export interface JobRescueExpiredParams {
  limit: number;
  maxInterruptions?: number;
  now?: EpochMs;
}

/** Parameters of `Driver.jobRetry`. */
export interface JobRetryParams {
  ids: readonly string[];
  now?: EpochMs;
}

/** Parameters of `Driver.leaderAttemptElect`. */
export interface LeaderElectParams {
  name: string;
  ownerId: string;
  ttlMs: number;
  now?: EpochMs;
}

/** Parameters of `Driver.leaderResign`. */
export interface LeaderResignParams {
  name: string;
  ownerId: string;
}

/** Parameters of `Driver.queuePause` and `Driver.queueResume`. */
export interface QueueStateParams {
  name: string;
  now?: EpochMs;
}

/** The storage driver interface. See the module comment for conventions. */
export interface Driver {
  /** For messages and docs only: never branch on it. */
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  readonly notifier: Notifier;

  /** Release connections and handles. Safe to call twice. */
  close(): Promise<void>;

  /** Cancel jobs that are scheduled, pending or running. Others are left alone. */
  jobCancel(params: JobCancelParams): Promise<CancelledJob[]>;

  /**
   * Claim up to `limit` due jobs from `queues` (skipping paused queues), highest priority first,
   * then oldest due time, then id. Each claimed job becomes `running` with attempt + 1, a new
   * fencing token and a lease that expires `leaseMs` from now.
   */
  jobClaim(params: JobClaimParams): Promise<ClaimedJob[]>;

  /** Job counts by state, optionally for some queues only. */
  jobCountByState(params: JobCountByStateParams): Promise<Record<JobState, number>>;

  /** Delete jobs in any state (a running job's worker is fenced off). Returns the deleted ids. */
  jobDelete(params: JobDeleteParams): Promise<string[]>;

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

  /** A page of jobs matching the filter, newest first, paginated with an opaque cursor. */
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
   * and a fresh interruption budget (`attempt` and `interruptions` back to 0).
   * Returns the jobs retried.
   */
  jobRetry(params: JobRetryParams): Promise<JobRecord[]>;

  /**
   * Try to become (or stay) leader of `name` for `ttlMs`. True when `ownerId` holds the
   * leadership after the call. Used to run maintenance in one process only.
   */
  leaderAttemptElect(params: LeaderElectParams): Promise<boolean>;

  /** Give up leadership if held. */
  leaderResign(params: LeaderResignParams): Promise<void>;

  /** Apply pending schema migrations; refuse a schema newer than this code. Safe to run concurrently. */
  migrate(): Promise<MigrationResult>;

  /** Every queue that has jobs or has been paused, with counts. */
  queueList(): Promise<QueueInfo[]>;

  /** Stop pools from claiming from a queue (enqueue still works). True if it was running. */
  queuePause(params: QueueStateParams): Promise<boolean>;

  /** Let pools claim from a queue again. True if it was paused. */
  queueResume(params: QueueStateParams): Promise<boolean>;

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
