/**
 * Task contracts across processes. A worker publishes the job defaults (queue, priority,
 * attempts, timeout, backoff) of the tasks it registers; a process that enqueues a task by name
 * without its code — a producer service, `jobwire enqueue` — resolves the name to those
 * defaults, so the job lands in the queue the task's workers serve.
 *
 * A task name is known if it is registered here (a task, or a contract from `declareTask`) or
 * published by a worker. Stored defaults are cached per name for a short time, so enqueue stays
 * one round trip in steady state; a worker's changed defaults reach producers within that time.
 */
import { performance } from 'node:perf_hooks';
import { type Driver, MAX_TASK_UPSERT, type TaskDefaultsRecord } from '../driver/driver.js';
import { InvalidOptionError, type JobwireError, UnknownTaskError } from './errors.js';
import { resolveJobOptions } from './options.js';
import { preview } from './preview.js';
import type { AnyTask, AnyTaskRef, JobDefaults } from './task.js';
import { isTaskContract, isTaskName } from './task.js';
import type { TaskRegistry } from './task-registry.js';
import type { EpochMs } from './types.js';

/** How long stored defaults of a name are reused before they are read again. */
export const STORED_DEFAULTS_TTL_MS = 30_000;
/**
 * How long "no worker published this name" is reused (strictTasks off). Short: a producer that
 * starts before its workers must pick their defaults up soon after they publish.
 */
export const UNPUBLISHED_TTL_MS = 1_000;

/** What enqueue needs to know about a task: its defaults and, when local, its schema. */
export interface ResolvedTask {
  name: string;
  /**
   * `local`: registered in this process (task or contract); `stored`: published by a worker;
   * `none`: neither (strictTasks off) — the global defaults apply.
   */
  source: 'local' | 'stored' | 'none';
  /** The job defaults to merge under the call's options. */
  defaults: JobDefaults;
  /** The local task or contract (for schema validation), when `source` is `local`. */
  ref?: AnyTaskRef;
}

/**
 * Refuse a task whose job defaults enqueue would refuse (`maxAttempts: 0`, a queue name with a
 * space): said when the client meets the task, not at its first enqueue — and never published
 * for other processes to resolve the name to.
 */
export function assertTaskDefaults(task: AnyTaskRef): void {
  // Not a task at all: the registry says so, in its own words.
  if (typeof task !== 'object' || task === null || typeof task.name !== 'string') return;
  try {
    resolveJobOptions(task, undefined);
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    throw new InvalidOptionError(
      `tasks.${task.name}.${error.field}`,
      error.message.replace(/^Invalid option "[^"]*": /, ''),
    );
  }
}

/**
 * The contract a task publishes: its defaults resolved as enqueue would resolve them. Undefined
 * for a task whose defaults are invalid (enqueue refuses it anyway, naming the option).
 */
export function contractOf(task: AnyTaskRef): TaskDefaultsRecord | undefined {
  try {
    const resolved = resolveJobOptions(task, undefined);
    return {
      name: task.name,
      queue: resolved.queue,
      priority: resolved.priority,
      maxAttempts: resolved.maxAttempts,
      timeoutMs: resolved.timeoutMs,
      backoff: resolved.backoff,
    };
  } catch (error) {
    if (error instanceof InvalidOptionError) return undefined;
    throw error;
  }
}

/**
 * Store the defaults of `tasks` (a worker's runnable tasks). Writes only contracts that are new
 * or changed; returns the names written.
 */
export async function publishTaskDefaults(
  driver: Driver,
  tasks: readonly AnyTask[],
  now?: EpochMs,
): Promise<string[]> {
  const contracts = tasks.map(contractOf).filter((c): c is TaskDefaultsRecord => c !== undefined);
  const written: string[] = [];
  for (let start = 0; start < contracts.length; start += MAX_TASK_UPSERT) {
    const batch = contracts.slice(start, start + MAX_TASK_UPSERT);
    written.push(...(await driver.taskUpsertMany({ tasks: batch, now })));
  }
  return written;
}

