/**
 * One named parameter type per driver method (`JobClaimParams` for `jobClaim`, …), shared by
 * every driver so each implements the same signatures.
 */
import type { EpochMs, JobState } from '../core/types.js';
import type { RetriedJob } from './dependencies.js';
import type { LogBuilder, LogEntry } from './event-log.js';
import type {
  CancelledJob,
  DeletedJob,
  FinalizeItem,
  JobFilter,
  JobInsertParams,
  JobInsertResult,
  Lease,
  PoolRegistration,
  QueueLimitExceeded,
  ReleaseLease,
  RescuedJob,
  ScheduleState,
  ScheduleWritten,
  StoredAlert,
} from './records.js';

/** Parameters of `Driver.jobCancel`. */
export interface JobCancelParams {
  ids: readonly string[];
  /** The events to store in the durable log with the change (absent: store none). */
  log?: LogBuilder<CancelledJob[]>;
  now?: EpochMs;
}

/** Parameters of `Driver.jobClaim`. */
export interface JobClaimParams {
  queues: readonly string[];
  limit: number;
  leaseMs: number;
  /** The claiming pool, stored as the job's `poolId` while it runs. */
  poolId: string;
  /**
   * Store a `job:started` event per claimed job in the durable log, with the claim, and the
   * flow-control holds it began or ended (`flow:held`, `flow:unheld`).
   */
  log?: boolean;
  /**
   * Called once the claim committed with the `flow:held` / `flow:unheld` entries it wrote (only
   * when there are some), whether or not `log` stored them: the claiming process emits them.
   */
  onFlowEvents?: (entries: readonly LogEntry[]) => void;
  /**
   * Leave out jobs interrupted `SUSPECT_INTERRUPTIONS` times or more (the claiming pool already
   * holds one such job); they stay where they are in the queue for other pools.
   */
  excludeSuspects?: boolean;
  now?: EpochMs;
}

/** Parameters of `Driver.jobCountByState`. */
export interface JobCountByStateParams<S extends JobState = JobState> {
  queues?: readonly string[];
  /**
   * Count only these states (absent or empty: all). The answer then holds only them: drivers
   * count unfinished states through their partial indexes, not by reading every finished job.
   */
  states?: readonly S[];
}

/** Parameters of `Driver.jobDelete`. */
export interface JobDeleteParams {
  ids: readonly string[];
  /** The events to store in the durable log with the change (absent: store none). */
  log?: LogBuilder<DeletedJob[]>;
  now?: EpochMs;
}

/** Parameters of `Driver.jobDependencies`. */
export interface JobDependenciesParams {
  id: string;
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
  /** Store a `job:queued` event per inserted job (not per duplicate) in the durable log. */
  log?: boolean;
  /**
   * With `executor`: a token the driver announces on `CHANNELS.committed` when the caller's
   * transaction commits (and never when it rolls back), so the client reports committed jobs only.
   */
  commitToken?: string;
  /**
   * Start the job at once for a pool of this process (see DirectStart); only for a batch of one
   * job, outside a caller's transaction.
   */
  start?: DirectStart;
  now?: EpochMs;
}

/**
 * A pool of the inserting process has a free slot for the job being inserted. The driver stores
 * the job already started for that pool — as if it had been claimed the moment it committed,
 * lease and `job:started` included (the log holds `job:queued`, as pending, then `job:started`) —
 * when a claim by that pool would take it first: the job is unkeyed, due now, without rule or
 * dependencies; its queue is not paused and has no queue-wide flow rule; and none of the pool's
 * unpaused queues holds a due unkeyed waiting job of at least its priority. Otherwise the job is
 * inserted as usual and the pool claims it, or another, as it would have.
 */
export interface DirectStart {
  poolId: string;
  leaseMs: number;
  /** The pool's queues: its claim order is checked across them. */
  queues: readonly string[];
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
  /** The events to store in the durable log with the change. */
  log?: LogBuilder<RescuedJob[]>;
  maxInterruptions?: number;
  now?: EpochMs;
}

/** Parameters of `Driver.jobRetry`. */
export interface JobRetryParams {
  ids: readonly string[];
  /** The events to store in the durable log with the change. */
  log?: LogBuilder<RetriedJob[]>;
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
  /** The events to store in the durable log with the change (given whether it changed). */
  log?: LogBuilder<boolean>;
  now?: EpochMs;
}

// -- Pool registry. One block: see Driver.poolUpsert. ------------------------------------------

