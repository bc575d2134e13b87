/**
 * The jobwire client: the library's main entry point and a facade. It builds one `Runtime`
 * (driver, events, clock, tasks, logger, limits, wake-ups) and hands it to every service: the
 * enqueue write path, the admin API, pools, and the leader elector with its leader-only
 * services. No service sees the client; the client starts and stops them.
 */
import type { MigrationResult, SchemaVersion, StoredTaskDefaults } from '../driver/driver.js';
import { JobwireAdmin } from './client-admin.js';
import {
  assertClientOptionNames,
  callerTransaction,
  type JobwireOptions,
  type QueueOptions,
  resolveLimits,
} from './client-options.js';
import type { EnqueueItem, ItemPayload, TypedEnqueueItem } from './enqueue.js';
import { ClosedError, InvalidOptionError } from './errors.js';
import { JobwireEventStream } from './event-log/client-events.js';
import { EventPruner } from './event-log/event-pruner.js';
import { resolveEventLogOptions } from './event-log/options.js';
import { ProcessEventWriter } from './event-log/process-writer.js';
import { EventLogReader } from './event-log/reader.js';
import type { LoggedEvent } from './event-log/types.js';
import { FlowApi } from './flow/api.js';
import { type FlowGraph, flowItems, type TypedFlowNode } from './flow/flow.js';
import { type AttemptHook, type EnqueueHook, RuntimeHooks } from './hooks.js';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  type EnqueuedJob,
  type InsertedJob,
  JobInserter,
  MAX_ENQUEUE_MANY_JOBS,
} from './insert.js';
import { registerInternals } from './internals.js';
import {
  type BulkResult,
  type CountJobsOptions,
  type JobFilter,
  JobsApi,
  type ListJobsOptions,
  type QueueCountsOptions,
} from './jobs-api.js';
import { assertKnownOptions } from './known-options.js';
import type { LeaderElector } from './leader/elector.js';
import { createMaintenance } from './leader/maintenance.js';
import { Pruner } from './leader/pruner.js';
import { Scheduler } from './leader/scheduler.js';
import { checkLogger, listenerErrorsTo, logFailures } from './log-failures.js';
import {
  DEFAULT_MAX_INTERRUPTIONS,
  type EnqueueOptions,
  jobIdArgument,
  validateMaxInterruptions,
} from './options.js';
import { DirectStarts } from './pool/direct-starts.js';
import { Pool, type PoolHost, type PoolOptions } from './pool/pool.js';
import { type DeleteJobsFilter, KEEP_EVERY_JOB, resolveRetention } from './retention.js';
import { InFlightWrites, type Runtime, silentLogger, Wakeups } from './runtime.js';
import { ScheduleWriter } from './schedule-writer.js';
import { SchedulesApi } from './schedules-api.js';
import { toStoredError } from './serialize.js';
import type { AnyTask, AnyTaskRef, Task, TaskInput, TaskResult } from './task.js';
import { assertTaskDefaults, publishTaskDefaults, TaskResolver } from './task-defaults.js';
import { TaskRegistry } from './task-registry.js';
import { type Clock, systemClock } from './types.js';
import { type WaitForJobOptions, waitForJob } from './wait.js';

export type {
  BulkResult,
  CountJobsOptions,
  DeleteJobsFilter,
  EnqueuedJob,
  EnqueueItem,
  JobFilter,
  JobwireOptions,
  ListJobsOptions,
  QueueCountsOptions,
  QueueOptions,
  Task,
  TypedEnqueueItem,
};
export { DEFAULT_MAX_PAYLOAD_BYTES, MAX_ENQUEUE_MANY_JOBS };

