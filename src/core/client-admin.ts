/**
 * What the client offers to inspect and administer stored work — jobs (get, list, count, retry,
 * cancel, delete, purge), queues (counts, statistics, pause, resume), pools and dependency edges —
 * as the base class of `Jobwire`. Every method goes through the admin services (`JobsApi`, the
 * retention helpers) or one driver read; none starts work, so this part needs no pools, leader
 * or event writers. Kept apart so the client's own file stays about running work.
 */
import type { JobDependencies, PoolRecord, QueueStats } from '../driver/driver.js';
import type {
  BulkResult,
  CountJobsOptions,
  JobFilter,
  JobsApi,
  ListJobsOptions,
  QueueCountsOptions,
} from './jobs-api.js';
import { assertKnownOptions, optionNames } from './known-options.js';
import { jobIdArgument } from './options.js';
import {
  DEFAULT_BATCH_TARGET_MS,
  type DeleteJobsFilter,
  deleteFinishedInBatches,
  resolveDeleteFilter,
} from './retention.js';
import type { Runtime } from './runtime.js';
import type { JobRecord, JobState, QueueCounts, QueueInfo } from './types.js';

/** What the admin methods need from the client, given once its runtime exists. */
export interface AdminContext {
  runtime: Runtime;
  jobs: JobsApi;
  /** Throws ClosedError once the client is closed. */
  assertOpen(): void;
}

/** Inspection and administration of stored jobs and queues; see the module comment. */
export class JobwireAdmin {
  #context: AdminContext | undefined;

  /** Called once by the client's constructor, after it built its runtime. */
  protected attachAdmin(context: AdminContext): void {
    this.#context = context;
  }

