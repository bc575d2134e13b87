/**
 * The jobwire client: the library's main entry point and a facade. It builds one `Runtime`
 * (driver, events, clock, tasks, logger, limits, wake-ups) and hands it to every service: the
 * enqueue write path, the admin API, pools, and the leader elector with its leader-only
 * services. No service sees the client; the client starts and stops them.
 */
import type {
  Driver,
  MigrationResult,
  PoolRecord,
  QueueStats,
  StoredTaskDefaults,
} from '../driver/driver.js';
import type { EnqueueItem } from './enqueue.js';
import { ClosedError, InvalidOptionError } from './errors.js';
import { EventBus } from './events.js';
import { type AttemptHook, type EnqueueHook, RuntimeHooks } from './hooks.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, type EnqueuedJob, JobInserter, MAX_ENQUEUE_MANY_JOBS } from './insert.js';
import { registerInternals } from './internals.js';
import { JobsApi, type ListJobsOptions } from './jobs-api.js';
import type { LeaderElector } from './leader/elector.js';
import type { HealthOptions } from './leader/health-monitor.js';
import { createMaintenance, type MaintenanceOptions } from './leader/maintenance.js';
import {
  DEFAULT_MAX_INTERRUPTIONS,
  type EnqueueOptions,
  jobIdArgument,
  validateMaxInterruptions,
  validateQueueName,
} from './options.js';
import { Pool, type PoolHost, type PoolOptions } from './pool/pool.js';
import { InFlightWrites, type Logger, type Runtime, silentLogger, Wakeups } from './runtime.js';
import { DEFAULT_MAX_RESULT_BYTES, toStoredError } from './serialize.js';
import type { AnyTask, AnyTaskRef, Task, TaskInput } from './task.js';
import { publishTaskDefaults, TaskResolver } from './task-defaults.js';
import { TaskRegistry } from './task-registry.js';
import { type Clock, type JobRecord, type JobState, type QueueInfo, systemClock } from './types.js';
import { type WaitForJobOptions, waitForJob } from './wait.js';

export type { EnqueuedJob, EnqueueItem, ListJobsOptions, Task };
export { DEFAULT_MAX_PAYLOAD_BYTES, MAX_ENQUEUE_MANY_JOBS };

/** Per-queue settings. */
export interface QueueOptions {
  /** Refuse enqueues (QueueFullError, `queue:full`) while this many jobs are scheduled or pending. */
  maxPending?: number;
}

/** Options of `createJobwire`. */
export interface JobwireOptions {
  /** The storage driver, e.g. `sqliteDriver({ path: './jobwire.db' })`. */
  driver: Driver;
  /**
   * Tasks this process can enqueue by name and run (`defineTask`), and contracts of tasks that
   * run elsewhere (`declareTask`): enqueued typed and with their defaults, never run here.
   */
  tasks?: readonly AnyTaskRef[];
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
   * When true (default), enqueueing a task name that is not known throws UnknownTaskError. A
   * task is known if it is registered here or published by a worker (a client publishes its
   * tasks' defaults when it is created and when a pool starts); enqueue by name uses those
   * defaults. Set false to also enqueue names no worker has published yet (global defaults).
   */
  strictTasks?: boolean;
  /** Apply schema migrations on start (default true). */
  migrate?: boolean;
  /** Time source; inject one in tests. Default: the database's own time. */
  clock?: Clock;
  /** Leader election and the rescue of expired leases (leader-only) tuning. */
  maintenance?: MaintenanceOptions;
  /** Run the leader-only queue-health monitor (`queue:health`, `alert:*` events); see docs/health.md. */
  health?: HealthOptions;
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
  /**
   * Where services log what they recover from (a failed election or rescue, at `warn`); pino's
   * logger fits. Default: silent — the same failures are events (`service:error`).
   */
  logger?: Logger;
}

/** Create a client and (by default) migrate its database. */
export async function createJobwire(options: JobwireOptions): Promise<Jobwire> {
  const client = new Jobwire(options);
  if (options.migrate !== false) await client.migrate();
  await client.publishTasks();
  return client;
}

function byteLimit(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 16) {
    throw new InvalidOptionError(field, 'must be an integer number of bytes >= 16');
  }
  return value;
}

