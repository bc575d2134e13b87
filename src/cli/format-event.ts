/**
 * One jobwire event as a readable line: the event stream of `jobwire worker` and `jobwire dev`.
 * Fitted to a width (a terminal, and `dev` always), a long detail moves under the event name and
 * an error message wraps there whole; without a width (a worker writing to a file or a pipe) an
 * event is one line, however long, and nothing is cut.
 */
import type { JobwireEvents } from '../index.js';
import { flowHeldText, flowUnheldText } from './flow-text.js';
import {
  clockTime,
  duration,
  errorSummary,
  formatProgress,
  oneLine,
  type Paint,
  pad,
  type Style,
  safeJson,
  stripAnsi,
  truncate,
  visibleWidth,
  wrap,
} from './format.js';

/**
 * Width of the event-name column: the longest job event name. The rarer, longer names
 * (`shutdown:requested`) carry no job columns, so nothing needs to line up after them.
 */
export const EVENT_WIDTH = 'job:interrupted'.length;

/** The width lines are fitted to when no terminal says otherwise (`dev` when piped). */
export const LINE_WIDTH = 80;

/** A wrapped detail starts under the event name: after the time column and its space. */
export const DETAIL_INDENT = 'HH:MM:SS.mmm '.length;

const EVENT_STYLE: Record<string, Style> = {
  'job:queued': 'blue',
  'job:started': 'cyan',
  'job:progress': 'gray',
  'job:completed': 'green',
  'job:failed': 'red',
  'job:retrying': 'yellow',
  'job:snoozed': 'yellow',
  'job:abandoned': ['bold', 'red'],
  'job:cancelled': 'magenta',
  'job:deleted': 'magenta',
  'job:rescued': ['bold', 'yellow'],
  'job:interrupted': ['bold', 'yellow'],
  'job:lease-lost': ['bold', 'yellow'],
  'pool:error': ['bold', 'red'],
  'service:error': ['bold', 'red'],
  'job:retried': 'blue',
  'queue:full': ['bold', 'yellow'],
  'flow:held': 'yellow',
  'flow:unheld': 'green',
  'shutdown:requested': ['bold', 'yellow'],
};

function styleOf(name: string): Style {
  const style = EVENT_STYLE[name];
  if (style) return style;
  if (name.startsWith('worker:')) return 'gray';
  if (name.startsWith('pool:')) return ['bold', 'magenta'];
  if (name.startsWith('queue:')) return 'blue';
  if (name.startsWith('leader:')) return ['bold', 'magenta'];
  return 'white';
}

/** Short worker label: the slot number of a "host:pid:rand/3" worker id → "w3". */
export function workerLabel(workerId: string | null | undefined): string {
  if (!workerId) return '';
  const slash = workerId.lastIndexOf('/');
  const slot = slash >= 0 ? workerId.slice(slash + 1) : '';
  return /^\d+$/.test(slot) ? `w${slot}` : workerId;
}

/** Column widths of job event lines: 13 + 16 + 53 columns leave ≥ 12 for a short detail. */
const W = { id: 5, task: 15, queue: 7, attempt: 4, worker: 3 };

type AnyPayload = Record<string, unknown>;

/** What an event says after its name: the job's columns (job events) and a detail. */
interface Described {
  columns?: string;
  /** Whole: never cut here, so a log line can carry all of it. */
  detail: string;
  /**
   * True when the detail carries an error message: fitted to a width it wraps, never cut (the
   * part that says what to do is often at the end). Other details are cut to fit.
   */
  error?: boolean;
}

/**
 * One event as one line — time, the event name in a fixed-width coloured column, then for a job
 * event the job (id, task, queue, attempt/max, worker) in aligned columns, then what happened.
 * When that is wider than `width` (default 80) the detail goes on its own line under the event
 * name: cut to fit, except an error, which wraps over as many lines as it needs. `width:
 * Infinity` keeps every event on one line, whole (a log file, a pipe).
 */
export function formatEvent(
  name: string,
  payload: AnyPayload,
  paint: Paint,
  options: { now?: number; width?: number } = {},
): string {
  const width = options.width ?? LINE_WIDTH;
  const time = clockTime(options.now ?? Date.now());
  const described = describeEvent(name, payload, paint);
  const { columns } = described;
  const detail = oneLine(described.detail);
  const head = `${paint('gray', time)} ${paint(styleOf(name), pad(name, EVENT_WIDTH))}${columns ? ` ${columns}` : ''}`;
  const one = `${head} ${detail}`.trimEnd();
  if (visibleWidth(one) <= width || detail === '') return one;
  const room = width - DETAIL_INDENT;
  const indent = ' '.repeat(DETAIL_INDENT);
  // Every detail line starts under the event name (docs/cli.md: dev's layout), wrapped or not.
  const lines = described.error
    ? wrap(detail, room)
    : [visibleWidth(detail) <= room ? detail : truncate(stripAnsi(detail), room)];
  return [head.trimEnd(), ...lines.map((line) => indent + line)].join('\n');
}