/** Parameters of `Driver.poolUpsert`. */
export interface PoolUpsertParams {
  pool: PoolRegistration;
  now?: EpochMs;
}

/** Parameters of `Driver.poolRemove`. */
export interface PoolRemoveParams {
  poolId: string;
}

/** Parameters of `Driver.poolReapStale`. */
export interface PoolReapStaleParams {
  /**
   * A row is stale once it has not been refreshed for more than this many of its own heartbeat
   * periods (each row stores its `heartbeatMs`, so pools with slow heartbeats are not reaped early).
   */
  missedHeartbeats: number;
  now?: EpochMs;
}

// -- Queue health (statistics and the leader's alert state). One block. ------------------------

/** Parameters of `Driver.queueCounts`. */
export interface QueueCountsParams {
  /**
   * The cap: no read goes past `exactUpTo` + 1 jobs of a state (or a queue's waiting jobs). An
   * integer from 1 to MAX_EXACT_UP_TO.
   */
  exactUpTo: number;
}

/** Parameters of `Driver.queueStats`. */
export interface QueueStatsParams {
  /** The window of the finished/failed counts: (now − windowMs, now]. An integer >= 1. */
  windowMs: number;
  /**
   * The cap of the waiting counts: each queue's waiting jobs are read up to `exactUpTo + 1`, and
   * counts past it are flagged `atLeast`. An integer from 1 to MAX_EXACT_UP_TO.
   */
  exactUpTo: number;
  now?: EpochMs;
}

/** Parameters of `Driver.alertFire`. */
export interface AlertFireParams {
  alert: StoredAlert;
  /** The events to store in the durable log when this call stored the alert. */
  log?: LogBuilder<boolean>;
}

/** Parameters of `Driver.alertResolve`. */
export interface AlertResolveParams {
  id: string;
  /** The events to store in the durable log when this call removed the alert. */
  log?: LogBuilder<boolean>;
}

// -- Retention (pruning finished jobs). One block: see Driver.jobDeleteFinished. ---------------

/** The states retention and purges delete: jobs no worker will pick up again. */
export type FinishedState = 'completed' | 'abandoned' | 'cancelled';

/** Which finished jobs `jobDeleteFinished` and `jobFinishedCutoff` look at. */
export interface FinishedJobFilter {
  /** Only jobs in these states (each one of `FinishedState`). */
  states: readonly FinishedState[];
  /** Only jobs of these queues (absent: every queue). */
  queues?: readonly string[];
  /** Never jobs of these queues (a rule for "every other queue"). */
  excludeQueues?: readonly string[];
  /** Only jobs of these tasks (absent: every task). */
  tasks?: readonly string[];
}

/** Parameters of `Driver.jobDeleteFinished`. */
export interface JobDeleteFinishedParams extends FinishedJobFilter {
  /** Only jobs that finished strictly before this time (absent: whenever they finished). */
  finishedBefore?: EpochMs;
  /** Most rows deleted by this call (a small batch keeps the hot path moving), an integer >= 1. */
  limit: number;
}

/** Parameters of `Driver.deletedCompletionsPrune`. */
export interface DeletedCompletionsPruneParams {
  /** Delete the counts of the seconds before this time (epoch ms). */
  before: EpochMs;
}

/** Parameters of `Driver.jobFinishedCutoff`. */
export interface JobFinishedCutoffParams extends FinishedJobFilter {
  /** How many of the most recently finished jobs to keep, an integer >= 0. */
  keep: number;
}

// -- Schedules. One block: see Driver.scheduleWrite. ---------------------------------------------

/** Parameters of `Driver.scheduleGet`. */
export interface ScheduleGetParams {
  id: string;
}

/** Parameters of `Driver.scheduleListDue`. */
export interface ScheduleListDueParams {
  /** Schedules not paused whose next tick is at or before this time. */
  now?: EpochMs;
  limit: number;
}

/** Parameters of `Driver.scheduleWrite`. */
export interface ScheduleWriteParams {
  id: string;
  /** The version read before (compare-and-set); null: the schedule must not exist yet. */
  expectedVersion: number | null;
  /** The state to store; null deletes the schedule. */
  state: ScheduleState | null;
  /** Jobs to insert in the same transaction, through the driver's own insert path. */
  jobs: readonly JobInsertParams[];
  /** Jobs to cancel in the same transaction if they are still waiting (scheduled or pending). */
  cancelJobIds: readonly string[];
  /** The events to store in the durable log with the write, when it applies. */
  log?: LogBuilder<ScheduleWritten>;
  now?: EpochMs;
}
