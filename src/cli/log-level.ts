/**
 * Levels of the CLI's event stream (`--log-level`, `JOBWIRE_LOG_LEVEL`) and the pino-compatible
 * fields of its `--json` lines: `time` (epoch ms), `level` (pino's numbers: 20 debug, 30 info,
 * 40 warn, 50 error) and `msg`, so `jobwire worker --json | pino-pretty` and log shippers that
 * read pino's format need no adapter.
 *
 * An event's level is the log sink's (`defaultLogLevel`, as `logEvents` logs it), except that
 * the per-job events it keeps at debug (queued, started, progress, retrying) are info here: a
 * job's start is what a worker's stream is for. Per-slot chatter stays debug: `worker:*` (one
 * line per slot and per job) and `pool:created` (pool:started says the same).
 */
import { defaultLogLevel, type JobwireEventName, type JobwireEvents } from '../index.js';
import { closest, UsageError } from './args.js';

/** The levels `--log-level` accepts, quietest last. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** One of `LOG_LEVELS`. */
export type CliLogLevel = (typeof LOG_LEVELS)[number];

/** pino's numeric levels. */
export const PINO_LEVEL: Record<CliLogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

const JOB_EVENTS_AT_INFO = new Set(['job:queued', 'job:started', 'job:progress', 'job:retrying']);

/** The level of one event in the CLI's stream (see the module comment). */
export function eventLevel(name: string, event: object): CliLogLevel {
  const level = defaultLogLevel(name as JobwireEventName, event as JobwireEvents[JobwireEventName]);
  if (level === 'off') return 'debug';
  if (level === 'debug' && JOB_EVENTS_AT_INFO.has(name)) return 'info';
  return level;
}

/** True when `level` is at or above `threshold`. */
export function atLeast(level: CliLogLevel, threshold: CliLogLevel): boolean {
  return PINO_LEVEL[level] >= PINO_LEVEL[threshold];
}

/** Parse `--log-level` (or its environment variable, named by `source`). */
export function logLevelOption(value: string | undefined, source = '--log-level'): CliLogLevel | undefined {
  if (value === undefined) return undefined;
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as CliLogLevel;
  const guess = closest(level, LOG_LEVELS);
  throw new UsageError(
    `${source} must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`,
    guess ? `did you mean "${guess}"?` : undefined,
  );
}
