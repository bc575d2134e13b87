/**
 * Events of the durable log as one line each, for `jobwire events`: the time the event was
 * committed to the log (so times follow the order of the lines) with its zone, the event name,
 * the job (id, queue/task, attempt) and a short detail — at most `LINE_WIDTH` columns, the
 * detail cut first. Lines carry the time of day only; `EventLinePrinter` adds a date line when
 * the day changes, so a timeline spanning days stays unambiguous. */
import {
  LOGGED_EVENT_NAMES,
  type LoggedEvent,
  type LoggedEventName,
  type LoggedEvents,
  type StoredError,
} from '../index.js';
import { flowHeldText, flowUnheldText } from './flow-text.js';
import { dateTime, duration, errorSummary, formatProgress, type Paint, pad, truncate } from './format.js';

/** The widest a line gets (columns). */
export const LINE_WIDTH = 100;

/** The event names, in catalogue order (for `--type` checks and "did you mean" hints). */
export const EVENT_NAMES = LOGGED_EVENT_NAMES;

const two = (n: number) => String(Math.floor(n)).padStart(2, '0');

/** The local zone's offset at `ms` as `Z` (UTC) or `+01:00`. */
export function zoneOf(ms: number): string {
  const offset = -new Date(ms).getTimezoneOffset();
  if (offset === 0) return 'Z';
  const abs = Math.abs(offset);
  return `${offset < 0 ? '-' : '+'}${two(abs / 60)}:${two(abs % 60)}`;
}