/** The stored record as enqueue defaults (null means "not set": the global default applies). */
function toDefaults(record: TaskDefaultsRecord): JobDefaults {
  const defaults: JobDefaults = {
    queue: record.queue,
    priority: record.priority,
    maxAttempts: record.maxAttempts,
  };
  if (record.timeoutMs !== null) defaults.timeoutMs = record.timeoutMs;
  if (record.backoff !== null) defaults.backoff = record.backoff;
  return defaults;
}

const UNKNOWN_ADVICE =
  'A task is known if it is registered here or published by a worker (a worker publishes the ' +
  'defaults of its tasks when its client starts). Start a worker that registers it, pass its ' +
  'contract (declareTask) in the tasks option, or set strictTasks: false to enqueue it by name ' +
  'with the default options.';

/** Options of `TaskResolver`. */
export interface TaskResolverOptions {
  registry: TaskRegistry;
  driver: Driver;
  /** Refuse names that are neither registered nor published (`strictTasks`, default true). */
  strict: boolean;
  /** Monotonic ms for cache expiry; tests inject one. Default `performance.now`. */
  monotonicNow?: () => number;
}

/** Resolves what `enqueue` was given — a task, a contract or a name — to its defaults. */
export class TaskResolver {
  readonly #registry: TaskRegistry;
  readonly #driver: Driver;
  readonly #strict: boolean;
  readonly #now: () => number;
  /** Lookups by name, shared while in flight, so a batch by name reads each name once. */
  readonly #cache = new Map<string, { expiresAt: number; lookup: Promise<TaskDefaultsRecord | undefined> }>();

  constructor(options: TaskResolverOptions) {
    this.#registry = options.registry;
    this.#driver = options.driver;
    this.#strict = options.strict;
    this.#now = options.monotonicNow ?? (() => performance.now());
  }

  /**
   * Resolve one enqueue target. A task or contract object is registered here on first use (so
   * later enqueues by its name resolve locally); a name resolves to the local definition, else
   * the defaults a worker published, else (strictTasks off) the global defaults.
   */
  async resolve(task: AnyTaskRef | string): Promise<ResolvedTask> {
    if (typeof task !== 'string') {
      if (typeof task !== 'object' || task === null || typeof task.name !== 'string') {
        throw new InvalidOptionError('task', 'pass a task from defineTask() or declareTask(), or its name');
      }
      const existing = this.#registry.lookup(task.name);
      // An implementation replaces the contract it implements; another same-named task does not.
      if (existing === undefined || (isTaskContract(existing) && !isTaskContract(task))) {
        this.#registry.register(task);
      }
      return { name: task.name, source: 'local', defaults: task, ref: task };
    }
    const local = this.#registry.lookup(task);
    if (local) return { name: task, source: 'local', defaults: local, ref: local };
    if (!isTaskName(task)) {
      // No worker can have published it, so there is nothing to read.
      if (this.#strict) throw this.#unknown(task);
      throw new InvalidOptionError('task', `invalid task name ${preview(task)}`);
    }
    const stored = await this.#stored(task);
    if (stored) return { name: task, source: 'stored', defaults: toDefaults(stored) };
    if (this.#strict) throw this.#unknown(task);
    return { name: task, source: 'none', defaults: {} };
  }

  /** Forget cached lookups (all, or one name): the next enqueue by name reads the database. */
  forget(name?: string): void {
    if (name === undefined) this.#cache.clear();
    else this.#cache.delete(name);
  }

  #stored(name: string): Promise<TaskDefaultsRecord | undefined> {
    const now = this.#now();
    const cached = this.#cache.get(name);
    if (cached && cached.expiresAt > now) return cached.lookup;
    const entry = { expiresAt: Number.POSITIVE_INFINITY, lookup: this.#driver.taskGet({ name }) };
    this.#cache.set(name, entry);
    entry.lookup.then(
      (record) => {
        entry.expiresAt = this.#now() + (record ? STORED_DEFAULTS_TTL_MS : UNPUBLISHED_TTL_MS);
      },
      // A failed read is not remembered: the next enqueue tries again.
      () => {
        if (this.#cache.get(name) === entry) this.#cache.delete(name);
      },
    );
    return entry.lookup;
  }

  #unknown(name: string): JobwireError {
    return new UnknownTaskError(name, this.#registry.allNames(), UNKNOWN_ADVICE);
  }
}