  get #admin(): AdminContext {
    // Set by the constructor before it returns: no caller can reach a method earlier.
    return this.#context!;
  }

  /** One job's dependency edges, both ways (what it waits for, what waits for it). */
  async getJobDependencies(id: string): Promise<JobDependencies> {
    this.#admin.assertOpen();
    return this.#admin.runtime.driver.jobDependencies({ id: jobIdArgument(id) });
  }

  /** One job by id, or undefined (also for an id that cannot exist, such as "abc"). */
  async getJob(id: string): Promise<JobRecord | undefined> {
    this.#admin.assertOpen();
    return this.#admin.jobs.getJob(id);
  }

  /**
   * A page of jobs, newest first. Filters are checked before any query: an unknown state, a
   * queue or task name that no job can have, or a cursor `listJobs` did not return is an
   * InvalidOptionError naming the option. One call reads at most JOB_LIST_SCAN_CAP (10,000) jobs
   * below the cursor, so a filter whose matches are old can return a short, even empty, page
   * with a `nextCursor`: pass it on to read further. Only a null `nextCursor` means that no
   * older job matches.
   */
  async listJobs(options: ListJobsOptions = {}): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
    this.#admin.assertOpen();
    knownFields(options, LIST_OPTIONS, 'listJobs option');
    return this.#admin.jobs.listJobs(options);
  }

  /**
   * Exact job counts by state, optionally for some queues and states: with `state`, the answer
   * holds only those states, and unfinished ones are counted without reading finished jobs.
   * Without it every row is counted; on a large table prefer `queueCounts`.
   *
   * @example const { pending, running } = await jobwire.countJobs({ state: ['pending', 'running'] });
   */
  async countJobs<S extends JobState = JobState>(
    options: CountJobsOptions<S> = {},
  ): Promise<Record<S, number>> {
    this.#admin.assertOpen();
    knownFields(options, COUNT_OPTIONS, 'countJobs option');
    return this.#admin.jobs.countJobs(options);
  }

  /**
   * Run an abandoned, cancelled or completed job again with a fresh set of attempts
   * (`job:retried`). Throws JobNotFoundError, or JobNotRetryableError for an active job.
   */
  async retryJob(id: string): Promise<JobRecord> {
    this.#admin.assertOpen();
    return this.#admin.jobs.retryJob(id);
  }

  /**
   * Cancel a job. A scheduled or pending job never runs; a running job's AbortSignal fires and
   * its result is discarded. Returns false when the job had already finished.
   */
  async cancelJob(id: string): Promise<boolean> {
    this.#admin.assertOpen();
    return this.#admin.jobs.cancelJob(id);
  }

  /**
   * Retry every job that matches `filter` (state: `abandoned`, `cancelled` or `completed`;
   * default the first two), in pages of 500 — one `job:retried` per job. Jobs that change state
   * meanwhile are skipped. Not atomic: a failure midway leaves earlier pages retried.
   *
   * @example await jobwire.retryJobs({ queue: 'emails', state: 'abandoned' })
   */
  async retryJobs(filter: JobFilter = {}): Promise<BulkResult> {
    this.#admin.assertOpen();
    knownFields(filter, JOB_FILTER_FIELDS, 'retryJobs filter field');
    return this.#admin.jobs.retryJobs(filter);
  }

  /**
   * Cancel every job that matches `filter` (state: `scheduled`, `pending` or `running`; default
   * all three), in pages of 500 — one `job:cancelled` per job; running jobs' signals fire. Not
   * atomic: a failure midway leaves earlier pages cancelled.
   *
   * @example await jobwire.cancelJobs({ queue: 'imports', state: 'pending' })
   */
  async cancelJobs(filter: JobFilter = {}): Promise<BulkResult> {
    this.#admin.assertOpen();
    knownFields(filter, JOB_FILTER_FIELDS, 'cancelJobs filter field');
    return this.#admin.jobs.cancelJobs(filter);
  }

  /**
   * Delete a job in any state (a running job's worker is fenced off). Returns false when it did
   * not exist. Emits `job:deleted` (`previousState`: the state it was in) and the events of what
   * the delete did to its dependents, stored in the event log with the delete.
   */
  async deleteJob(id: string): Promise<boolean> {
    this.#admin.assertOpen();
    return this.#admin.jobs.deleteJob(id);
  }

  /**
   * Delete finished jobs (completed, abandoned, cancelled; never active ones) matching `filter`,
   * in batches, and return how many were deleted, e.g.
   * `deleteJobs({ state: 'completed', olderThan: '7d' })`. The leader also prunes on its own
   * (the `retention` option); this is the by-hand purge (`jobwire jobs purge`). Emits no per-job
   * events (unlike `deleteJob`): a purge can delete hundreds of thousands of rows.
   */
  async deleteJobs(filter: DeleteJobsFilter = {}): Promise<number> {
    this.#admin.assertOpen();
    knownFields(filter, DELETE_FILTER_FIELDS, 'deleteJobs filter field');
    const { filter: resolved, finishedBefore } = resolveDeleteFilter(filter, this.#admin.runtime.clock.now());
    const { deleted } = await deleteFinishedInBatches(this.#admin.runtime.driver, resolved, finishedBefore, {
      batchSize: 1000,
      batchTargetMs: this.#admin.runtime.driver.capabilities.blocksEventLoop
        ? DEFAULT_BATCH_TARGET_MS
        : undefined,
    });
    return deleted;
  }

  /**
   * Every queue with jobs or settings, with exact counts by state. It counts every row of the
   * jobs table: on a large table (millions of finished jobs) use `queueCounts`.
   */
  async listQueues(): Promise<QueueInfo[]> {
    this.#admin.assertOpen();
    return this.#admin.jobs.listQueues();
  }

  /**
   * Counts by queue and state at a bounded cost, whatever the size of the table (for
   * dashboards, metrics, polling): each count is exact up to `exactUpTo` (default 10,000);
   * above it, it is flagged in `precision` as `atLeast` (a lower bound) or `estimate` (from
   * planner statistics or a sample). A queue holding only finished jobs past the newest
   * `exactUpTo` may be left out. See docs/counts.md.
   *
   * @example const [q] = await jobwire.queueCounts(); // q.counts.pending, q.precision.pending
   */
  async queueCounts(options: QueueCountsOptions = {}): Promise<QueueCounts[]> {
    this.#admin.assertOpen();
    knownFields(options, QUEUE_COUNTS_OPTIONS, 'queueCounts option');
    return this.#admin.jobs.queueCounts(options);
  }

  /** Every running pool of every process on this database, oldest first (see docs/workers.md). */
  async listPools(): Promise<PoolRecord[]> {
    this.#admin.assertOpen();
    return this.#admin.runtime.driver.poolList();
  }

  /**
   * Per-queue statistics from storage: active counts now, finishes and failed attempts over the
   * last `windowMs` (default 60 000). Waiting counts are exact up to `exactUpTo` per queue
   * (default 10,000, at most 1,000,000), else flagged `atLeast` in `precision`: the cost is
   * bounded by the cap, not by the backlog. See `QueueStats` and docs/health.md.
   */
  async queueStats(options: { windowMs?: number; exactUpTo?: number } = {}): Promise<QueueStats[]> {
    this.#admin.assertOpen();
    knownFields(options, QUEUE_STATS_OPTIONS, 'queueStats option');
    return this.#admin.jobs.queueStats(options);
  }

  /** Stop pools (in every process) from claiming jobs of a queue. Enqueue keeps working. */
  async pauseQueue(queue: string): Promise<boolean> {
    this.#admin.assertOpen();
    return this.#admin.jobs.pauseQueue(queue);
  }

  /** Let pools claim from a paused queue again. */
  async resumeQueue(queue: string): Promise<boolean> {
    this.#admin.assertOpen();
    return this.#admin.jobs.resumeQueue(queue);
  }
}

// The fields each admin call reads. A filter field nobody reads is worse than a typo elsewhere:
// `cancelJobs({ queues: ['imports'] })` would match every job of every queue.
const LIST_OPTIONS = optionNames<ListJobsOptions>({
  state: true,
  queue: true,
  task: true,
  limit: true,
  cursor: true,
});
const COUNT_OPTIONS = optionNames<CountJobsOptions>({ queue: true, state: true });
const JOB_FILTER_FIELDS = optionNames<JobFilter>({ state: true, queue: true, task: true });
const DELETE_FILTER_FIELDS = optionNames<DeleteJobsFilter>({
  state: true,
  queue: true,
  task: true,
  olderThan: true,
  finishedBefore: true,
});
const QUEUE_COUNTS_OPTIONS = optionNames<QueueCountsOptions>({ exactUpTo: true });
const QUEUE_STATS_OPTIONS = optionNames<{ windowMs?: number; exactUpTo?: number }>({
  windowMs: true,
  exactUpTo: true,
});

/** Refuse a field nobody reads; a value that is not an object is left to the call's own check. */
function knownFields(options: unknown, names: ReadonlySet<string>, what: string): void {
  if (typeof options === 'object' && options !== null) assertKnownOptions('', options, names, what);
}