/** Create a client and (by default) migrate its database. */
export async function createJobwire(options: JobwireOptions): Promise<Jobwire> {
  const client = new Jobwire(options);
  if (options.migrate !== false) await client.migrate();
  await client.publishTasks();
  // Schedules defined in code: an unchanged one writes nothing, so every process may do this.
  try {
    for (const schedule of options.schedules ?? []) await client.schedules.upsert(schedule);
    if (options.flow?.length) await client.flow.set(...options.flow);
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

const JOB_EVENTS_OPTIONS = new Set(['limit']);

/** The client. Create it with `createJobwire`. */
export class Jobwire extends JobwireAdmin {
  /**
   * Typed lifecycle events: in-process (`on`, `onAny`) for everything this client and its pools
   * do, and the durable log (`read`, `tail`, `subscribe`) of what every process did.
   */
  readonly events: JobwireEventStream;
  /** The time source. */
  readonly clock: Clock;
  /** Interruptions a job survives (see `JobwireOptions.maxInterruptions`). */
  readonly maxInterruptions: number;
  /** Recurring jobs: upsert, pause, resume, trigger, list and remove schedules (docs/schedules.md). */
  readonly schedules: SchedulesApi;
  /** Concurrency limits, rate limits and fairness rules: set, remove, list (docs/flow-control.md). */
  readonly flow: FlowApi;
  readonly #runtime: Runtime;
  readonly #inserter: JobInserter;
  readonly #jobs: JobsApi;
  readonly #leader: LeaderElector;
  readonly #resolver: TaskResolver;
  readonly #processEvents: ProcessEventWriter | undefined;
  readonly #eventReader: EventLogReader;
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
    super();
    if (!options || typeof options.driver?.jobClaim !== 'function') {
      throw new InvalidOptionError('driver', 'pass a driver, e.g. sqliteDriver({ path: "./jobwire.db" })');
    }
    assertClientOptionNames(options);
    const logger = options.logger === undefined ? undefined : checkLogger(options.logger);
    this.events = new JobwireEventStream(
      options.onListenerError ?? (logger ? listenerErrorsTo(logger) : undefined),
    );
    if (logger) logFailures(this.events, logger);
    const eventLog = resolveEventLogOptions(options.events);
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.maxInterruptions = validateMaxInterruptions(options.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS);
    const { maxPayloadBytes, maxResultBytes, maxPendingByQueue } = resolveLimits(options);
    const tasks = new TaskRegistry();
    for (const task of options.tasks ?? []) {
      assertTaskDefaults(task);
      tasks.register(task);
    }
    const retention = resolveRetention(options.retention);
    // With an injected clock the client's time is the database's too; else the database decides.
    const dbNow = options.clock ? () => clock.now() : () => undefined;
    this.#runtime = {
      driver: options.driver,
      events: this.events,
      clock,
      dbNow,
      tasks,
      logger: logger ?? silentLogger,
      limits: { maxPayloadBytes, maxResultBytes, maxInterruptions: this.maxInterruptions },
      wakeups: new Wakeups(),
      directStarts: new DirectStarts(),
      inFlight: new InFlightWrites(),
      hooks: new RuntimeHooks(),
      eventLog: eventLog.log,
      deletesAtCompletion: retention?.deletesAtCompletion ?? (() => false),
    };
    this.#eventReader = new EventLogReader(this.#runtime);
    this.events.attachLog(this.#runtime, this.#eventReader);
    if (eventLog.log && eventLog.processEvents.length > 0) {
      this.#processEvents = new ProcessEventWriter(this.#runtime, eventLog.processEvents);
    }
    this.#resolver = new TaskResolver({
      registry: tasks,
      driver: options.driver,
      strict: options.strictTasks ?? true,
    });
    this.#inserter = new JobInserter(this.#runtime, this.#resolver, { maxPayloadBytes, maxPendingByQueue });
    this.#jobs = new JobsApi(this.#runtime);
    this.attachAdmin({ runtime: this.#runtime, jobs: this.#jobs, assertOpen: () => this.#assertOpen() });
    const tickMs = options.maintenance?.rescueIntervalMs ?? 1000;
    // Schedules fire with a resolver that is not strict: a schedule's task was checked when it was defined.
    const writer = new ScheduleWriter(
      this.#runtime,
      new TaskResolver({ registry: tasks, driver: options.driver, strict: false }),
    );
    this.schedules = new SchedulesApi(this.#runtime, writer, this.#resolver, () => this.#assertOpen());
    this.flow = new FlowApi(this.#runtime, () => this.#assertOpen());
    const extra = [
      new EventPruner(this.#runtime, eventLog.retention, tickMs),
      new Scheduler(this.#runtime, writer, tickMs),
      // With `retention: false` it prunes no jobs, only a day-old count of deleted completions.
      new Pruner(this.#runtime, retention ?? KEEP_EVERY_JOB, tickMs),
    ];
    this.#leader = createMaintenance(this.#runtime, options.maintenance, options.health, extra);
    registerInternals(this, { runtime: this.#runtime, leader: this.#leader });
  }

  /**
   * Register a task (or a contract) after construction. Throws when the name is taken by another
   * definition, or when its job defaults are invalid. A task's defaults are published when a pool
   * starts.
   */
  registerTask(task: AnyTaskRef): void {
    assertTaskDefaults(task);
    this.#runtime.tasks.register(task);
  }

  /** The registered runnable task of that name, if any (a contract has no handler here). */
  getTask(name: string): AnyTask | undefined {
    return this.#runtime.tasks.get(name);
  }

  /**
   * The task or contract (`declareTask`) registered under `name`, or undefined: what this client
   * can enqueue by name with a schema and defaults of its own. `getTask` finds runnable ones only.
   */
  getTaskRef(name: string): AnyTaskRef | undefined {
    return this.#runtime.tasks.lookup(name);
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

  /**
   * Enqueue one job. Typed by the task definition (the payload must be the task's input; the
   * returned job's `wait()` resolves with its result type); a task name is accepted too.
   */
  async enqueue<T extends AnyTaskRef>(
    task: T,
    payload: TaskInput<T>,
    options?: EnqueueOptions,
  ): Promise<EnqueuedJob<TaskInput<T>, TaskResult<T>>>;
  async enqueue(task: string, payload: unknown, options?: EnqueueOptions): Promise<EnqueuedJob>;
  async enqueue(task: AnyTaskRef | string, payload: unknown, options?: EnqueueOptions): Promise<EnqueuedJob> {
    this.#assertOpen();
    const transaction = callerTransaction(options);
    const [job] = await this.#inserter.insert([{ task, payload, options }], transaction, false);
    return this.#handle(job!);
  }

  /**
   * Enqueue many jobs atomically: all are stored or none (one transaction). At most
   * `MAX_ENQUEUE_MANY_JOBS` (10,000) per call; an error about one item names its index.
   * `transaction`: the caller's open transaction to join (see `EnqueueOptions.transaction`).
   * Each item is typed by its task like `enqueue`, and so is each returned job.
   */
  async enqueueMany<const T extends readonly (AnyTaskRef | string)[]>(
    items: { readonly [K in keyof T]: TypedEnqueueItem<T[K]> },
    options?: {
      transaction?: unknown;
      /** @deprecated Renamed `transaction`; this alias goes in the next release. */
      executor?: unknown;
    },
  ): Promise<{ -readonly [K in keyof T]: EnqueuedJob<ItemPayload<T[K]>, TaskResult<T[K]>> }>;
  async enqueueMany(
    items: readonly EnqueueItem[],
    options?: { transaction?: unknown; executor?: unknown },
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
    const jobs = await this.#inserter.insert(items, callerTransaction(options), true);
    return jobs.map((job) => this.#handle(job));
  }

  /**
   * Insert a graph of named jobs in one transaction (all or none): each node waits, `blocked`,
   * for the nodes it names in `dependsOn` and becomes due in the write that completes the last
   * of them. Returns each node's job by name. A cycle is refused with DependencyCycleError.
   * See docs/dependencies.md.
   */
  async enqueueFlow<const T extends { readonly [name: string]: AnyTaskRef | string }>(
    graph: { readonly [K in keyof T]: TypedFlowNode<T[K], Extract<keyof T, string>> },
    options?: { transaction?: unknown },
  ): Promise<{ -readonly [K in keyof T]: EnqueuedJob<ItemPayload<T[K]>, TaskResult<T[K]>> }>;
  async enqueueFlow(
    graph: FlowGraph,
    options?: { transaction?: unknown },
  ): Promise<Record<string, EnqueuedJob>> {
    const items = flowItems(graph);
    const jobs = await this.enqueueMany(items, options);
    const names = Object.keys(graph);
    return Object.fromEntries(jobs.map((job, i) => [names[i], job]));
  }

  /** `job` with its `wait()` (not enumerable: the record serialises and compares as before). */
  #handle(job: InsertedJob): EnqueuedJob {
    const wait = (options?: WaitForJobOptions) => this.waitForJob(job.id, options);
    return Object.defineProperty(job, 'wait', {
      value: wait,
      writable: true,
      configurable: true,
    }) as EnqueuedJob;
  }

  /**
   * Resolve with the job's result once it completes; reject with JobFailedError if it is
   * abandoned or cancelled, WaitTimeoutError after `timeoutMs`, WaitAbortedError on `signal`.
   * Pass the job `enqueue` returned to get its task's result type, or an id (result `unknown`
   * unless `R` is given).
   */
  async waitForJob<R = unknown>(
    job: string | { readonly id: string; readonly result?: R | null },
    options: WaitForJobOptions = {},
  ): Promise<R> {
    this.#assertOpen();
    const id = typeof job === 'object' && job !== null ? job.id : job;
    return waitForJob(this.#runtime, jobIdArgument(id), options, (jobId) =>
      this.#eventReader.forJob(jobId, 1000),
    ) as Promise<R>;
  }

  /**
   * Install instrumentation around this client's enqueue writes and its pools' attempts (tracing,
   * say; see `EnqueueHook` and `AttemptHook`). Hooks only observe: one that throws is reported as
   * `service:error` and the work runs as it would have. Returns a function that removes them.
   */
  addHooks(hooks: { enqueue?: EnqueueHook; attempt?: AttemptHook }): () => void {
    return this.#runtime.hooks.add(hooks);
  }

  /**
   * One job's events from the durable log, oldest first, written by whichever processes handled
   * it: queued, started, retried, completed… (`jobwire events --job <id>` prints them).
   */
  jobEvents(id: string | number, options: { limit?: number } = {}): Promise<LoggedEvent[]> {
    this.#assertOpen();
    if (typeof options === 'object' && options !== null)
      assertKnownOptions('', options, JOB_EVENTS_OPTIONS, 'jobEvents option');
    return this.#eventReader.forJob(id, options.limit ?? 1000);
  }

  /** Create a pool that runs this client's tasks. Call `start()` on it. */
  createPool(options: PoolOptions = {}): Pool {
    this.#assertOpen();
    const pool = new Pool(this.#runtime, options, this.#poolHost);
    // An id names one pool: its leases, its registry row. Two with one id both ran, and the
    // first to stop removed the row the other still heartbeats under (listPools showed none).
    if ([...this.#pools].some((other) => other.id === pool.id)) {
      throw new InvalidOptionError(
        'id',
        `a pool with id "${pool.id}" already exists in this client: give each pool its own id, or stop that one first`,
      );
    }
    this.#pools.add(pool);
    return pool;
  }

  /** Apply pending schema migrations (createJobwire does this unless `migrate: false`). */
  async migrate(): Promise<MigrationResult> {
    this.#assertOpen();
    return this.#runtime.driver.migrate();
  }

  /**
   * The database's schema version and the latest this code knows, read without migrating or
   * locking: `current < latest` means migrations are pending (run `migrate()`). Readiness probes
   * (`/readyz` of `jobwire/http`) call it.
   */
  async schemaVersion(): Promise<SchemaVersion> {
    this.#assertOpen();
    return this.#runtime.driver.schemaVersion();
  }

  /** Stop every pool of this client gracefully, stop leader election and close the driver. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.events.stopSubscriptions();
    await Promise.all([...this.#pools].map((pool) => pool.stop()));
    await this.#leader.stop();
    await this.#processEvents?.close();
    this.#inserter.close();
    await this.#runtime.driver.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('This jobwire client');
  }
}
