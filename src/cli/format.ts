/**
 * Text formatting for the CLI: colours (only on a TTY, never with NO_COLOR), times, durations,
 * aligned tables and one-line renderings of jobwire events.
 */
import { styleText } from 'node:util';
import type { JobwireEvents, StoredError } from '../index.js';

// ----- colour ----------------------------------------------------------------------------------

type Style = Parameters<typeof styleText>[0];

/** Applies a style, or returns the text unchanged when colour is off. */
export type Paint = (style: Style, text: string) => string;

/**
 * Colour is on when the stream is a terminal and NO_COLOR is unset or empty; FORCE_COLOR (not
 * "0") turns it on anyway.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return stream.isTTY === true;
}

/** A painter: colours with util.styleText when enabled, identity otherwise. */
export function painter(enabled: boolean): Paint {
  if (!enabled) return (_style, text) => text;
  return (style, text) => styleText(style, text, { validateStream: false });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point.
const ANSI = /\u001b\[[0-9;]*m/g;

/** Width of a string as displayed (ANSI escapes do not count). */
export function visibleWidth(text: string): number {
  return text.replace(ANSI, '').length;
}

/** Pad to `width` visible characters (left-aligned), or right-align with `right`. */
export function pad(text: string, width: number, right = false): string {
  const gap = Math.max(0, width - visibleWidth(text));
  return right ? ' '.repeat(gap) + text : text + ' '.repeat(gap);
}

/** Cut to at most `max` characters with an ellipsis; newlines become spaces. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}

// ----- time ------------------------------------------------------------------------------------

const two = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time as HH:MM:SS.mmm. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** The local time zone for humans: "Europe/Paris (UTC+01:00)", or "UTC+01:00" alone. */
export function timeZoneLabel(at: number = Date.now()): string {
  const offset = -new Date(at).getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const utc = `UTC${sign}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return name && name !== 'UTC' && name !== 'Etc/UTC' ? `${name} (${utc})` : utc;
}

/** Local date and time as YYYY-MM-DD HH:MM:SS ("invalid date" for a time no Date can hold). */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  // jobwire refuses such due times; a row written by other means must still print readably.
  if (Number.isNaN(d.getTime())) return 'invalid date';
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A duration for humans: 850ms, 1.24s, 2m05s, 3h10m, 2d04h. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 10_000) return `${sign}${(abs / 1000).toFixed(2)}s`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(1)}s`;
  const s = Math.round(abs / 1000);
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m${two(s % 60)}s`;
  const m = Math.round(s / 60);
  if (m < 1440) return `${sign}${Math.floor(m / 60)}h${two(m % 60)}m`;
  const h = Math.round(m / 60);
  return `${sign}${Math.floor(h / 24)}d${two(h % 24)}h`;
}

/** A coarse age: 12s, 5m, 3h, 4d. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

// ----- tables ----------------------------------------------------------------------------------

/** A column of `table`. */
export interface Column {
  header: string;
  /** Right-align (numbers). */
  right?: boolean;
}

/** An aligned text table: a header row, then one row per entry; two spaces between columns. */
export function table(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  paint: Paint,
): string {
  const widths = columns.map((column, i) =>
    Math.max(visibleWidth(column.header), ...rows.map((row) => visibleWidth(row[i] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 && !columns[i]?.right ? cell : pad(cell, widths[i]!, columns[i]?.right),
      )
      .join('  ')
      .trimEnd();
  const header = line(columns.map((column) => column.header));
  return [paint('bold', header), ...rows.map(line)].join('\n');
}

// ----- values ----------------------------------------------------------------------------------

/** JSON that never throws (cycles and BigInts are rendered as strings). */
export function safeJson(value: unknown, indent?: number): string {
  try {
    return (
      JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), indent) ?? 'undefined'
    );
  } catch {
    return String(value);
  }
}

/** A percentage from a progress value: a number, or an object with `percent`. */
export function progressPercent(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (value && typeof value === 'object' && 'percent' in value) {
    const percent = (value as { percent: unknown }).percent;
    if (typeof percent === 'number' && Number.isFinite(percent)) return percent;
  }
  return undefined;
}

/** Progress for humans: "50%", "40% frame=120/300", or short JSON. */
export function formatProgress(value: unknown): string {
  const percent = progressPercent(value);
  if (percent === undefined) return truncate(safeJson(value), 60);
  const parts = [`${Math.round(percent)}%`];
  if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'percent' || v === null || typeof v === 'object') continue;
      parts.push(`${key}=${String(v)}`);
    }
  }
  return truncate(parts.join(' '), 60);
}

/** Error classes whose message already says it all (jobwire's own say what happened). */
const SELF_EXPLAINING =
  /^(Error|JobwireError|UnrecoverableError|JobTimeoutError|JobCancelledError|ShutdownAbortError|LeaseLostError)$/;

/** "SMTP 421 try again later", or "TypeError: …" when the class adds something. */
export function errorSummary(
  error: Pick<StoredError, 'name' | 'message'> | null | undefined,
  max = 80,
): string {
  if (!error) return '';
  const generic =
    error.name === '' || SELF_EXPLAINING.test(error.name) || error.message.startsWith(error.name);
  return truncate(generic ? error.message : `${error.name}: ${error.message}`, max);
}

// ----- events ----------------------------------------------------------------------------------

/**
 * Width of the event-name column: the longest job event name. The rarer, longer names
 * (`shutdown:requested`) carry no job columns, so nothing needs to line up after them.
 */
export const EVENT_WIDTH = 'job:interrupted'.length;

/** Lines never exceed this many columns unless the terminal says it is wider. */
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
  'job:rescued': ['bold', 'yellow'],
  'job:interrupted': ['bold', 'yellow'],
  'job:lease-lost': ['bold', 'yellow'],
  'pool:error': ['bold', 'red'],
  'service:error': ['bold', 'red'],
  'job:retried': 'blue',
  'queue:full': ['bold', 'yellow'],
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
  detail: string;
}

/**
 * One event as one line — time, the event name in a fixed-width coloured column, then for a job
 * event the job (id, task, queue, attempt/max, worker) in aligned columns, then what happened —
 * or two when that would be wider than `width` (default 80): the detail then goes on its own
 * line under the event name, cut to fit.
 */
export function formatEvent(
  name: string,
  payload: AnyPayload,
  paint: Paint,
  options: { now?: number; width?: number } = {},
): string {
  const width = options.width ?? LINE_WIDTH;
  const time = clockTime(options.now ?? Date.now());
  const { columns, detail } = describeEvent(name, payload, paint, width - DETAIL_INDENT);
  const head = `${paint('gray', time)} ${paint(styleOf(name), pad(name, EVENT_WIDTH))}${columns ? ` ${columns}` : ''}`;
  const one = `${head} ${detail}`.trimEnd();
  if (visibleWidth(one) <= width || detail === '') return one;
  const room = width - DETAIL_INDENT;
  const fitted = visibleWidth(detail) <= room ? detail : truncate(detail.replace(ANSI, ''), room);
  return `${head.trimEnd()}\n${' '.repeat(DETAIL_INDENT)}${fitted}`;
}

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

/** `room`: the columns a detail has on a line of its own (errors are cut to fit it). */
function describeEvent(name: string, payload: AnyPayload, paint: Paint, room: number): Described {
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
      const error = errorSummary(e.error, room - 8);
      return {
        columns: job(attemptOf(e), workerLabel(e.workerId)),
        detail: `${pad(duration(e.durationMs), 7)} ${paint('red', error)}`,
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
      const error = errorSummary(e.error, Math.max(20, room - e.reason.length - 2));
      return { columns: job(attemptOf(e), ''), detail: paint('red', `${e.reason}: ${error}`) };
    }
    case 'job:cancelled': {
      const e = payload as unknown as JobwireEvents['job:cancelled'];
      return { columns: job(attemptOf(e), ''), detail: `was ${e.previousState}` };
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
      return { detail: `${e.operation} failed: ${paint('red', errorSummary(e.error, room - 30))}${retry}` };
    }
    case 'service:error': {
      const e = payload as unknown as JobwireEvents['service:error'];
      const retry = e.retryInMs > 0 ? dim(` (retry in ${duration(e.retryInMs)})`) : '';
      return {
        detail: `${e.service} ${e.operation} failed: ${paint('red', errorSummary(e.error, room - 40))}${retry}`,
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

/** key=value for an event this version does not know how to render. */
function genericFields(payload: AnyPayload): string {
  return truncate(
    Object.entries(payload)
      .filter(([key]) => key !== 'at')
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : safeJson(value)}`)
      .join(' '),
    160,
  );
}
