/**
 * Structured logs of a client's events: `logEvents(jobwire, logger)` writes one line per event to
 * a pino-compatible logger (`logger.info(fields, message)`), at a level chosen per event, with the
 * event's name in `event`, its identifying fields and a short message. Job bodies — payload
 * results, progress values, metadata — stay out unless asked for: they may be large or private.
 */

// Not the package entry: it re-exports this module, so importing it back would be a cycle.
import { assertEventNames } from '../core/event-log/names.js';
import type { AnyEventListener, EventBus, JobwireEventName, JobwireEvents } from '../core/events.js';
import { assertKnownOptions, optionNames } from '../core/known-options.js';
import type { Logger } from '../core/runtime.js';

/** A logger method's name, or `off` to drop the event. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

/** Options of `logEvents`. */
export interface LogEventsOptions {
  /**
   * Per-event level overrides; the rest keep the defaults (see `defaultLogLevel`). `off` drops an
   * event. A function gets the event's payload, e.g. to log only some queues' progress.
   */
  level?: { [K in JobwireEventName]?: LogLevel | ((event: JobwireEvents[K]) => LogLevel) };
  /** Which events to log: a list of names or a predicate. Default: every event. */
  events?: readonly JobwireEventName[] | ((name: JobwireEventName) => boolean);
  /**
   * Also log the bodies: `result` (job:completed), `progress` (job:progress) and `metadata`
   * (job:queued). Default false.
   */
  includeBodies?: boolean;
}

/** Every field of `LogEventsOptions` (the compiler checks the list against it); any other key is refused. */
const LOG_EVENTS_OPTION_NAMES = optionNames<LogEventsOptions>({
  level: true,
  events: true,
  includeBodies: true,
});

/** Fields never logged unless `includeBodies` is set. */
const BODY_FIELDS = new Set(['result', 'progress', 'metadata']);

/** Events fired for every worker slot or progress report: logged at debug by default. */
const DEBUG_EVENTS = new Set<string>([
  'job:queued',
  'job:deduplicated',
  'job:debounced',
  'job:started',
  'job:progress',
  'job:retrying',
  'pool:created',
  'worker:created',
  'worker:started',
  'worker:idle',
  'worker:busy',
  'worker:stopped',
  // Every health interval, for every queue: a line per queue per interval at info drowned the rest.
  'queue:health',
]);

/** Events that need an operator's attention. */
const ERROR_EVENTS = new Set<string>(['job:abandoned', 'pool:error', 'service:error']);

/** Something went wrong but jobwire recovered (or will retry). */
const WARN_EVENTS = new Set<string>([
  'job:rescued',
  'job:interrupted',
  'job:lease-lost',
  'queue:full',
  // What the health monitor and the leader raise for an operator: an alert, a backlog, a lost process.
  'alert:fired',
  'queue:backlog',
  'pool:lost',
]);

/**
 * The default level of an event: `error` for job:abandoned, pool:error, service:error and a
 * failure that will not be retried; `warn` for a failure that will be, for rescues,
 * interruptions, lost leases, full queues, fired alerts, backlogs and lost pools; `debug` for the
 * per-job and per-worker chatter (queued, deduplicated, debounced, started, progress, retrying,
 * worker:*) and the periodic queue:health; `info` for the rest
 * (job:completed, cancellations, pools starting and stopping, leadership, queue pauses). An event
 * name added later defaults to `info`.
 */
export function defaultLogLevel<K extends JobwireEventName>(name: K, event: JobwireEvents[K]): LogLevel {
  if (name === 'job:failed') return (event as JobwireEvents['job:failed']).willRetry ? 'warn' : 'error';
  if (ERROR_EVENTS.has(name)) return 'error';
  if (WARN_EVENTS.has(name)) return 'warn';
  if (DEBUG_EVENTS.has(name)) return 'debug';
  return 'info';
}

/**
 * Log every event of `jobwire` (anything with an `events` bus) to `logger`. Returns a function
 * that stops logging. A logger that throws is reported like any listener (`onListenerError`).
 * An option key `LogEventsOptions` does not name is an `InvalidOptionError`.
 */