/** The client. Create it with `createJobwire`. */
export class Jobwire {
  /** In-process, typed lifecycle events of everything this client and its pools do. */
  readonly events: EventBus;
  /** The time source. */
  readonly clock: Clock;
  /** Interruptions a job survives (see `JobwireOptions.maxInterruptions`). */
  readonly maxInterruptions: number;
  readonly #runtime: Runtime;
  readonly #inserter: JobInserter;
  readonly #jobs: JobsApi;
  readonly #leader: LeaderElector;
  readonly #resolver: TaskResolver;
  /** The runnable tasks whose defaults were last published (see `publishTasks`). */
  #publishedTasks = new Set<AnyTask>();
  readonly #pools = new Set<Pool>();
  readonly #runningPools = new Set<Pool>();
  /** Pools report their start and stop here: leader election runs while any of them runs. */
  readonly #poolHost: PoolHost = {
    poolStarted: (pool) => {
      this.#runningPools.add(pool);
      this.#leader.start();
      // Tasks registered since the client was created are published as a pool starts.
      this.publishTasks().catch((error: unknown) => {
        const at = this.clock.now();
        this.events.emit('service:error', {
          service: 'task-defaults',
          operation: 'publish',
          error: toStoredError(error, 0, at),
          retryInMs: 0,
          at,
        });
      });
    },
    poolStopped: (pool) => {
      this.#pools.delete(pool);
      this.#runningPools.delete(pool);
      if (this.#runningPools.size === 0) void this.#leader.stop();
    },
  };
  #closed = false;

