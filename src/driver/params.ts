/**
 * One named parameter type per driver method (`JobClaimParams` for `jobClaim`, …), shared by
 * every driver so each implements the same signatures.
 */
import type { EpochMs, JobRecord } from '../core/types.js';
import type { LogBuilder } from './event-log.js';
import type {
  CancelledJob,
  FinalizeItem,
  JobFilter,
  JobInsertParams,
  JobInsertResult,
  Lease,
  PoolRegistration,
  QueueLimitExceeded,
  ReleaseLease,
  RescuedJob,
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
  /** Store a `job:started` event per claimed job in the durable log, with the claim. */
  log?: boolean;
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
  /** Store a `job:queued` event per inserted job (not per duplicate) in the durable log. */
  log?: boolean;
  /**
   * With `executor`: a token the driver announces on `CHANNELS.committed` when the caller's
   * transaction commits (and never when it rolls back), so the client reports committed jobs only.
   */
  commitToken?: string;
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
  /** The events to store in the durable log with the change. */
  log?: LogBuilder<RescuedJob[]>;
  maxInterruptions?: number;
  now?: EpochMs;
}

/** Parameters of `Driver.jobRetry`. */
export interface JobRetryParams {
  ids: readonly string[];
  /** The events to store in the durable log with the change. */
  log?: LogBuilder<JobRecord[]>;
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

/** Parameters of `Driver.queueStats`. */
export interface QueueStatsParams {
  /** The window of the finished/failed counts: (now − windowMs, now]. An integer >= 1. */
  windowMs: number;
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
