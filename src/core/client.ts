/**
 * The jobwire client: the library's main entry point. It enqueues jobs, administers jobs and
 * queues, waits for results, and creates pools. It talks to storage only through the driver seam.
 */
import type { Driver, JobInsertParams, MigrationResult } from '../driver/driver.js';
import { runningJob } from './context.js';
import { type EnqueueItem, prepareJobs } from './enqueue.js';
import {
  ClosedError,
  InvalidOptionError,
  JobNotFoundError,
  JobwireError,
  QueueFullError,
  UnknownTaskError,
} from './errors.js';
import { EventBus } from './events.js';
import { Maintenance, type MaintenanceOptions } from './maintenance.js';
import {
  DEFAULT_MAX_INTERRUPTIONS,
  type EnqueueOptions,
  filterList,
  isCursor,
  isQueueName,
  jobIdArgument,
  validateMaxInterruptions,
  validateQueueName,
} from './options.js';
import { Pool, type PoolOptions } from './pool.js';
import { preview } from './preview.js';
import { type Runtime, silentLogger, Wakeups } from './runtime.js';
import { DEFAULT_MAX_RESULT_BYTES } from './serialize.js';
import { type AnyTask, isTaskName, type Task, type TaskInput } from './task.js';
import { TaskRegistry } from './task-registry.js';
import {
  type Clock,
  JOB_STATES,
  type JobRecord,
  type JobState,
  type QueueInfo,
  systemClock,
} from './types.js';
import { type WaitForJobOptions, waitForJob } from './wait.js';

/** Default cap on a payload's JSON size: 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Most jobs one `enqueueMany` call takes. The batch is inserted in one transaction, which on
 * SQLite runs synchronously: a much larger batch would stall the event loop (and so every
 * pool's heartbeats in this process) for seconds. Split larger batches into several calls.
 */
export const MAX_ENQUEUE_MANY_JOBS = 10_000;

/** Per-queue settings. */
export interface QueueOptions {
  /** Refuse enqueues (QueueFullError, `queue:full`) while this many jobs are scheduled or pending. */
  maxPending?: number;
}

/** Options of `createJobwire`. */
export interface JobwireOptions {
  /** The storage driver, e.g. `sqliteDriver({ path: './jobwire.db' })`. */
  driver: Driver;
  /** Tasks this process can enqueue by name and run. */
  tasks?: readonly AnyTask[];
  /** Per-queue settings, by queue name. */
  queues?: Record<string, QueueOptions>;
  /** Largest accepted payload, in bytes of JSON. Default 1 MiB. */
  maxPayloadBytes?: number;
  /**
   * Largest stored result (and progress), in bytes of JSON. Default 1 MiB. A larger result is not
   * stored: the job is abandoned with a ResultTooLargeError; larger progress is not stored.
   */
  maxResultBytes?: number;
  /**
   * When true (default), enqueueing a task name this process has not registered throws
   * UnknownTaskError. Set false in producer-only processes that enqueue by name for workers
   * elsewhere.
   */
  strictTasks?: boolean;
  /** Apply schema migrations on start (default true). */
  migrate?: boolean;
  /** Time source; inject one in tests. Default: the database's own time. */
  clock?: Clock;
  /** Maintenance (rescue of expired leases) tuning. */
  maintenance?: MaintenanceOptions;
  /**
   * How many interruptions a job survives: attempts that ended without the handler deciding —
   * its lease expired (the process died or froze) or a shutdown cut it off. They do not use up
   * `maxAttempts` (a crashing neighbour must not cost innocent jobs their attempts); the
   * interruption that reaches this number abandons the job (`job:abandoned`, reason
   * `lease-expired` or `interrupted`). Integer 1–1000, default 5: more than the default
   * `maxAttempts` (3), since an interruption is usually not the job's own fault, yet few enough
   * that a job which kills its process on every run stops doing so soon.
   */
  maxInterruptions?: number;
  /** Called when an event listener throws. Default: console.error. */
  onListenerError?: (error: unknown, eventName: string) => void;
}

/** A job as returned by enqueue: the stored record plus whether it was a unique-key duplicate. */
export type EnqueuedJob<Payload = unknown> = JobRecord<Payload> & {
  /** True when `uniqueKey` matched an active job; the record is that existing job. */
  duplicate: boolean;
};

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

/** Create a client and (by default) migrate its database. */
export async function createJobwire(options: JobwireOptions): Promise<Jobwire> {
  const client = new Jobwire(options);
  if (options.migrate !== false) await client.driver.migrate();
  return client;
}

