/**
 * The storage seam. Core code (client, pool, services) talks to a database only through this
 * interface; each database has one implementation in `src/drivers/<name>/`. It is internal: it
 * may change between minor versions, so applications should use the client API.
 *
 * Conventions (after River's driver): methods are named noun first and kept in alphabetical
 * order; each takes ONE params object; time-dependent methods take an optional `now` (epoch ms)
 * so tests can drive the clock — when it is absent the driver uses the database's own time.
 * Differences between databases are expressed as `capabilities`, never by checking `name`.
 */
import type { BackoffSpec, EpochMs, JobRecord, JobState, QueueInfo, StoredError } from '../core/types.js';

/** What a driver can do; core code branches on these, never on the driver's name. */
export interface DriverCapabilities {
  /** Wake-ups reach other processes (e.g. PostgreSQL LISTEN/NOTIFY). When false, other processes poll. */
  readonly crossProcessNotify: boolean;
  /** Smallest time step the database stores, in ms (1 for both SQLite and PostgreSQL here). */
  readonly timePrecisionMs: number;
  /** Enqueue can join a transaction the caller opened (`executor` param). */
  readonly callerTransactions: boolean;
  /** Several OS processes may use the same database at once. */
  readonly multiProcess: boolean;
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

/** The result of one guarded finalisation. */
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

/** Filters for `jobList` / `jobCount`. */
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

/** The storage driver interface. See the module comment for conventions. */
export interface Driver {
  /** For messages and docs only: never branch on it. */
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  readonly notifier: Notifier;

  /** Release connections and handles. Safe to call twice. */
  close(): Promise<void>;

  /** Cancel jobs that are scheduled, pending or running. Others are left alone. */
  jobCancel(params: { ids: readonly string[]; now?: EpochMs }): Promise<CancelledJob[]>;

  /**
   * Claim up to `limit` due jobs from `queues` (skipping paused queues), highest priority first,
   * then oldest due time, then id. Each claimed job becomes `running` with attempt + 1, a new
   * fencing token and a lease that expires `leaseMs` from now.
   */
  jobClaim(params: {
    queues: readonly string[];
    limit: number;
    leaseMs: number;
    poolId: string;
    now?: EpochMs;
  }): Promise<ClaimedJob[]>;

  /** Job counts by state, optionally for some queues only. */
  jobCountByState(params: { queues?: readonly string[] }): Promise<Record<JobState, number>>;

  /** Delete jobs in any state (a running job's worker is fenced off). Returns the deleted ids. */
  jobDelete(params: { ids: readonly string[] }): Promise<string[]>;

  /**
   * Write the outcome of many attempts at once, each only if the job is still `running` under
   * the given fencing token. Results are in input order. A completion repeated under the same
   * token on a job that is already `completed` — a retried write whose first reply was lost —
   * is reported applied without writing again (only that token's holder can complete a job:
   * rescue, cancel and retry never do), so the worker reports the completion it really made.
   */
  jobFinalizeMany(params: { items: readonly FinalizeItem[]; now?: EpochMs }): Promise<FinalizeResult[]>;

  /** One job, or undefined. */
  jobGet(params: { id: string }): Promise<JobRecord | undefined>;

  /**
   * Extend leases (and store the latest progress) of running jobs. Returns the ids whose lease
   * was no longer held: their workers must stop.
   */
  jobHeartbeatMany(params: {
    leases: readonly (Lease & { progressJson?: string })[];
    leaseMs: number;
    now?: EpochMs;
  }): Promise<string[]>;

  /**
   * Insert jobs atomically: all or none. A job whose unique key matches an active job is not
   * inserted; its result names the existing job. When `maxPendingByQueue` limits a queue that
   * this batch would overfill, nothing is inserted and the offending queue is returned.
   * `executor` is a driver-specific handle of a transaction the caller opened.
   */
  jobInsertMany(params: {
    jobs: readonly JobInsertParams[];
    maxPendingByQueue?: ReadonlyMap<string, number>;
    executor?: unknown;
    now?: EpochMs;
  }): Promise<{ inserted: JobInsertResult[] } | { queueFull: QueueLimitExceeded }>;

  /** A page of jobs matching `filter`, newest first, paginated with an opaque cursor. */
  jobList(params: JobFilter & { limit: number; before?: string | null }): Promise<JobPage>;

  /** Store the latest progress of a running job, fenced like every write. False when fenced off. */
  jobProgress(params: Lease & { progressJson: string }): Promise<boolean>;

  /**
   * Give leased jobs back without counting the attempt (pool shutdown): they become `pending`
   * with the attempt number given back and their due time (`run_at`) unchanged, so they keep
   * their place in the queue. A lease with an `interruption` also counts an interruption and
   * records the error; when that makes `maxInterruptions` (default DEFAULT_MAX_INTERRUPTIONS)
   * the job is `abandoned` instead (the caller can tell from `ClaimedJob.interruptions`). Fenced
   * like every write. Returns the ids written (released or abandoned), in input order.
   */
  jobRelease(params: {
    leases: readonly ReleaseLease[];
    maxInterruptions?: number;
    now?: EpochMs;
  }): Promise<string[]>;

  /**
   * Re-queue running jobs whose lease expired (their worker died or hung). This is an
   * interruption, not a failure: the attempt number is given back, `interruptions` grows by one,
   * a `LeaseExpiredError` marked `interrupted` is appended, and the job becomes `pending` with
   * its due time unchanged (ahead of jobs enqueued after it) — or `abandoned` once it has been
   * interrupted `maxInterruptions` times (default DEFAULT_MAX_INTERRUPTIONS).
   */
  jobRescueExpired(params: {
    limit: number;
    maxInterruptions?: number;
    now?: EpochMs;
  }): Promise<RescuedJob[]>;

  /**
   * Make `abandoned`, `cancelled` or `completed` jobs `pending` again with a fresh set of attempts
   * and a fresh interruption budget (`attempt` and `interruptions` back to 0).
   * Returns the jobs retried.
   */
  jobRetry(params: { ids: readonly string[]; now?: EpochMs }): Promise<JobRecord[]>;

  /**
   * Try to become (or stay) leader of `name` for `ttlMs`. True when `ownerId` holds the
   * leadership after the call. Used to run maintenance in one process only.
   */
  leaderAttemptElect(params: {
    name: string;
    ownerId: string;
    ttlMs: number;
    now?: EpochMs;
  }): Promise<boolean>;

  /** Give up leadership if held. */
  leaderResign(params: { name: string; ownerId: string }): Promise<void>;

  /** Apply pending schema migrations; refuse a schema newer than this code. Safe to run concurrently. */
  migrate(): Promise<MigrationResult>;

  /** Every queue that has jobs or has been paused, with counts. */
  queueList(): Promise<QueueInfo[]>;

  /** Stop pools from claiming from a queue (enqueue still works). True if it was running. */
  queuePause(params: { name: string; now?: EpochMs }): Promise<boolean>;

  /** Let pools claim from a queue again. True if it was paused. */
  queueResume(params: { name: string; now?: EpochMs }): Promise<boolean>;

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

/** Builds a fresh, migrated-or-not driver; used by the conformance suite and tests. */
export type DriverFactory = () => Promise<Driver>;
