/**
 * Glossary (the same words are used in code, docs and events):
 *
 * - **task**: a named handler (`"send-email"`), registered in code. A job names its task.
 * - **job**: one unit of work: task, JSON payload, options, state, attempts, timestamps.
 * - **queue**: a named lane jobs wait in; pools choose which queues they serve.
 * - **pool**: the runner inside one process; it claims jobs and runs them with N workers.
 * - **worker**: one slot of a pool that runs one job at a time.
 * - **attempt**: one execution of a job.
 * - **lease**: a worker's time-limited claim on a running job, kept alive by heartbeats and
 *   checked by a fencing token (`leaseToken`) on every write.
 */

/**
 * Where a job is in its life.
 *
 * `scheduled` (run at a future time, or waiting out a retry delay) → `pending` → `running` →
 * `completed`. A failed attempt returns to `scheduled` while attempts remain, else the job is
 * `abandoned` (the dead-letter state: kept, inspectable, retryable by hand). `cancelled` is final
 * unless retried by hand. `blocked`: the job waits for its dependencies (`dependsOn`) and becomes
 * `pending` (or `scheduled`) in the write that completes the last of them.
 */
export type JobState =
  | 'blocked'
  | 'scheduled'
  | 'pending'
  | 'running'
  | 'completed'
  | 'abandoned'
  | 'cancelled';

/** Every job state, in life order. */
export const JOB_STATES: readonly JobState[] = [
  'blocked',
  'scheduled',
  'pending',
  'running',
  'completed',
  'abandoned',
  'cancelled',
];

/**
 * States a job can still leave without a person acting. (`blocked` is not among them: it leaves
 * only when its dependencies do, and is listed on its own.)
 */
export const ACTIVE_STATES: readonly JobState[] = ['scheduled', 'pending', 'running'];

/** States from which no worker will pick the job up again unless it is retried by hand. */
export const FINAL_STATES: readonly JobState[] = ['completed', 'abandoned', 'cancelled'];

/** Milliseconds since the Unix epoch. */
export type EpochMs = number;

/** A source of time. Inject one in tests to move time forward without sleeping. */
export interface Clock {
  now(): EpochMs;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * How long to wait before the next attempt after a failure.
 *
 * - `exponential` (the default): `baseMs * 2^(attempt-1)` capped at `maxMs`; with `jitter` the
 *   delay is drawn uniformly from [50 %, 100 %] of that, so a burst of failures does not retry in
 *   lock step.
 * - `fixed`: always `delayMs`.
 */
export type BackoffSpec =
  | { type: 'exponential'; baseMs?: number; maxMs?: number; jitter?: boolean }
  | { type: 'fixed'; delayMs: number };

/** A custom backoff: the delay in ms before attempt `attempt + 1`, given the failure. */
export type BackoffFunction = (attempt: number, error: StoredError) => number;

/** A failure as it is stored with the job and carried by events. Message and stack are capped. */
export interface StoredError {
  /** The error's class name (`Error`, `TypeError`, `TimeoutError`, …) or the thrown value's type. */
  name: string;
  message: string;
  stack?: string;
  /** The attempt that failed. */
  attempt: number;
  /** When it failed. */
  at: EpochMs;
  /**
   * True for an interruption: the attempt ended without its handler deciding (its lease expired,
   * or a shutdown cut it off). It did not use up an attempt — the same attempt number runs again —
   * and counts against the job's interruption budget instead (`maxInterruptions`).
   */
  interrupted?: true;
}

/** A job as stored. Payload and result are the decoded JSON values. */
export interface JobRecord<Payload = unknown, Result = unknown> {
  /** Unique id (a decimal integer in a string, so it survives any database's integer range). */
  id: string;
  task: string;
  queue: string;
  payload: Payload;
  state: JobState;
  /** Larger runs first among jobs that are due in the same queue. Default 0. */
  priority: number;
  /**
   * Number of attempts counted so far (0 before the first run). An interrupted attempt gives its
   * number back, so the next run has the same number; see `interruptions`.
   */
  attempt: number;
  maxAttempts: number;
  /**
   * Attempts that ended without their handler deciding: the lease expired (the process died or
   * froze) or a shutdown cut the attempt off. They do not use up `maxAttempts`; a job interrupted
   * `maxInterruptions` times is abandoned.
   */
  interruptions: number;
  /** When the job becomes (or became) due. */
  runAt: Date;
  createdAt: Date;
  /** When the latest attempt started. */
  startedAt: Date | null;
  /** When the job reached `completed`, `abandoned` or `cancelled`. */
  finishedAt: Date | null;
  /** The running attempt's lease expiry. */
  leaseExpiresAt: Date | null;
  /**
   * Id of the pool holding the lease while running (its worker slots are `<poolId>/<index>`,
   * the `workerId` of events and of the handler's context).
   */
  poolId: string | null;
  result: Result | null;
  /** Every failed attempt's error, oldest first. */
  errors: StoredError[];
  /** The latest progress a running or finished job reported. */
  progress: unknown;
  uniqueKey: string | null;
  /**
   * The deduplication rule the job was enqueued with (`unique` with finished states, `throttle`,
   * `debounce`); null for none and for a plain `uniqueKey`.
   */
  dedup: DedupRule | null;
  /** The flow-control key whose limits apply to this job (docs/flow-control.md), or null. */
  concurrencyKey: string | null;
  correlationId: string;
  metadata: Record<string, unknown>;
  /** Per-attempt time limit in ms, or null for none. */
  timeoutMs: number | null;
  backoff: BackoffSpec | null;
}

/** A job's deduplication rule as stored with it and as `JobRecord.dedup` shows it. */
export type DedupRule =
  | {
      rule: 'unique';
      key: string;
      /** The active states and any finished ones the rule adds. */
      states: JobState[];
      /** How long after finishing a job in a finished state still matches (null: while it is kept). */
      forMs: number | null;
    }
  | { rule: 'throttle'; key: string; windowMs: number }
  | { rule: 'debounce'; key: string; windowMs: number; maxWaitMs: number | null };

/** A named lane jobs wait in, with its live counts. */
export interface QueueInfo {
  name: string;
  paused: boolean;
  counts: Record<JobState, number>;
}

/**
 * How far one count of `queueCounts` can be trusted: `exact`; `atLeast` (the read stopped at the
 * cap: the true count is this or more); `estimate` (from planner statistics or a sample of rows:
 * it may be above or below the true count). See docs/counts.md.
 */
export type CountPrecision = 'exact' | 'atLeast' | 'estimate';

/** A queue's counts from `queueCounts`: each exact up to the cap, otherwise flagged. */
export interface QueueCounts extends QueueInfo {
  /** How each of `counts` was obtained. */
  precision: Record<JobState, CountPrecision>;
}