/** Local time of day with milliseconds and zone: `14:03:07.250+01:00`, `13:03:07.250Z` in UTC. */
export function eventTime(ms: number): string {
  const d = new Date(ms);
  const millis = String(d.getMilliseconds()).padStart(3, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${millis}${zoneOf(ms)}`;
}

const STYLE: Partial<Record<string, Parameters<Paint>[0]>> = {
  'job:queued': 'blue',
  'job:started': 'cyan',
  'job:progress': 'gray',
  'job:completed': 'green',
  'job:failed': 'red',
  'job:abandoned': ['bold', 'red'],
  'job:retrying': 'yellow',
  'job:snoozed': 'yellow',
  'job:cancelled': 'magenta',
  'job:deleted': 'magenta',
  'job:rescued': ['bold', 'yellow'],
  'job:interrupted': ['bold', 'yellow'],
  'job:lease-lost': ['bold', 'yellow'],
  'pool:error': ['bold', 'red'],
  'pool:lost': ['bold', 'red'],
  'service:error': ['bold', 'red'],
  'alert:fired': ['bold', 'red'],
  'alert:resolved': 'green',
  'queue:backlog': ['bold', 'yellow'],
  'queue:full': ['bold', 'yellow'],
  'flow:held': 'yellow',
  'flow:unheld': 'green',
};

/** Column widths: event name, `#id`, `queue/task`, `attempt/max`. */
const W = { type: 13, id: 7, where: 20, attempt: 5 } as const;

type Data = Record<string, unknown>;

/** One event as one line of at most `width` columns (colours do not count). */
export function eventLine(
  event: Pick<LoggedEvent, 'type' | 'data' | 'at'>,
  paint: Paint,
  width = LINE_WIDTH,
) {
  const data = event.data as Data;
  const time = eventTime(event.at);
  const type = event.type as string;
  const job =
    typeof data.jobId === 'string'
      ? [
          pad(`#${data.jobId}`, W.id),
          pad(truncate(`${String(data.queue)}/${String(data.task)}`, W.where), W.where),
          pad(attemptOf(type, data), W.attempt),
        ].join(' ')
      : undefined;
  const head = `${time}  ${pad(type, W.type)} ${job === undefined ? '' : `${job} `}`;
  const room = Math.max(10, width - head.length);
  const detail = truncate(eventDetail(event.type, data), room).trimEnd();
  const plain = `${head}${detail}`.trimEnd();
  if (plain.length > width) return truncate(plain, width); // an id or name longer than its column
  const style = STYLE[type];
  const name = style ? paint(style, pad(type, W.type)) : pad(type, W.type);
  return `${paint('gray', time)}  ${name} ${job ?? ''}${job === undefined ? '' : ' '}${detail}`.trimEnd();
}

function attemptOf(type: string, data: Data): string {
  const max = Number(data.maxAttempts);
  if (!(max > 0)) return '';
  // Queued and retried jobs have made no attempt yet: 0/max says so.
  const attempt = type === 'job:queued' || type === 'job:retried' ? 0 : Number(data.attempt);
  return `${attempt}/${max}`;
}

// Whole: `eventLine` cuts the detail to the line's room, which is unlimited into a file or a pipe.
const errorOf = (value: unknown) => errorSummary(value as StoredError | undefined, Number.POSITIVE_INFINITY);
const percent = (rate: unknown) => (typeof rate === 'number' ? `${Math.round(rate * 100)}%` : '–');

/** The short detail after the job columns (or after the name, for events without a job). */
export function eventDetail(type: LoggedEventName, data: Data): string {
  const e = data as never;
  switch (type) {
    case 'job:queued': {
      const q = e as LoggedEvents['job:queued'];
      const parts: string[] = [];
      if (q.runAt > q.queuedAt + 5) parts.push(`runs in ${duration(q.runAt - q.queuedAt)}`);
      if (q.priority !== 0) parts.push(`priority ${q.priority}`);
      if (q.uniqueKey) parts.push(`key ${q.uniqueKey}`);
      return parts.join(', ');
    }
    case 'job:deduplicated': {
      const d = e as LoggedEvents['job:deduplicated'];
      return `${d.rule} key ${d.key}: already ${d.state}`;
    }
    case 'job:debounced': {
      const d = e as LoggedEvents['job:debounced'];
      return `key ${d.key}: payload replaced, runs in ${duration(Math.max(0, d.runAt - d.at))}`;
    }
    case 'job:started': {
      const s = e as LoggedEvents['job:started'];
      return `waited ${duration(s.waitMs)} · pool ${s.poolId}`;
    }
    case 'job:progress':
      return formatProgress((e as LoggedEvents['job:progress']).progress);
    case 'job:completed':
      return `in ${duration((e as LoggedEvents['job:completed']).durationMs)}`;
    case 'job:failed': {
      const f = e as LoggedEvents['job:failed'];
      return `${f.willRetry ? 'will retry' : 'final'}: ${errorOf(f.error)}`;
    }
    case 'job:retrying':
      return `again in ${duration((e as LoggedEvents['job:retrying']).delayMs)}`;
    case 'job:snoozed':
      return `again in ${duration((e as LoggedEvents['job:snoozed']).delayMs)}`;
    case 'job:abandoned': {
      const a = e as LoggedEvents['job:abandoned'];
      return `${a.reason}: ${errorOf(a.error)}`;
    }
    case 'job:retried':
      return `was ${(e as LoggedEvents['job:retried']).previousState}`;
    case 'job:cancelled': {
      const c = e as LoggedEvents['job:cancelled'];
      return `was ${c.previousState}${c.dependencyId ? `; dependency #${c.dependencyId} failed` : ''}`;
    }
    case 'job:deleted':
      return `was ${(e as LoggedEvents['job:deleted']).previousState}`;
    case 'job:blocked': {
      const b = e as LoggedEvents['job:blocked'];
      const ids = (b.dependencyIds ?? []).map((id) => `#${id}`).join(', ');
      return b.reason === 'waiting' ? `waits for ${ids}` : `dependency ${ids} failed; stays blocked`;
    }
    case 'job:unblocked': {
      const u = e as LoggedEvents['job:unblocked'];
      return `${u.state} after #${u.dependencyId}`;
    }
    case 'job:rescued': {
      const r = e as LoggedEvents['job:rescued'];
      return `lease expired${r.previousPoolId ? ` (pool ${r.previousPoolId})` : ''}; queued again`;
    }
    case 'job:interrupted': {
      const i = e as LoggedEvents['job:interrupted'];
      return `cut off by shutdown; ${i.willRunAgain ? 'queued again' : 'no interruptions left'}`;
    }
    case 'job:released':
      return `pool ${(e as LoggedEvents['job:released']).poolId} stopped before it ran`;
    case 'job:lease-lost':
      return 'lease lost elsewhere; result dropped';
    case 'pool:created':
    case 'pool:started': {
      const p = e as LoggedEvents['pool:started'];
      return `pool ${p.poolId} · queues ${p.queues.join(',')} · concurrency ${p.concurrency}`;
    }
    case 'pool:stopping': {
      const p = e as LoggedEvents['pool:stopping'];
      return `pool ${p.poolId} · ${p.reason} · ${p.running} running`;
    }
    case 'pool:stopped': {
      const p = e as LoggedEvents['pool:stopped'];
      return `pool ${p.poolId} · aborted ${p.aborted}, released ${p.released}`;
    }
    case 'pool:error': {
      const p = e as LoggedEvents['pool:error'];
      return `pool ${p.poolId} · ${p.operation}: ${errorOf(p.error)}`;
    }
    case 'pool:lost': {
      const p = e as LoggedEvents['pool:lost'];
      return `pool ${p.poolId} (${p.host} pid ${p.pid}) last seen ${dateTime(p.lastSeenAt)}`;
    }
    case 'worker:created':
    case 'worker:started':
    case 'worker:idle':
    case 'worker:busy':
    case 'worker:stopped':
      return `worker ${(e as LoggedEvents['worker:idle']).workerId}`;
    case 'service:error': {
      const s = e as LoggedEvents['service:error'];
      return `${s.service} · ${s.operation}: ${errorOf(s.error)}`;
    }
    case 'leader:elected':
    case 'leader:resigned':
      return `${(e as LoggedEvents['leader:elected']).ownerId}`;
    case 'flow:held':
      return flowHeldText(e as LoggedEvents['flow:held']);
    case 'flow:unheld':
      return flowUnheldText(e as LoggedEvents['flow:unheld']);
    case 'queue:paused':
    case 'queue:resumed':
      return `queue ${(e as LoggedEvents['queue:paused']).queue}`;
    case 'queue:full': {
      const q = e as LoggedEvents['queue:full'];
      return `queue ${q.queue} refused ${q.task}: ${q.pending}/${q.maxPending} waiting`;
    }
    case 'queue:health': {
      const h = e as LoggedEvents['queue:health'];
      const oldest = h.oldestPendingMs === null ? '' : ` (oldest ${duration(h.oldestPendingMs)})`;
      return `queue ${h.queue}: ${h.pending} pending${oldest}, ${h.running} running, ${h.throughputPerSec.toFixed(1)}/s, ${percent(h.failureRate)} failing`;
    }
    case 'queue:backlog':
    case 'alert:fired':
    case 'alert:resolved': {
      const a = e as LoggedEvents['alert:fired'];
      return `${a.alertId}: ${a.value} (threshold ${a.threshold})`;
    }
    case 'shutdown:requested': {
      const s = e as LoggedEvents['shutdown:requested'];
      return `${s.signal}${s.forced ? ' (forced)' : ''}`;
    }
    default:
      // A name this version does not know (written by a newer one): its fields as key=value.
      return Object.entries(data)
        .filter(([key]) => key !== 'at')
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
  }
}

/** Local date of `ms` as YYYY-MM-DD. */
const dayOf = (ms: number) => dateTime(ms).slice(0, 10);

/** Writes event lines, with a date line whenever the day changes (see the module comment). */
export class EventLinePrinter {
  #lastDay: string | undefined;

  /**
   * `dated`: `always` prints a date line before the first event (timelines, pages);
   * `when-not-today` only when the first event is not from today (a live tail).
   */
  readonly #width: number;

  /**
   * `width`: the columns a line may take, `LINE_WIDTH` by default; `Infinity` cuts nothing (a
   * file or a pipe, where a cut error message would lose what it says to do).
   */
  constructor(
    readonly write: (line: string) => void,
    readonly paint: Paint,
    options: { dated: 'always' | 'when-not-today'; width?: number },
  ) {
    this.#lastDay = options.dated === 'always' ? undefined : dayOf(Date.now());
    this.#width = options.width ?? LINE_WIDTH;
  }

  /** Print one event (after a date line when its day differs from the previous line's). */
  print(event: Pick<LoggedEvent, 'type' | 'data' | 'at'>): void {
    const day = dayOf(event.at);
    if (day !== this.#lastDay) {
      this.write(this.paint('bold', `── ${day} ──`));
      this.#lastDay = day;
    }
    this.write(eventLine(event, this.paint, this.#width));
  }
}