/** The client. Create it with `createJobwire`. */
export class Jobwire {
  /** In-process, typed lifecycle events of everything this client and its pools do. */
  readonly events: EventBus;
  /** The storage driver (internal seam; prefer the methods below). */
  readonly driver: Driver;
  /** The time source. */
  readonly clock: Clock;
  /** Interruptions a job survives (see `JobwireOptions.maxInterruptions`). */
  readonly maxInterruptions: number;
  readonly #tasks = new TaskRegistry();
  readonly #maxPending = new Map<string, number>();
  readonly #maxPayloadBytes: number;
  /** Largest stored result or progress, in bytes of JSON (see JobwireOptions). @internal */
  readonly maxResultBytes: number;
  readonly #strictTasks: boolean;
  readonly #customClock: boolean;
  readonly #pools = new Set<Pool>();
  readonly #maintenance: Maintenance;
  /** What pools see of this client (see Runtime). */
  readonly #runtime: Runtime;
  #closed = false;

  constructor(options: JobwireOptions) {
    if (!options || typeof options.driver?.jobClaim !== 'function') {
      throw new InvalidOptionError('driver', 'pass a driver, e.g. sqliteDriver({ path: "./jobwire.db" })');
    }
    this.driver = options.driver;
    this.events = new EventBus(options.onListenerError);
    this.clock = options.clock ?? systemClock;
    this.#customClock = options.clock !== undefined;
    this.#strictTasks = options.strictTasks ?? true;
    this.maxInterruptions = validateMaxInterruptions(options.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS);
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    if (!Number.isInteger(this.#maxPayloadBytes) || this.#maxPayloadBytes < 16) {
      throw new InvalidOptionError('maxPayloadBytes', 'must be an integer number of bytes >= 16');
    }
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    if (!Number.isInteger(this.maxResultBytes) || this.maxResultBytes < 16) {
      throw new InvalidOptionError('maxResultBytes', 'must be an integer number of bytes >= 16');
    }
    for (const task of options.tasks ?? []) this.registerTask(task);
    for (const [queue, settings] of Object.entries(options.queues ?? {})) {
      validateQueueName(queue, `queues.${queue}`);
      if (settings.maxPending !== undefined) {
        if (!Number.isInteger(settings.maxPending) || settings.maxPending < 0) {
          throw new InvalidOptionError(`queues.${queue}.maxPending`, 'must be an integer >= 0');
        }
        this.#maxPending.set(queue, settings.maxPending);
      }
    }
    this.#maintenance = new Maintenance(this, options.maintenance);
    this.#runtime = {
      driver: this.driver,
      events: this.events,
      clock: this.clock,
      dbNow: () => this.nowParam(),
      tasks: this.#tasks,
      logger: silentLogger,
      limits: {
        maxPayloadBytes: this.#maxPayloadBytes,
        maxResultBytes: this.maxResultBytes,
        maxInterruptions: this.maxInterruptions,
      },
      wakeups: new Wakeups(),
    };
  }

  /** Register a task after construction. Throws when the name is taken by another definition. */
  registerTask(task: AnyTask): void {
    this.#tasks.register(task);
  }

  /** The registered task of that name, if any. */
  getTask(name: string): AnyTask | undefined {
    return this.#tasks.get(name);
  }

  /** Names of every registered task. */
  get taskNames(): string[] {
    return this.#tasks.names();
  }

  /** `now` to pass to the driver: undefined means "use the database's time". */
  nowParam(): number | undefined {
    return this.#customClock ? this.clock.now() : undefined;
  }

  /** Enqueue one job. Typed by the task definition; a task name is accepted too. */
  async enqueue<T extends AnyTask>(
    task: T,
    payload: TaskInput<T>,
    options?: EnqueueOptions,
  ): Promise<EnqueuedJob>;
  async enqueue(task: string, payload: unknown, options?: EnqueueOptions): Promise<EnqueuedJob>;
  async enqueue(task: AnyTask | string, payload: unknown, options?: EnqueueOptions): Promise<EnqueuedJob> {
    const [job] = await this.#insert([{ task, payload, options }], options?.executor, false);
    return job!;
  }

  /**
   * Enqueue many jobs atomically: all are stored or none (one transaction). At most
   * `MAX_ENQUEUE_MANY_JOBS` (10,000) per call; an error about one item names its index.
   */
  async enqueueMany(items: readonly EnqueueItem[], options?: { executor?: unknown }): Promise<EnqueuedJob[]> {
    if (!Array.isArray(items)) throw new InvalidOptionError('items', 'must be an array');
    if (items.length > MAX_ENQUEUE_MANY_JOBS) {
      throw new InvalidOptionError(
        'items',
        `at most ${MAX_ENQUEUE_MANY_JOBS} jobs per enqueueMany call, got ${items.length}; split larger batches ` +
          '(each call is its own transaction)',
      );
    }
    if (items.length === 0) return [];
    return this.#insert(items, options?.executor, true);
  }

