/**
 * The `events` client option: whether writes store their events in the durable log, what each
 * process adds of its own, and how long the log keeps them.
 */
import { InvalidOptionError } from '../errors.js';
import type { JobwireEventName } from '../events.js';
import { assertKnownOptions, optionNames } from '../known-options.js';

/** Default retention: events written in the last 7 days are kept. */
export const DEFAULT_EVENT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Events no stored change causes, which each process writes to the log itself (batched, a few
 * times a second): its pools and workers coming and going, progress, fence rejections, leader
 * changes, errors of services, health reports. `worker:busy` and `worker:idle` (two per job) are
 * left out by default: `job:started` already says which pool runs what.
 */
export const DEFAULT_PROCESS_EVENTS: readonly JobwireEventName[] = [
  'pool:created',
  'pool:started',
  'pool:stopping',
  'pool:stopped',
  'pool:error',
  'pool:lost',
  'worker:created',
  'worker:started',
  'worker:stopped',
  'job:progress',
  'job:lease-lost',
  'leader:elected',
  'leader:resigned',
  'service:error',
  'queue:full',
  'queue:health',
  'shutdown:requested',
];

/** How long the log keeps events. The leader prunes whole transactions' rows, oldest first. */
export interface EventRetentionOptions {
  /** Keep events written in the last this many ms. Default 7 days; `Infinity` keeps them by age. */
  maxAgeMs?: number;
  /** Also keep at most this many rows (one per writing transaction). Default: no limit. */
  maxRows?: number;
  /** How often the leader prunes. Default 60 000 ms. */
  intervalMs?: number;
}

/** The `events` option of `createJobwire`. */
export interface EventLogOptions {
  /**
   * Store every event of a stored change in the durable log, in the change's own transaction.
   * Default true. Off, `jobwire.events.read/tail/subscribe` see only what was stored while it was on.
   */
  log?: boolean;
  /** Events this process writes to the log itself; default `DEFAULT_PROCESS_EVENTS`, `[]` for none. */
  processEvents?: readonly JobwireEventName[];
  retention?: EventRetentionOptions;
}

/** `EventLogOptions` checked, with defaults. */
export interface EventLogSettings {
  log: boolean;
  processEvents: readonly JobwireEventName[];
  retention: { maxAgeMs: number; maxRows: number | undefined; intervalMs: number };
}

const EVENT_LOG_OPTION_NAMES = optionNames<EventLogOptions>({
  log: true,
  processEvents: true,
  retention: true,
});
const EVENT_RETENTION_NAMES = optionNames<EventRetentionOptions>({
  maxAgeMs: true,
  maxRows: true,
  intervalMs: true,
});

/** Check the `events` option; throws `InvalidOptionError` naming the field. */
export function resolveEventLogOptions(options: EventLogOptions | undefined): EventLogSettings {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) {
    throw new InvalidOptionError('events', 'must be an object like { log: true }');
  }
  assertKnownOptions('events', o, EVENT_LOG_OPTION_NAMES, 'event log option');
  if (o.log !== undefined && typeof o.log !== 'boolean') {
    throw new InvalidOptionError('events.log', 'must be true or false');
  }
  const processEvents = o.processEvents ?? DEFAULT_PROCESS_EVENTS;
  if (!Array.isArray(processEvents) || processEvents.some((name) => typeof name !== 'string')) {
    throw new InvalidOptionError('events.processEvents', 'must be an array of event names');
  }
  const r = o.retention ?? {};
  if (typeof r !== 'object' || r === null) {
    throw new InvalidOptionError('events.retention', 'must be an object like { maxAgeMs: 86400000 }');
  }
  assertKnownOptions('events.retention', r, EVENT_RETENTION_NAMES, 'retention option');
  const maxAgeMs = r.maxAgeMs ?? DEFAULT_EVENT_RETENTION_MS;
  if (typeof maxAgeMs !== 'number' || Number.isNaN(maxAgeMs) || maxAgeMs < 1000) {
    throw new InvalidOptionError('events.retention.maxAgeMs', 'must be a number of ms >= 1000 (or Infinity)');
  }
  if (r.maxRows !== undefined && (!Number.isInteger(r.maxRows) || r.maxRows < 1)) {
    throw new InvalidOptionError('events.retention.maxRows', 'must be an integer >= 1');
  }
  const intervalMs = r.intervalMs ?? 60_000;
  if (!Number.isInteger(intervalMs) || intervalMs < 10) {
    throw new InvalidOptionError('events.retention.intervalMs', 'must be an integer >= 10');
  }
  return { log: o.log ?? true, processEvents, retention: { maxAgeMs, maxRows: r.maxRows, intervalMs } };
}
