/**
 * The live event stream of `dev` and `worker`: every event at or above the log level as one
 * readable line (progress throttled to every 25 %), or with `--json` as one pino-compatible
 * JSON object per line: `{"time", "level", "msg", "event", ...payload}` (see `log-level.ts`).
 */
import { type Jobwire, logMessage } from '../index.js';
import { colorEnabled, type Paint, painter, progressPercent, safeJson, truncate } from './format.js';
import { DETAIL_INDENT, formatEvent, LINE_WIDTH } from './format-event.js';
import { atLeast, type CliLogLevel, eventLevel, PINO_LEVEL } from './log-level.js';

/** Where the CLI writes. Tests and commands pass process streams. */
export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The real process streams. */
export const processIo: Io = { out: process.stdout, err: process.stderr };

/** Events `--quiet` still prints: the ones that mean something went wrong. */
export const FAILURE_EVENTS: ReadonlySet<string> = new Set([
  'job:failed',
  'job:abandoned',
  'job:lease-lost',
  'job:rescued',
  'job:interrupted',
  'pool:error',
  'service:error',
]);

/** Readable progress lines are printed when a job crosses the next multiple of this. */
export const PROGRESS_STEP_PERCENT = 25;
/** Progress without a percentage is printed at most this often per job. */
const PROGRESS_MIN_INTERVAL_MS = 1000;

/** Notes line up with the event names: after the time column. */
const NOTE_INDENT = DETAIL_INDENT;

/** Options of `EventPrinter`. */
export interface EventPrinterOptions {
  json: boolean;
  quiet?: boolean;
  /** Events below this level are not printed. Default `info` (no per-slot `worker:*` lines). */
  level?: CliLogLevel;
  io?: Io;
  /**
   * Fit lines to `LINE_WIDTH` columns even when stdout is not a terminal (`dev`, whose docs
   * promise an 80-column layout). Default false: a worker writing to a file, a pipe, systemd or
   * Docker prints each event on one line, whole — a log line may be long, a cut one may hide
   * what an error says to do.
   */
  alwaysFit?: boolean;
}

/** Prints events as they happen; see the module comment. */
export class EventPrinter {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly level: CliLogLevel;
  readonly io: Io;
  readonly alwaysFit: boolean;
  /** Colours for stdout. */
  readonly paint: Paint;
  /** Colours for stderr. */
  readonly paintErr: Paint;
  readonly #progress = new Map<string, { bucket: number; at: number }>();

  constructor(options: EventPrinterOptions) {
    this.json = options.json;
    this.quiet = options.quiet ?? false;
    this.level = options.level ?? 'info';
    this.io = options.io ?? processIo;
    this.alwaysFit = options.alwaysFit ?? false;
    this.paint = painter(!this.json && colorEnabled(this.io.out));
    this.paintErr = painter(colorEnabled(this.io.err));
  }

  /** Print every event of `client` from now on. Returns a function that stops. */
  attach(client: Jobwire): () => void {
    return client.events.onAny((name, event) =>
      this.print(name, event as unknown as Record<string, unknown>),
    );
  }

  /** Print one event (if it passes `--quiet`, the log level and the progress throttle). */
  print(name: string, event: Record<string, unknown>): void {
    if (this.quiet && !FAILURE_EVENTS.has(name)) return;
    const level = eventLevel(name, event);
    if (!atLeast(level, this.level)) return;
    if (this.json) {
      const msg = logMessage(name as never, event as never);
      this.io.out.write(`${safeJson(jsonLine(level, msg, { event: name, ...event }))}\n`);
      return;
    }
    if (name === 'job:progress' && !this.#progressDue(event)) return;
    if (
      name === 'job:started' ||
      name === 'job:completed' ||
      name === 'job:failed' ||
      name === 'job:cancelled' ||
      name === 'job:deleted'
    ) {
      this.#progress.delete(String(event.jobId));
    }
    this.io.out.write(`${formatEvent(name, event, this.paint, { width: this.width })}\n`);
  }

  /**
   * The columns lines are fitted to: a terminal's width (at least 60; 80 when it does not say),
   * else 80 with `alwaysFit`, else `Infinity` — no fitting, nothing cut.
   */
  get width(): number {
    const columns = (this.io.out as { columns?: number }).columns;
    if (this.io.out.isTTY) return columns ? Math.max(60, columns) : LINE_WIDTH;
    return this.alwaysFit ? LINE_WIDTH : Number.POSITIVE_INFINITY;
  }

  #progressDue(event: Record<string, unknown>): boolean {
    const key = String(event.jobId);
    const now = Date.now();
    const last = this.#progress.get(key);
    const percent = progressPercent(event.progress);
    if (percent === undefined) {
      if (last && now - last.at < PROGRESS_MIN_INTERVAL_MS) return false;
      this.#progress.set(key, { bucket: -1, at: now });
      return true;
    }
    const bucket = Math.floor(Math.min(100, Math.max(0, percent)) / PROGRESS_STEP_PERCENT);
    // 0 % says nothing job:started did not: print from the first full step on.
    if (bucket <= (last?.bucket ?? 0)) return false;
    this.#progress.set(key, { bucket, at: now });
    return true;
  }

  /**
   * A human note (not an event): on stdout in readable mode (indented under the event names
   * unless `indent` is false), on stderr in JSON mode so stdout stays pure JSON. Suppressed by
   * `--quiet`.
   */
  note(text: string, options: { indent?: boolean } = {}): void {
    if (this.quiet) return;
    if (this.json) this.io.err.write(`${text}\n`);
    else {
      const indent = options.indent === false ? '' : ' '.repeat(NOTE_INDENT);
      this.io.out.write(`${indent}${this.paint('gray', truncate(text, this.width - indent.length))}\n`);
    }
  }
}

/** A pino-compatible line: `time`, `level` and `msg` first, then `fields`. */
export function jsonLine(
  level: CliLogLevel,
  msg: string,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  return { time: Date.now(), level: PINO_LEVEL[level], msg, ...fields };
}