  async #insert(items: readonly EnqueueItem[], executor: unknown, many: boolean): Promise<EnqueuedJob[]> {
    this.#assertOpen();
    if (executor !== undefined && !this.driver.capabilities.callerTransactions) {
      throw new InvalidOptionError(
        'executor',
        `the ${this.driver.name} driver cannot join a caller's transaction`,
      );
    }
    const rows = await prepareJobs(items, {
      resolveTask: (task) => this.#resolveTask(task),
      maxPayloadBytes: this.#maxPayloadBytes,
      inheritedCorrelationId: runningJob.getStore()?.correlationId,
      many,
    });
    return this.#write(rows, executor);
  }

  async #write(rows: JobInsertParams[], executor: unknown): Promise<EnqueuedJob[]> {
    const outcome = await this.driver.jobInsertMany({
      jobs: rows,
      maxPendingByQueue: this.#maxPending.size ? this.#maxPending : undefined,
      executor,
      now: this.nowParam(),
    });
    if ('queueFull' in outcome) {
      const { queue, maxPending, pending } = outcome.queueFull;
      const task = rows.find((row) => row.queue === queue)?.task ?? '';
      this.events.emit('queue:full', { queue, task, maxPending, pending, at: this.clock.now() });
      throw new QueueFullError(queue, maxPending, pending);
    }
    const queuedAt = this.clock.now();
    const jobs = outcome.inserted.map(({ job, duplicate }) => ({ ...job, duplicate }));
    // Outside a caller's transaction the jobs are committed now: wake this process's pools at
    // once. Drivers with in-process notifiers (SQLite) already did; cross-process ones would
    // otherwise make every local start wait for the notification's trip through the database.
    const { wakeups } = this.#runtime;
    if (executor === undefined && this.driver.capabilities.crossProcessNotify && wakeups.hasListeners) {
      const due = new Set<string>();
      for (const job of jobs) if (!job.duplicate && job.state === 'pending') due.add(job.queue);
      for (const queue of due) wakeups.notify(queue);
    }
    if (this.events.has('job:queued')) {
      for (const job of jobs) {
        if (job.duplicate) continue;
        this.events.emit('job:queued', {
          jobId: job.id,
          task: job.task,
          queue: job.queue,
          correlationId: job.correlationId,
          attempt: job.attempt,
          maxAttempts: job.maxAttempts,
          state: job.state,
          priority: job.priority,
          queuedAt,
          runAt: job.runAt.getTime(),
          uniqueKey: job.uniqueKey,
          metadata: job.metadata,
        });
      }
    }
    return jobs;
  }

  #resolveTask(task: AnyTask | string): AnyTask | undefined {
    if (typeof task === 'string') {
      const found = this.#tasks.get(task);
      if (!found && this.#strictTasks) throw new UnknownTaskError(task, this.taskNames);
      if (!found && (typeof task !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(task))) {
        throw new InvalidOptionError('task', `invalid task name ${preview(task)}`);
      }
      return found;
    }
    if (typeof task?.name !== 'string')
      throw new InvalidOptionError('task', 'pass a task from defineTask() or its name');
    if (!this.#tasks.has(task.name)) this.registerTask(task);
    return task;
  }

  /** One job by id, or undefined (also for an id that cannot exist, such as "abc"). */
  async getJob(id: string): Promise<JobRecord | undefined> {
    this.#assertOpen();
    return this.driver.jobGet({ id: jobIdArgument(id) });
  }

  /**
   * A page of jobs, newest first. Filters are checked before any query: an unknown state, a
   * queue or task name that no job can have, or a cursor `listJobs` did not return is an
   * InvalidOptionError naming the option.
   */
  async listJobs(options: ListJobsOptions = {}): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
    this.#assertOpen();
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
    return this.driver.jobList({
      states: filterList(
        'state',
        options.state,
        (s) => (JOB_STATES as readonly unknown[]).includes(s),
        `a job state (${JOB_STATES.join(', ')})`,
      ) as readonly JobState[] | undefined,
      queues: filterList('queue', options.queue, isQueueName, 'a queue name'),
      tasks: filterList('task', options.task, isTaskName, 'a task name'),
      limit,
      before: cursor,
    });
  }

  /** Job counts by state, optionally for some queues. */
  async countJobs(options: { queue?: string | readonly string[] } = {}): Promise<Record<JobState, number>> {
    this.#assertOpen();
    return this.driver.jobCountByState({
      queues: filterList('queue', options.queue, isQueueName, 'a queue name'),
    });
  }

  /** Run an abandoned, cancelled or completed job again with a fresh set of attempts. */
  async retryJob(id: string): Promise<JobRecord> {
    this.#assertOpen();
    id = jobIdArgument(id);
    const [job] = await this.driver.jobRetry({ ids: [String(id)], now: this.nowParam() });
    if (job) return job;
    const current = await this.driver.jobGet({ id: String(id) });
    if (!current) throw new JobNotFoundError(String(id));
    throw new JobwireError(
      'JOBWIRE_NOT_RETRYABLE',
      `Job ${id} is ${current.state}; only abandoned, cancelled or completed jobs can be retried` +
        (current.uniqueKey ? ' (or another active job holds its unique key)' : ''),
    );
  }

  /**
   * Cancel a job. A scheduled or pending job never runs; a running job's AbortSignal fires and
   * its result is discarded. Returns false when the job had already finished.
   */
  async cancelJob(id: string): Promise<boolean> {
    this.#assertOpen();
    id = jobIdArgument(id);
    const cancelled = await this.driver.jobCancel({ ids: [String(id)], now: this.nowParam() });
    if (cancelled.length === 0 && !(await this.driver.jobGet({ id: String(id) }))) {
      throw new JobNotFoundError(String(id));
    }
    for (const job of cancelled) {
      this.events.emit('job:cancelled', {
        jobId: job.id,
        task: job.task,
        queue: job.queue,
        correlationId: job.correlationId,
        attempt: 0,
        maxAttempts: 0,
        previousState: job.previousState,
        at: job.at,
      });
    }
    return cancelled.length > 0;
  }

  /** Delete a job in any state. Returns false when it did not exist. */
  async deleteJob(id: string): Promise<boolean> {
    this.#assertOpen();
    return (await this.driver.jobDelete({ ids: [jobIdArgument(id)] })).length > 0;
  }

  /** Resolve with the job's result once it completes; reject with JobFailedError if it is abandoned or cancelled. */
  async waitForJob<R = unknown>(id: string, options: WaitForJobOptions = {}): Promise<R> {
    this.#assertOpen();
    return waitForJob(this, jobIdArgument(id), options) as Promise<R>;
  }

  /** Every queue with jobs or settings, with counts by state. */
  async listQueues(): Promise<QueueInfo[]> {
    this.#assertOpen();
    return this.driver.queueList();
  }

  /** Stop pools (in every process) from claiming jobs of a queue. Enqueue keeps working. */
  async pauseQueue(queue: string): Promise<boolean> {
    this.#assertOpen();
    const changed = await this.driver.queuePause({ name: validateQueueName(queue), now: this.nowParam() });
    if (changed) this.events.emit('queue:paused', { queue, at: this.clock.now() });
    return changed;
  }

  /** Let pools claim from a paused queue again. */
  async resumeQueue(queue: string): Promise<boolean> {
    this.#assertOpen();
    const changed = await this.driver.queueResume({ name: validateQueueName(queue), now: this.nowParam() });
    if (changed) this.events.emit('queue:resumed', { queue, at: this.clock.now() });
    return changed;
  }

  /** Create a pool that runs this client's tasks. Call `start()` on it. */
  createPool(options: PoolOptions = {}): Pool {
    this.#assertOpen();
    const pool = new Pool(this.#runtime, options, {
      poolStarted: (started) => this.poolStateChanged(started, true),
      poolStopped: (stopped) => this.poolStateChanged(stopped, false),
    });
    this.#pools.add(pool);
    return pool;
  }

  /** @internal Called by pools as they start and stop, to run maintenance while any pool runs. */
  poolStateChanged(pool: Pool, running: boolean): void {
    if (!running) this.#pools.delete(pool);
    const anyRunning = [...this.#pools].some((p) => p.isRunning);
    if (anyRunning) this.#maintenance.start();
    else void this.#maintenance.stop();
  }

  /** The maintenance service (rescue of expired leases). */
  get maintenance(): Maintenance {
    return this.#maintenance;
  }

  /** Apply pending schema migrations (createJobwire does this unless `migrate: false`). */
  async migrate(): Promise<MigrationResult> {
    this.#assertOpen();
    return this.driver.migrate();
  }

  /** Stop every pool of this client gracefully, stop maintenance and close the driver. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#pools].map((pool) => pool.stop()));
    await this.#maintenance.stop();
    await this.driver.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('This jobwire client');
  }
}

export type { EnqueueItem, Task };