/** An error's summary for a detail: whole (formatEvent wraps it when it fits a width). */
const wholeError = (error: Parameters<typeof errorSummary>[0]) =>
  errorSummary(error, Number.POSITIVE_INFINITY);

function jobColumns(
  e: { jobId: string; task: string; queue: string },
  attempt: string,
  worker: string,
): string {
  return [
    pad(`#${e.jobId}`, W.id),
    pad(truncate(e.task, W.task), W.task),
    pad(truncate(e.queue, W.queue), W.queue),
    pad(attempt, W.attempt),
    pad(worker, W.worker),
  ].join(' ');
}

const attemptOf = (e: { attempt: number; maxAttempts: number }) =>
  e.maxAttempts > 0 ? `${e.attempt}/${e.maxAttempts}` : '';

function describeEvent(name: string, payload: AnyPayload, paint: Paint): Described {
  const dim = (text: string) => paint('gray', text);
  const job = (attempt: string, worker: string) =>
    jobColumns(payload as unknown as { jobId: string; task: string; queue: string }, attempt, worker);
  switch (name) {
    case 'job:queued': {
      const e = payload as unknown as JobwireEvents['job:queued'];
      const parts: string[] = [];
      if (e.runAt > e.queuedAt + 5) parts.push(`in ${duration(e.runAt - e.queuedAt)}`);
      if (e.priority !== 0) parts.push(`priority ${e.priority}`);
      if (e.uniqueKey) parts.push(dim(`key ${e.uniqueKey}`));
      return { columns: job(`0/${e.maxAttempts}`, ''), detail: parts.join(' ') };
    }
    case 'job:deduplicated': {
      const e = payload as unknown as JobwireEvents['job:deduplicated'];
      return { columns: job(attemptOf(e), ''), detail: dim(`${e.rule} key ${e.key}: already ${e.state}`) };
    }
    case 'job:debounced': {
      const e = payload as unknown as JobwireEvents['job:debounced'];
      return {
        columns: job(attemptOf(e), ''),
        detail: `payload replaced, runs in ${duration(Math.max(0, e.runAt - e.at))} ${dim(`key ${e.key}`)}`,
      };
    }
    case 'job:started': {
      const e = payload as unknown as JobwireEvents['job:started'];
      return {
        columns: job(attemptOf(e), workerLabel(e.workerId)),
        detail: dim(`wait ${duration(e.waitMs)}`),
      };
    }
    case 'job:progress': {
      const e = payload as unknown as JobwireEvents['job:progress'];
      return { columns: job(attemptOf(e), workerLabel(e.workerId)), detail: formatProgress(e.progress) };
    }
    case 'job:completed': {
      const e = payload as unknown as JobwireEvents['job:completed'];
      return {
        columns: job(attemptOf(e), workerLabel(e.workerId)),
        detail: paint('green', duration(e.durationMs)),
      };
    }
    case 'job:failed': {
      const e = payload as unknown as JobwireEvents['job:failed'];
      return {
        columns: job(attemptOf(e), workerLabel(e.workerId)),
        detail: `${pad(duration(e.durationMs), 7)} ${paint('red', wholeError(e.error))}`,
        error: true,
      };
    }
    case 'job:retrying': {
      const e = payload as unknown as JobwireEvents['job:retrying'];
      return {
        columns: job(attemptOf(e), workerLabel(e.workerId)),
        detail: `next in ${duration(e.delayMs)} ${dim(`at ${clockTime(e.nextRunAt)}`)}`,
      };
    }
    case 'job:snoozed': {
      const e = payload as unknown as JobwireEvents['job:snoozed'];
      return {
        columns: job(attemptOf(e), workerLabel(e.workerId)),
        detail: `again in ${duration(e.delayMs)}`,
      };
    }
    case 'job:abandoned': {
      const e = payload as unknown as JobwireEvents['job:abandoned'];
      return {
        columns: job(attemptOf(e), ''),
        detail: paint('red', `${e.reason}: ${wholeError(e.error)}`),
        error: true,
      };
    }
    case 'job:cancelled': {
      const e = payload as unknown as JobwireEvents['job:cancelled'];
      const cause = e.dependencyId ? `; dependency #${e.dependencyId} failed` : '';
      return { columns: job(attemptOf(e), ''), detail: `was ${e.previousState}${cause}` };
    }
    case 'job:deleted': {
      const e = payload as unknown as JobwireEvents['job:deleted'];
      return { columns: job(attemptOf(e), ''), detail: `was ${e.previousState}` };
    }
    case 'job:blocked': {
      const e = payload as unknown as JobwireEvents['job:blocked'];
      const ids = (e.dependencyIds ?? []).map((id) => `#${id}`).join(', ');
      const detail = e.reason === 'waiting' ? `waits for ${ids}` : `dependency ${ids} failed; stays blocked`;
      return { columns: job(attemptOf(e), ''), detail };
    }
    case 'job:unblocked': {
      const e = payload as unknown as JobwireEvents['job:unblocked'];
      return { columns: job(attemptOf(e), ''), detail: `${e.state} after #${e.dependencyId}` };
    }
    case 'job:retried': {
      const e = payload as unknown as JobwireEvents['job:retried'];
      return { columns: job(`0/${e.maxAttempts}`, ''), detail: `was ${e.previousState}; fresh attempts` };
    }
    case 'job:rescued': {
      const e = payload as unknown as JobwireEvents['job:rescued'];
      const from = e.previousPoolId ? ` from ${e.previousPoolId}` : '';
      return {
        columns: job(attemptOf(e), ''),
        detail: `lease expired at ${clockTime(e.leaseExpiredAt)}${from}; queued again`,
      };
    }
    case 'job:interrupted': {
      const e = payload as unknown as JobwireEvents['job:interrupted'];
      const then = e.willRunAgain ? 'runs again, same attempt' : 'interruption budget used up';
      return {
        columns: job(attemptOf(e), workerLabel(e.workerId)),
        detail: `shutdown cut it off (interruption ${e.interruptions}); ${then}`,
      };
    }
    case 'job:lease-lost': {
      const e = payload as unknown as JobwireEvents['job:lease-lost'];
      return {
        columns: job(attemptOf(e), workerLabel(e.workerId)),
        detail: 'lease lost (cancelled, deleted or rescued elsewhere); attempt aborted',
      };
    }
    case 'worker:busy': {
      const e = payload as unknown as JobwireEvents['worker:busy'];
      return {
        detail: dim(
          `${pad(`#${e.jobId}`, W.id)} ${pad(e.task, W.task)} ${' '.repeat(W.queue + W.attempt + 1)} ${workerLabel(e.workerId)}`,
        ),
      };
    }
    case 'worker:created':
    case 'worker:started':
    case 'worker:idle':
    case 'worker:stopped': {
      const e = payload as unknown as JobwireEvents['worker:idle'];
      return {
        detail: dim(`${' '.repeat(W.id + W.task + W.queue + W.attempt + 3)} ${workerLabel(e.workerId)}`),
      };
    }
    case 'pool:created':
    case 'pool:started': {
      const e = payload as unknown as JobwireEvents['pool:started'];
      return { detail: `concurrency ${e.concurrency} · queues ${e.queues.join(',')}` };
    }
    case 'pool:stopping': {
      const e = payload as unknown as JobwireEvents['pool:stopping'];
      return { detail: `${e.reason}; ${e.running} running, grace ${duration(e.graceMs)}` };
    }
    case 'pool:stopped': {
      const e = payload as unknown as JobwireEvents['pool:stopped'];
      return { detail: `pool ${e.poolId} · aborted ${e.aborted}, released ${e.released}` };
    }
    case 'pool:error': {
      const e = payload as unknown as JobwireEvents['pool:error'];
      const retry = e.retryInMs > 0 ? dim(` (retry in ${duration(e.retryInMs)})`) : '';
      return { detail: `${e.operation} failed: ${paint('red', wholeError(e.error))}${retry}`, error: true };
    }
    case 'service:error': {
      const e = payload as unknown as JobwireEvents['service:error'];
      const retry = e.retryInMs > 0 ? dim(` (retry in ${duration(e.retryInMs)})`) : '';
      return {
        detail: `${e.service} ${e.operation} failed: ${paint('red', wholeError(e.error))}${retry}`,
        error: true,
      };
    }
    case 'leader:elected':
      return { detail: 'this process runs the leader-only services' };
    case 'leader:resigned': {
      const e = payload as unknown as JobwireEvents['leader:resigned'];
      return {
        detail: e.reason === 'lost' ? 'lost leadership to another process' : 'gave leadership up (stopped)',
      };
    }
    case 'flow:held':
      return { detail: flowHeldText(payload as unknown as JobwireEvents['flow:held']) };
    case 'flow:unheld':
      return { detail: flowUnheldText(payload as unknown as JobwireEvents['flow:unheld']) };
    case 'queue:paused':
    case 'queue:resumed': {
      const e = payload as unknown as JobwireEvents['queue:paused'];
      return { detail: `queue ${e.queue}` };
    }
    case 'queue:full': {
      const e = payload as unknown as JobwireEvents['queue:full'];
      return { detail: `queue ${e.queue} refused ${e.task}: ${e.pending} waiting, limit ${e.maxPending}` };
    }
    case 'shutdown:requested': {
      const e = payload as unknown as JobwireEvents['shutdown:requested'];
      return {
        detail: e.forced
          ? `${e.signal} again: aborting running jobs and exiting now`
          : `${e.signal}: finishing running jobs (up to ${duration(e.graceMs)}); ${e.signal === 'SIGINT' ? 'Ctrl-C' : e.signal} again forces`,
      };
    }
    default:
      return { detail: genericFields(payload) };
  }
}

/** key=value for an event this version does not know how to render (cut only to fit a width). */
function genericFields(payload: AnyPayload): string {
  return Object.entries(payload)
    .filter(([key]) => key !== 'at')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : safeJson(value)}`)
    .join(' ');
}