export function logEvents(
  jobwire: { readonly events: EventBus },
  logger: Logger,
  options: LogEventsOptions = {},
): () => void {
  assertKnownOptions('', options, LOG_EVENTS_OPTION_NAMES, 'logEvents option');
  const { level: overrides = {}, events, includeBodies = false } = options;
  // A misspelt name would leave its event at the default level, or never logged, without a word.
  assertEventNames('level', Object.keys(overrides));
  if (Array.isArray(events)) assertEventNames('events', events);
  const wanted =
    events === undefined
      ? () => true
      : typeof events === 'function'
        ? events
        : (
            (names: ReadonlySet<string>) => (name: string) =>
              names.has(name)
          )(new Set(events));
  const listener: AnyEventListener = (name, event) => {
    if (!wanted(name)) return;
    const override = overrides[name] as LogLevel | ((event: unknown) => LogLevel) | undefined;
    const level =
      override === undefined
        ? defaultLogLevel(name, event)
        : typeof override === 'function'
          ? override(event)
          : override;
    if (level === 'off') return;
    logger[level](logFields(name, event, includeBodies), logMessage(name, event));
  };
  return jobwire.events.onAny(listener);
}

/**
 * Keys pino writes on every line itself. An event field of one of these names would be written a
 * second time (two `"pid"` keys: JSON.parse keeps the event's, log stores that refuse duplicate
 * keys drop the line), so it is logged under the event's scope: `pool:lost`'s `pid` is `poolPid`.
 */
const LOGGER_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** The event's fields for the log line: `event` first, bodies left out unless asked for. */
function logFields(name: string, event: object, includeBodies: boolean): Record<string, unknown> {
  const fields: Record<string, unknown> = { event: name };
  const scope = name.slice(0, name.indexOf(':'));
  for (const [key, value] of Object.entries(event)) {
    if (!includeBodies && BODY_FIELDS.has(key)) continue;
    fields[LOGGER_KEYS.has(key) ? `${scope}${key[0]!.toUpperCase()}${key.slice(1)}` : key] = value;
  }
  return fields;
}

/** A short human sentence; the fields carry the detail. */
export function logMessage<K extends JobwireEventName>(name: K, event: JobwireEvents[K]): string {
  const e = event as Partial<Record<string, unknown>>;
  const job = typeof e.jobId === 'string' ? `job ${e.jobId} (${String(e.task)})` : undefined;
  switch (name) {
    case 'job:queued':
      return `${job} queued on ${String(e.queue)}`;
    case 'job:deduplicated':
      return `${job} answered an enqueue (${String(e.rule)} key ${String(e.key)})`;
    case 'job:debounced':
      return `${job} debounced (key ${String(e.key)}): payload replaced, due at ${new Date(Number(e.runAt)).toISOString()}`;
    case 'job:started':
      return `${job} started attempt ${String(e.attempt)}/${String(e.maxAttempts)}`;
    case 'job:progress':
      return `${job} reported progress`;
    case 'job:completed':
      return `${job} completed in ${String(e.durationMs)} ms`;
    case 'job:failed':
      return `${job} failed attempt ${String(e.attempt)}/${String(e.maxAttempts)}: ${errorText(e.error)}${
        e.willRetry ? ' (will retry)' : ''
      }`;
    case 'job:retrying':
      return `${job} retries in ${String(e.delayMs)} ms`;
    case 'job:snoozed':
      return `${job} snoozed for ${String(e.delayMs)} ms`;
    case 'job:abandoned':
      return `${job} abandoned (${String(e.reason)}): ${errorText(e.error)}`;
    case 'pool:error':
      return `pool ${String(e.poolId)} ${String(e.operation)} failed: ${errorText(e.error)}`;
    case 'service:error':
      return `${String(e.service)} ${String(e.operation)} failed: ${errorText(e.error)}`;
    case 'queue:full':
      return `queue ${String(e.queue)} is full (${String(e.pending)}/${String(e.maxPending)} waiting)`;
    case 'flow:held':
      return `${e.key === null ? 'queue' : `key ${String(e.key)} of queue`} ${String(e.queue)} held by its ${String(e.limit)} limit`;
    case 'pool:lost':
      return `pool ${String(e.poolId)} lost (pid ${String(e.pid)} on ${String(e.host)}, last seen ${new Date(Number(e.lastSeenAt)).toISOString()})`;
    case 'flow:unheld':
      return `${e.key === null ? 'queue' : `key ${String(e.key)} of queue`} ${String(e.queue)} no longer held (${String(e.reason)}) after ${String(e.heldMs)} ms`;
    default: {
      // `job:cancelled` → "job 7 (send) cancelled"; `pool:started` → "pool started".
      const action = name.slice(name.indexOf(':') + 1).replace('-', ' ');
      return job ? `${job} ${action}` : `${name.slice(0, name.indexOf(':'))} ${action}`;
    }
  }
}

function errorText(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { name, message } = error as { name?: unknown; message?: unknown };
  return `${String(name)}: ${String(message)}`;
}
