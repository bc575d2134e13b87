/**
 * The client's administration of stored jobs and queues: read, list, count, retry, cancel,
 * delete, pause and resume. Arguments are checked before any query; state changes made here
 * are reported as events built by `job-events.ts`, like those of pools and the rescuer.
 */
import { checkQueueCounts } from '../driver/bounded-counts.js';
import type {
  CancelledJob,
  DeletedJob,
  LogBuilder,
  LogEntry,
  QueueStats,
  RetriedJob,
} from '../driver/driver.js';
import { InvalidOptionError, JobNotFoundError, JobNotRetryableError } from './errors.js';
import type { JobwireEvents } from './events.js';
import {
  dependentEntries,
  emitDependentChanges,
  retriedBlockedEntries,
  retriedRecord,
} from './flow/dependencies.js';
import { cancelledEvent, deletedEvent, emitEntries, retriedEvent } from './job-events.js';
import { filterList, isCursor, isQueueName, jobIdArgument, validateQueueName } from './options.js';
import { preview } from './preview.js';
import type { Runtime } from './runtime.js';
import { isTaskName } from './task.js';
import { JOB_STATES, type JobRecord, type JobState, type QueueCounts, type QueueInfo } from './types.js';

/** The default cap of `queueCounts`: reads of up to 10,001 rows each, a few ms on either database. */
export const DEFAULT_EXACT_UP_TO = 10_000;

/** Options of `queueCounts`. */
export interface QueueCountsOptions {
  /**
   * Counts up to this are exact; above it a count is flagged `atLeast` or `estimate`, and no
   * read goes further. An integer from 1 to 1,000,000. Default 10,000.
   */
  exactUpTo?: number;
}

/** Filters and paging for `listJobs`. */
export interface ListJobsOptions {
  state?: JobState | readonly JobState[];
  queue?: string | readonly string[];
  task?: string | readonly string[];
  /** Page size, 1–1000. Default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
}

/** What `countJobs` counts: every filter given must match. */
export interface CountJobsOptions<S extends JobState = JobState> {
  queue?: string | readonly string[];
  /**
   * Count only these states; the answer then holds only them. Unfinished states (blocked,
   * scheduled, pending, running) are counted through their indexes, so "how many are left?"
   * costs the same however many finished jobs the table keeps.
   */
  state?: S | readonly S[];
}

/** Which jobs `retryJobs` and `cancelJobs` act on: every filter given must match. */
export interface JobFilter {
  state?: JobState | readonly JobState[];
  queue?: string | readonly string[];
  task?: string | readonly string[];
}

/** What a bulk operation did. */
export interface BulkResult {
  /** Jobs changed (each reported by its event, as the one-job methods do). */
  count: number;
  /** Jobs that matched the filter but had changed state by the time of the write. */
  skipped: number;
}

/** States `retryJobs` can act on; it acts on the first two unless `state` says otherwise. */
const RETRYABLE: readonly JobState[] = ['abandoned', 'cancelled', 'completed'];
/** States `cancelJobs` can act on (all of them by default). */
const CANCELLABLE: readonly JobState[] = ['blocked', 'scheduled', 'pending', 'running'];
/** Jobs read and written per round trip of a bulk operation. */
const BULK_PAGE = 500;

/** The `state` option of `listJobs` and `countJobs`: job states, checked (undefined: no filter). */
function jobStates<S extends JobState = JobState>(value: unknown): readonly S[] | undefined {
  return filterList(
    'state',
    value,
    (s) => (JOB_STATES as readonly unknown[]).includes(s),
    `a job state (${JOB_STATES.join(', ')})`,
  ) as readonly S[] | undefined;
}

/** See the module comment. One per client; the client checks it is open before each call. */
export class JobsApi {
  readonly #runtime: Runtime;

  constructor(runtime: Runtime) {
    this.#runtime = runtime;
  }

  /** See `Jobwire.getJob`. */
  getJob(id: string): Promise<JobRecord | undefined> {
    return this.#runtime.driver.jobGet({ id: jobIdArgument(id) });
  }

