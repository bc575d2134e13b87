/**
 * Text formatting for the CLI: colours (only on a TTY, never with NO_COLOR), times, durations,
 * aligned tables and values. Events are rendered by `format-event.ts`.
 */
import { styleText } from 'node:util';
import type { StoredError } from '../index.js';

// ----- colour ----------------------------------------------------------------------------------

/** A style `util.styleText` takes: a colour or modifier name, or a list of them. */
export type Style = Parameters<typeof styleText>[0];

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

/** `text` without its colour escapes. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Width of a string as displayed (ANSI escapes do not count). */
export function visibleWidth(text: string): number {
  return text.replace(ANSI, '').length;
}

/** Pad to `width` visible characters (left-aligned), or right-align with `right`. */
export function pad(text: string, width: number, right = false): string {
  const gap = Math.max(0, width - visibleWidth(text));
  return right ? ' '.repeat(gap) + text : text + ' '.repeat(gap);
}

/** `text` on one line: each newline (with the blanks around it) becomes one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** Cut to at most `max` characters with an ellipsis; newlines become spaces. */
export function truncate(text: string, max: number): string {
  const flat = oneLine(text);
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}

/** SGR codes that end a style `util.styleText` opened (reset, bold/dim off, colours off…). */
const CLOSING_SGR = new Set(['0', '22', '23', '24', '27', '28', '29', '39', '49']);
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point.
const ESCAPE_OR_CHAR = /\u001b\[[0-9;]*m|[\s\S]/g;

/**
 * Word-wrap `text` (newlines become spaces) into lines of at most `width` visible columns, the
 * lines after the first at most `nextWidth`; a word longer than a line is split. Colours survive
 * the breaks: a line ends with a reset and the next reopens the styles in force, so each line
 * reads right on its own (a pager, a log viewer that shows one line).
 */
export function wrap(text: string, width: number, nextWidth = width): string[] {
  const lines: string[] = [];
  const open: string[] = [];
  let line = '';
  let used = 0;
  let gap = '';
  const limit = () => Math.max(1, lines.length === 0 ? width : nextWidth);
  const breakLine = () => {
    lines.push(open.length > 0 ? `${line}\u001b[0m` : line);
    line = open.join('');
    used = 0;
  };
  const add = (unit: string) => {
    line += unit;
    if (!unit.startsWith('\u001b[')) used += 1;
    else if (CLOSING_SGR.has(unit.slice(2, -1))) {
      if (unit === '\u001b[0m') open.length = 0;
      else open.pop();
    } else open.push(unit);
  };
  for (const token of oneLine(text)
    .trim()
    .split(/([ \t]+)/)) {
    if (token === '') continue;
    if (/^[ \t]+$/.test(token)) {
      gap = token.replace(/\t/g, ' ');
      continue;
    }
    const tokenWidth = visibleWidth(token);
    // A word no line can hold is split anyway: it starts where it is rather than on a new line.
    const unbreakable = tokenWidth > Math.max(1, nextWidth);
    if (used > 0 && !unbreakable && used + gap.length + tokenWidth > limit()) breakLine();
    else if (used > 0 && used + gap.length >= limit()) breakLine();
    else if (used > 0) for (const space of gap) add(space);
    gap = '';
    for (const unit of token.match(ESCAPE_OR_CHAR) ?? []) {
      // Split only a word that cannot fit a line of its own (a long URL, an id).
      if (!unit.startsWith('\u001b[') && used >= limit()) breakLine();
      add(unit);
    }
  }
  lines.push(line);
  return lines;
}

// ----- time ------------------------------------------------------------------------------------

const two = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time as HH:MM:SS.mmm. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** The local offset from UTC, short enough for a column header: "UTC", "UTC+05:30". */
export function utcOffsetLabel(at: number = Date.now()): string {
  const offset = -new Date(at).getTimezoneOffset();
  if (offset === 0) return 'UTC';
  const sign = offset < 0 ? '-' : '+';
  return `UTC${sign}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
}

/**
 * The local time zone for humans: "Europe/Paris (UTC+01:00)", "UTC+01:00" alone when the zone
 * has no name, "UTC" for UTC itself.
 */
export function timeZoneLabel(at: number = Date.now()): string {
  const utc = utcOffsetLabel(at);
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