  constructor(options: JobwireOptions) {
    if (!options || typeof options.driver?.jobClaim !== 'function') {
      throw new InvalidOptionError('driver', 'pass a driver, e.g. sqliteDriver({ path: "./jobwire.db" })');
    }
    this.events = new EventBus(options.onListenerError);
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.maxInterruptions = validateMaxInterruptions(options.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS);
    const maxPayloadBytes = byteLimit(
      'maxPayloadBytes',
      options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    );
    const maxResultBytes = byteLimit('maxResultBytes', options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES);
    const tasks = new TaskRegistry();
    for (const task of options.tasks ?? []) tasks.register(task);
    const maxPendingByQueue = new Map<string, number>();
    for (const [queue, settings] of Object.entries(options.queues ?? {})) {
      validateQueueName(queue, `queues.${queue}`);
      if (settings.maxPending !== undefined) {
        if (!Number.isInteger(settings.maxPending) || settings.maxPending < 0) {
          throw new InvalidOptionError(`queues.${queue}.maxPending`, 'must be an integer >= 0');
        }
        maxPendingByQueue.set(queue, settings.maxPending);
      }
    }
    // With an injected clock the client's time is the database's too; else the database decides.
    const dbNow = options.clock ? () => clock.now() : () => undefined;
    this.#runtime = {
      driver: options.driver,
      events: this.events,
      clock,
      dbNow,
      tasks,
      logger: options.logger ?? silentLogger,
      limits: { maxPayloadBytes, maxResultBytes, maxInterruptions: this.maxInterruptions },
      wakeups: new Wakeups(),
      inFlight: new InFlightWrites(),
      hooks: new RuntimeHooks(),
    };
    this.#resolver = new TaskResolver({
      registry: tasks,
      driver: options.driver,
      strict: options.strictTasks ?? true,
    });
    this.#inserter = new JobInserter(this.#runtime, this.#resolver, { maxPayloadBytes, maxPendingByQueue });
    this.#jobs = new JobsApi(this.#runtime);
    this.#leader = createMaintenance(this.#runtime, options.maintenance, options.health);
    registerInternals(this, { runtime: this.#runtime, leader: this.#leader });
  }

  /**
   * Register a task (or a contract) after construction. Throws when the name is taken by another
   * definition. A task's defaults are published when a pool starts.
   */
  registerTask(task: AnyTaskRef): void {
    this.#runtime.tasks.register(task);
  }

  /** The registered runnable task of that name, if any (a contract has no handler here). */
  getTask(name: string): AnyTask | undefined {
    return this.#runtime.tasks.get(name);
  }

  /** Names of every registered runnable task. */
  get taskNames(): string[] {
    return this.#runtime.tasks.names();
  }

  /**
   * Publish the defaults of this client's runnable tasks, so processes without their code
   * enqueue them by name with the right queue, attempts, timeout and backoff. Done when the
   * client is created and when a pool starts; writes only contracts that changed. Returns the
   * names written.
   */
  async publishTasks(): Promise<string[]> {
    this.#assertOpen();
    const tasks = this.#runtime.tasks.runnable();
    if (tasks.every((task) => this.#publishedTasks.has(task))) return [];
    const written = await publishTaskDefaults(this.#runtime.driver, tasks, this.#runtime.dbNow());
    this.#publishedTasks = new Set(tasks);
    return written;
  }

  /**
   * The defaults workers published for a task name, or undefined when none did (a name no task
   * can have included). Read from the database each time (no cache).
   */
  async getPublishedTask(name: string): Promise<StoredTaskDefaults | undefined> {
    this.#assertOpen();
    return this.#runtime.driver.taskGet({ name });
  }

  /** Every task contract workers published, sorted by name. */
  async listPublishedTasks(): Promise<StoredTaskDefaults[]> {
    this.#assertOpen();
    return this.#runtime.driver.taskList();
  }

  /** Enqueue one job. Typed by the task definition; a task name is accepted too. */
  async enqueue<T extends AnyTaskRef>(
    task: T,
    payload: TaskInput<T>,
    options?: EnqueueOptions,
  ): Promise<EnqueuedJob>;
  async enqueue(task: string, payload: unknown, options?: EnqueueOptions): Promise<EnqueuedJob>;
  async enqueue(task: AnyTaskRef | string, payload: unknown, options?: EnqueueOptions): Promise<EnqueuedJob> {
    this.#assertOpen();
    const transaction = callerTransaction(options);
    const [job] = await this.#inserter.insert([{ task, payload, options }], transaction, false);
    return job!;
  }

  /**
   * Enqueue many jobs atomically: all are stored or none (one transaction). At most
   * `MAX_ENQUEUE_MANY_JOBS` (10,000) per call; an error about one item names its index.
   * `transaction`: the caller's open transaction to join (see `EnqueueOptions.transaction`).
   */
  async enqueueMany(
    items: readonly EnqueueItem[],
    options?: {
      transaction?: unknown;
      /** @deprecated Renamed `transaction`; this alias goes in the next release. */
      executor?: unknown;
    },
  ): Promise<EnqueuedJob[]> {
    if (!Array.isArray(items)) throw new InvalidOptionError('items', 'must be an array');
    if (items.length > MAX_ENQUEUE_MANY_JOBS) {
      throw new InvalidOptionError(
        'items',
        `at most ${MAX_ENQUEUE_MANY_JOBS} jobs per enqueueMany call, got ${items.length}; split larger batches ` +
          '(each call is its own transaction)',
      );
    }
    if (items.length === 0) return [];
    this.#assertOpen();
    return this.#inserter.insert(items, callerTransaction(options), true);
  }

  /** One job by id, or undefined (also for an id that cannot exist, such as "abc"). */
  async getJob(id: string): Promise<JobRecord | undefined> {
    this.#assertOpen();
    return this.#jobs.getJob(id);
  }

  /**
   * A page of jobs, newest first. Filters are checked before any query: an unknown state, a
   * queue or task name that no job can have, or a cursor `listJobs` did not return is an
   * InvalidOptionError naming the option.
   */
  async listJobs(options: ListJobsOptions = {}): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
    this.#assertOpen();
    return this.#jobs.listJobs(options);
  }

  /** Job counts by state, optionally for some queues. */
  async countJobs(options: { queue?: string | readonly string[] } = {}): Promise<Record<JobState, number>> {
    this.#assertOpen();
    return this.#jobs.countJobs(options);
  }

  /**
   * Run an abandoned, cancelled or completed job again with a fresh set of attempts
   * (`job:retried`). Throws JobNotFoundError, or JobNotRetryableError for an active job.
   */
  async retryJob(id: string): Promise<JobRecord> {
    this.#assertOpen();
    return this.#jobs.retryJob(id);
  }

  /**
   * Cancel a job. A scheduled or pending job never runs; a running job's AbortSignal fires and
   * its result is discarded. Returns false when the job had already finished.
   */
  async cancelJob(id: string): Promise<boolean> {
    this.#assertOpen();
    return this.#jobs.cancelJob(id);
  }

  /** Delete a job in any state. Returns false when it did not exist. */
  async deleteJob(id: string): Promise<boolean> {
    this.#assertOpen();
    return this.#jobs.deleteJob(id);
  }

  /**
   * Resolve with the job's result once it completes; reject with JobFailedError if it is
   * abandoned or cancelled, WaitTimeoutError after `timeoutMs`, WaitAbortedError on `signal`.
   */
  async waitForJob<R = unknown>(id: string, options: WaitForJobOptions = {}): Promise<R> {
    this.#assertOpen();
    return waitForJob(this.#runtime, jobIdArgument(id), options) as Promise<R>;
  }

  /** Every queue with jobs or settings, with counts by state. */
  async listQueues(): Promise<QueueInfo[]> {
    this.#assertOpen();
    return this.#jobs.listQueues();
  }

  /** Every running pool of every process on this database, oldest first (see docs/workers.md). */
  async listPools(): Promise<PoolRecord[]> {
    this.#assertOpen();
    return this.#runtime.driver.poolList();
  }

  /**
   * Per-queue statistics from storage: active counts now, finishes and failed attempts over the
   * last `windowMs` (default 60 000). See `QueueStats` and docs/health.md.
   */
  async queueStats(options: { windowMs?: number } = {}): Promise<QueueStats[]> {
    this.#assertOpen();
    return this.#jobs.queueStats(options);
  }

  /** Stop pools (in every process) from claiming jobs of a queue. Enqueue keeps working. */
  async pauseQueue(queue: string): Promise<boolean> {
    this.#assertOpen();
    return this.#jobs.pauseQueue(queue);
  }

  /** Let pools claim from a paused queue again. */
  async resumeQueue(queue: string): Promise<boolean> {
    this.#assertOpen();
    return this.#jobs.resumeQueue(queue);
  }

  /**
   * Install instrumentation around this client's enqueue writes and its pools' attempts (tracing,
   * say; see `EnqueueHook` and `AttemptHook`). Hooks only observe: one that throws is reported as
   * `service:error` and the work runs as it would have. Returns a function that removes them.
   */
  addHooks(hooks: { enqueue?: EnqueueHook; attempt?: AttemptHook }): () => void {
    return this.#runtime.hooks.add(hooks);
  }

  /** Create a pool that runs this client's tasks. Call `start()` on it. */
  createPool(options: PoolOptions = {}): Pool {
    this.#assertOpen();
    const pool = new Pool(this.#runtime, options, this.#poolHost);
    this.#pools.add(pool);
    return pool;
  }

  /** Apply pending schema migrations (createJobwire does this unless `migrate: false`). */
  async migrate(): Promise<MigrationResult> {
    this.#assertOpen();
    return this.#runtime.driver.migrate();
  }

  /** Stop every pool of this client gracefully, stop leader election and close the driver. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#pools].map((pool) => pool.stop()));
    await this.#leader.stop();
    await this.#runtime.driver.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('This jobwire client');
  }
}

/**
 * The caller's transaction of enqueue options: `transaction`, or its deprecated alias
 * `executor`. Both naming different handles is a mistake worth stopping.
 */
function callerTransaction(options: { transaction?: unknown; executor?: unknown } | undefined): unknown {
  if (!options || typeof options !== 'object') return undefined;
  const { transaction, executor } = options;
  if (transaction !== undefined && executor !== undefined && transaction !== executor) {
    throw new InvalidOptionError(
      'transaction',
      'pass the transaction once, as `transaction` (`executor` is its old name)',
    );
  }
  return transaction ?? executor;
}