  /** See `Jobwire.listJobs`. */
  listJobs(options: ListJobsOptions): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new InvalidOptionError('limit', 'must be an integer from 1 to 1000');
    }
    const cursor = options.cursor ?? null;
    if (cursor !== null && (typeof cursor !== 'string' || !isCursor(cursor))) {
      throw new InvalidOptionError(
        'cursor',
        `${preview(cursor)} is not a cursor listJobs returned; pass its nextCursor, or null for the first page`,
      );
    }
    return this.#runtime.driver.jobList({
      states: jobStates(options.state),
      queues: filterList('queue', options.queue, isQueueName, 'a queue name'),
      tasks: filterList('task', options.task, isTaskName, 'a task name'),
      limit,
      before: cursor,
    });
  }

  /** See `Jobwire.countJobs`. */
  countJobs<S extends JobState>(options: CountJobsOptions<S>): Promise<Record<S, number>> {
    return this.#runtime.driver.jobCountByState<S>({
      queues: filterList('queue', options.queue, isQueueName, 'a queue name'),
      states: jobStates<S>(options.state),
    });
  }

  /**
   * See `Jobwire.retryJob`. Emits `job:retried`, so listeners that saw the job end see it come
   * back before it starts again. The state before the retry is read first: the driver returns
   * only the retried record.
   */
  async retryJob(idArgument: string): Promise<JobRecord> {
    const id = String(jobIdArgument(idArgument));
    const { driver, events, clock } = this.#runtime;
    const before = await driver.jobGet({ id });
    if (!before) throw new JobNotFoundError(id);
    // Built once, inside the write when the log is on, so the log and the bus carry the same events:
    // job:retried, then job:blocked when the job went back to wait for its dependencies.
    let event: JobwireEvents['job:retried'] | undefined;
    let blocked: LogEntry[] = [];
    const build = (retried: RetriedJob | undefined) => {
      const at = clock.now();
      event = retried && retriedEvent(retried, before.state, at);
      blocked = retried ? retriedBlockedEntries(retried, at) : [];
      return [...entry('job:retried', event), ...blocked];
    };
    // Tracked until job:retried is out, so a local pool starts the job only after it.
    const job = await this.#runtime.inFlight.track(
      driver
        .jobRetry({
          ids: [id],
          now: this.#runtime.dbNow(),
          log: this.#log((r) => build(r[0])),
        })
        .then(([retried]) => {
          if (!this.#runtime.eventLog) build(retried);
          if (event) events.emit('job:retried', event);
          emitEntries(events, blocked);
          return retried && retriedRecord(retried);
        }),
      [],
      [id],
    );
    if (job) return job;
    const current = (await driver.jobGet({ id })) ?? before;
    // Refused for a dependency: an insert naming it so would be refused too (DependencyFailedError).
    const failed = RETRYABLE.includes(current.state)
      ? (await driver.jobDependencies({ id })).dependencies.find(
          (e) =>
            e.onFailure === 'cancel' && (e.other?.state === 'abandoned' || e.other?.state === 'cancelled'),
        )
      : undefined;
    if (failed) {
      throw new JobNotRetryableError(
        id,
        current.state,
        `Job ${id} depends on job ${failed.dependsOn}, which is ${failed.other!.state}, with onFailure 'cancel': ` +
          `retry ${failed.dependsOn} first, or both in one call (retryJobs), and ${id} waits for it`,
      );
    }
    throw new JobNotRetryableError(
      id,
      current.state,
      `Job ${id} is ${current.state}; only abandoned, cancelled or completed jobs can be retried` +
        (current.uniqueKey ? ' (or another active job holds its unique key)' : ''),
    );
  }

  /** See `Jobwire.cancelJob`. `job:cancelled` carries the job's attempt numbers at the cancel. */
  async cancelJob(idArgument: string): Promise<boolean> {
    const id = String(jobIdArgument(idArgument));
    const { driver, events } = this.#runtime;
    const toEvent = (job: CancelledJob) => cancelledEvent(job, job.previousState, job.at);
    const cancelled = await driver.jobCancel({
      ids: [id],
      now: this.#runtime.dbNow(),
      log: this.#log((jobs) =>
        jobs.flatMap((job) => [...entry('job:cancelled', toEvent(job)), ...dependentEntries(job.dependents)]),
      ),
    });
    if (cancelled.length === 0) {
      if (!(await driver.jobGet({ id }))) throw new JobNotFoundError(id);
      return false;
    }
    for (const job of cancelled) {
      events.emit('job:cancelled', toEvent(job));
      emitDependentChanges(events, this.#runtime.wakeups, job.dependents);
    }
    return true;
  }

  /** `builder` when the durable log is on, else undefined (the driver stores nothing). */
  #log<R>(builder: LogBuilder<R>): LogBuilder<R> | undefined {
    return this.#runtime.eventLog ? builder : undefined;
  }

  /**
   * See `Jobwire.retryJobs`. Pages through `listJobs` (newest first, by id: a retried job leaves
   * the filter's states without moving the cursor) and retries each page with one write, emitting
   * `job:retried` for each job as `retryJob` does.
   */
  async retryJobs(filter: JobFilter): Promise<BulkResult> {
    const states = bulkStates('retryJobs', filter, RETRYABLE, ['abandoned', 'cancelled']);
    const { driver, events, clock } = this.#runtime;
    // States before the retry, and the jobs a page left (a dependent whose failed dependency is
    // on a later page, older: it is tried again once that page retried it).
    const before = new Map<string, JobState>();
    const left = new Set<string>();
    const retry = async (ids: readonly string[]): Promise<number> => {
      // Built once, inside the write when the log is on: the log and the bus get the same events.
      let entries: LogEntry[] = [];
      const build = (records: readonly RetriedJob[]) => {
        const at = clock.now();
        entries = records.flatMap((job) => [
          ...entry('job:retried', retriedEvent(job, before.get(job.id)!, at)),
          ...retriedBlockedEntries(job, at),
        ]);
        return entries;
      };
      const retried = await this.#runtime.inFlight.track(
        driver.jobRetry({ ids, now: this.#runtime.dbNow(), log: this.#log(build) }).then((records) => {
          if (!this.#runtime.eventLog) build(records);
          emitEntries(events, entries);
          return records;
        }),
        [],
        ids,
      );
      const done = new Set(retried.map((job) => job.id));
      for (const id of ids) {
        if (done.has(id)) left.delete(id);
        else left.add(id);
      }
      return retried.length;
    };
    const result = await this.#inPages(filter, states, async (jobs) => {
      for (const job of jobs) before.set(job.id, job.state);
      return retry(jobs.map((job) => job.id));
    });
    // Pages go newest first, so a dependent can be refused before the page retrying its
    // dependency; each pass tries what is left in one write per page, while passes retry some.
    // Only jobs still in one of the filter's states (as a page's are when listed).
    for (let again = result.count > 0 && left.size > 0; again; ) {
      const now = await Promise.all([...left].map((id) => driver.jobGet({ id })));
      const ids = now.filter((job) => job && states.includes(job.state)).map((job) => job!.id);
      let count = 0;
      for (let i = 0; i < ids.length; i += BULK_PAGE) count += await retry(ids.slice(i, i + BULK_PAGE));
      result.count += count;
      result.skipped -= count;
      again = count > 0 && left.size > 0;
    }
    return result;
  }

  /**
   * See `Jobwire.cancelJobs`. Pages through `listJobs` and cancels each page with one write,
   * emitting `job:cancelled` for each job with its attempt numbers at the cancel.
   */
  async cancelJobs(filter: JobFilter): Promise<BulkResult> {
    const states = bulkStates('cancelJobs', filter, CANCELLABLE, CANCELLABLE);
    const { driver, events } = this.#runtime;
    return this.#inPages(filter, states, async (jobs) => {
      const toEvent = (job: CancelledJob) => cancelledEvent(job, job.previousState, job.at);
      const cancelled = await driver.jobCancel({
        ids: jobs.map((job) => job.id),
        now: this.#runtime.dbNow(),
        log: this.#log((done) =>
          done.flatMap((job) => [
            ...entry('job:cancelled', toEvent(job)),
            ...dependentEntries(job.dependents),
          ]),
        ),
      });
      for (const job of cancelled) {
        events.emit('job:cancelled', toEvent(job));
        emitDependentChanges(events, this.#runtime.wakeups, job.dependents);
      }
      return cancelled.length;
    });
  }

  /** Run `write` on each page of jobs matching `filter` in `states`; sum what it changed. */
  async #inPages(
    filter: JobFilter,
    states: readonly JobState[],
    write: (jobs: JobRecord[]) => Promise<number>,
  ): Promise<BulkResult> {
    const result: BulkResult = { count: 0, skipped: 0 };
    let cursor: string | null = null;
    do {
      const page = await this.listJobs({
        state: states,
        queue: filter.queue,
        task: filter.task,
        limit: BULK_PAGE,
        cursor,
      });
      // A short or empty page with a cursor only means the list's read stopped at its cap
      // (JobPage): older jobs may still match, so go on until the cursor is null.
      if (page.jobs.length > 0) {
        const changed = await write(page.jobs);
        result.count += changed;
        result.skipped += page.jobs.length - changed;
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
    return result;
  }

  /**
   * See `Jobwire.deleteJob`. Emits `job:deleted` (the state it was in, its attempt numbers) and
   * the events of what the delete did to its dependents, stored in the log with the delete.
   */
  async deleteJob(idArgument: string): Promise<boolean> {
    const id = String(jobIdArgument(idArgument));
    const { driver, events } = this.#runtime;
    const toEvent = (job: DeletedJob) => deletedEvent(job, job.previousState, job.at);
    const deleted = await driver.jobDelete({
      ids: [id],
      now: this.#runtime.dbNow(),
      log: this.#log((jobs) =>
        jobs.flatMap((job) => [...entry('job:deleted', toEvent(job)), ...dependentEntries(job.dependents)]),
      ),
    });
    for (const job of deleted) {
      events.emit('job:deleted', toEvent(job));
      emitDependentChanges(events, this.#runtime.wakeups, job.dependents);
    }
    return deleted.length > 0;
  }

  /** See `Jobwire.listQueues`. */
  listQueues(): Promise<QueueInfo[]> {
    return this.#runtime.driver.queueList();
  }

  /** See `Jobwire.queueCounts`. */
  queueCounts(options: QueueCountsOptions): Promise<QueueCounts[]> {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', 'must be an object, e.g. { exactUpTo: 10000 }');
    }
    return this.#runtime.driver.queueCounts(
      checkQueueCounts({ exactUpTo: options.exactUpTo ?? DEFAULT_EXACT_UP_TO }),
    );
  }

  /** See `Jobwire.queueStats`. */
  queueStats(options: { windowMs?: number; exactUpTo?: number }): Promise<QueueStats[]> {
    const windowMs = options.windowMs ?? 60_000;
    if (!Number.isInteger(windowMs) || windowMs < 1) {
      throw new InvalidOptionError('windowMs', 'must be an integer number of ms >= 1');
    }
    const { exactUpTo } = checkQueueCounts({ exactUpTo: options.exactUpTo ?? DEFAULT_EXACT_UP_TO });
    return this.#runtime.driver.queueStats({ windowMs, exactUpTo, now: this.#runtime.dbNow() });
  }

  /** See `Jobwire.pauseQueue`. */
  async pauseQueue(queue: string): Promise<boolean> {
    const { driver, events, clock } = this.#runtime;
    const event = { queue: validateQueueName(queue), at: clock.now() };
    const changed = await driver.queuePause({
      name: event.queue,
      now: this.#runtime.dbNow(),
      log: this.#log((changed) => (changed ? entry('queue:paused', event) : [])),
    });
    if (changed) events.emit('queue:paused', event);
    return changed;
  }

  /** See `Jobwire.resumeQueue`. */
  async resumeQueue(queue: string): Promise<boolean> {
    const { driver, events, clock } = this.#runtime;
    const event = { queue: validateQueueName(queue), at: clock.now() };
    const changed = await driver.queueResume({
      name: event.queue,
      now: this.#runtime.dbNow(),
      log: this.#log((changed) => (changed ? entry('queue:resumed', event) : [])),
    });
    if (changed) events.emit('queue:resumed', event);
    return changed;
  }
}

/** One log entry of a typed event, or none when there is no event. */
export function entry<K extends keyof JobwireEvents>(
  type: K,
  data: JobwireEvents[K] | undefined,
): LogEntry[] {
  return data === undefined ? [] : [{ type, data }];
}

/**
 * The states a bulk operation acts on: the filter's (each must be one of `allowed`), else
 * `defaults`. A filter that is not an object is refused before any query.
 */
function bulkStates(
  method: string,
  filter: JobFilter,
  allowed: readonly JobState[],
  defaults: readonly JobState[],
): readonly JobState[] {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new InvalidOptionError('filter', `${method} takes an object such as { queue: 'emails' }`);
  }
  const states = filterList(
    'state',
    filter.state,
    (s) => (allowed as readonly unknown[]).includes(s),
    `a state ${method} acts on (${allowed.join(', ')})`,
  ) as readonly JobState[] | undefined;
  return states?.length ? states : defaults;
}
