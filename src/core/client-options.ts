/**
 * The options of `createJobwire`, and the checks that turn them into the client's limits. Kept
 * apart from the client facade, whose job is wiring services, not validating input.
 */

import type { Driver } from '../driver/driver.js';
import { InvalidOptionError } from './errors.js';
import type { EventLogOptions } from './event-log/options.js';
import type { FlowRuleDefinition } from './flow/rules.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from './insert.js';
import { assertKnownOptions, optionNames } from './known-options.js';
import type { HealthOptions } from './leader/health-monitor.js';
import type { MaintenanceOptions } from './leader/maintenance.js';
import { validateQueueName } from './options.js';
import type { RetentionOptions } from './retention.js';
import type { Logger } from './runtime.js';
import type { ScheduleDefinition } from './schedule-definition.js';
import { DEFAULT_MAX_RESULT_BYTES } from './serialize.js';
import type { AnyTaskRef } from './task.js';
import type { Clock } from './types.js';

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
  /**
   * How long finished jobs are kept (pruned by the leader, a small batch at a time): by default a
   * day of completed, a week of cancelled and a month of abandoned jobs. `false` keeps every job.
   * See docs/retention.md.
   */
  retention?: RetentionOptions | false;
  /**
   * Schedules defined in code (`defineSchedule`), upserted when the client is created: an
   * unchanged one writes nothing. Schedules fire from the leader while a pool runs.
   */
  schedules?: readonly ScheduleDefinition[];
  /**
   * Flow-control rules defined in code (concurrency and rate limits per queue or per
   * `concurrencyKey`), set when the client is created: an unchanged rule writes nothing. Rules
   * live in the database, so every process enforces the same ones. See docs/flow-control.md.
   */
  flow?: readonly FlowRuleDefinition[];
  /** Run the leader-only queue-health monitor (`queue:health`, `alert:*` events); see docs/health.md. */
  health?: HealthOptions;
  /**
   * The durable event log: on by default (`log: true`), every event of a stored change is
   * written with the change; `processEvents` and `retention` tune it (see EventLogOptions).
   */
  events?: EventLogOptions;
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
  /** Called when an event listener throws. Default: `logger.error` with a logger, else console.error. */
  onListenerError?: (error: unknown, eventName: string) => void;
  /**
   * A pino-compatible logger (pino's own fits; pino is not a dependency): jobwire logs the
   * failures it recovers from to it — `pool:error` and `service:error` at warn — and a listener
   * that throws at error (unless `onListenerError` is set). Default: silent, since the same
   * failures are events. For a line per event (started, completed…) use `logEvents`.
   *
   * @example createJobwire({ driver, logger: pino() })
   */
  logger?: Logger;
}

const CLIENT_OPTION_NAMES = optionNames<JobwireOptions>({
  driver: true,
  tasks: true,
  queues: true,
  maxPayloadBytes: true,
  maxResultBytes: true,
  strictTasks: true,
  migrate: true,
  clock: true,
  maintenance: true,
  retention: true,
  schedules: true,
  flow: true,
  health: true,
  events: true,
  maxInterruptions: true,
  onListenerError: true,
  logger: true,
});
const QUEUE_OPTION_NAMES = optionNames<QueueOptions>({ maxPending: true });

/**
 * Refuse a field of `createJobwire`'s options that nothing reads (a misspelling would leave its
 * default in force without a word). The nested objects are checked where they are read.
 */
export function assertClientOptionNames(options: JobwireOptions): void {
  assertKnownOptions('', options, CLIENT_OPTION_NAMES, 'createJobwire option');
}

/** The byte limits and per-queue `maxPending` of `options`, checked. */
export function resolveLimits(options: JobwireOptions): {
  maxPayloadBytes: number;
  maxResultBytes: number;
  maxPendingByQueue: Map<string, number>;
} {
  const maxPayloadBytes = byteLimit('maxPayloadBytes', options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
  const maxResultBytes = byteLimit('maxResultBytes', options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES);
  const maxPendingByQueue = new Map<string, number>();
  for (const [queue, settings] of Object.entries(options.queues ?? {})) {
    validateQueueName(queue, `queues.${queue}`);
    if (typeof settings !== 'object' || settings === null) {
      throw new InvalidOptionError(`queues.${queue}`, 'must be an object like { maxPending: 1000 }');
    }
    assertKnownOptions(`queues.${queue}`, settings, QUEUE_OPTION_NAMES, 'queue option');
    if (settings.maxPending !== undefined) {
      if (!Number.isInteger(settings.maxPending) || settings.maxPending < 0) {
        throw new InvalidOptionError(`queues.${queue}.maxPending`, 'must be an integer >= 0');
      }
      maxPendingByQueue.set(queue, settings.maxPending);
    }
  }
  return { maxPayloadBytes, maxResultBytes, maxPendingByQueue };
}

function byteLimit(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 16) {
    throw new InvalidOptionError(field, 'must be an integer number of bytes >= 16');
  }
  return value;
}

/**
 * The caller's transaction of enqueue options: `transaction`, or its deprecated alias
 * `executor`. Both naming different handles is a mistake worth stopping.
 */
export function callerTransaction(
  options: { transaction?: unknown; executor?: unknown } | undefined,
): unknown {
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
