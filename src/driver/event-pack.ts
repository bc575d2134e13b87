/**
 * The compact stored form of the hot path's events (`job:queued`, `job:started`, `job:completed`,
 * `job:failed`, `job:retrying`, `job:snoozed`): three of them are written per job run, so they
 * are most of what the log stores, builds in Node and copies through the hot statements (the cost
 * measured: bench/results/2026-12-01-event-log-compact.md). Such an entry is stored as a JSON
 * array of its fields in a fixed order, without
 * repeating key names, with times as differences from the attempt's start and an empty metadata
 * left out; the reader expands it into exactly the payload the writer was given.
 *
 * The codes and widths of the format are in event-codes.ts; reading it back, in event-unpack.ts.
 *
 * Any payload that would not expand back to exactly itself (a key more or less, a time that is
 * not an integer, a `waitMs` that is not derived from its times) is stored in the object form.
 */

import {
  CODES,
  COLUMNS_CODE,
  COMPLETED_CODE,
  ENCODED_COLUMNS_CODE,
  FAILED_CODE,
  isEmptyObject,
  isInt,
  type LogEntry,
  MIN_COLUMNS_RUN,
  QUEUED_CODE,
  RETRYING_CODE,
  SNOOZED_CODE,
  STARTED_CODE,
  TYPES,
  WIDTH,
} from './event-codes.js';
import { unpackEntry } from './event-unpack.js';
import { runsColumnJson } from './runs-column.js';
import { uuidColumnJson } from './uuid-column.js';

/** The fields every attempt event carries (`job:started` as the log stores it has no `workerId`). */
interface Base {
  jobId: unknown;
  task: unknown;
  queue: unknown;
  correlationId: unknown;
  attempt: unknown;
  maxAttempts: unknown;
  poolId: unknown;
  workerId?: unknown;
  runAt: unknown;
  startedAt: unknown;
  waitMs: unknown;
  metadata: unknown;
  [key: string]: unknown;
}

/** Own keys of `data` (a plain object from the event builders). */
function keyCount(data: object): number {
  let n = 0;
  for (const key in data) if (Object.hasOwn(data, key)) n++;
  return n;
}

/** The compact form of `entry`, or undefined when it must be stored as an object. */
function packEntry(entry: LogEntry): unknown[] | undefined {
  if (entry.type === 'job:queued') return packQueued(entry.data);
  const code = CODES[entry.type];
  if (code === undefined) return undefined;
  const d = entry.data as Base | null;
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return undefined;
  const { runAt, startedAt } = d;
  if (!isInt(runAt) || !isInt(startedAt) || d.waitMs !== Math.max(0, startedAt - runAt)) return undefined;
  if (d.metadata === null || typeof d.metadata !== 'object' || Array.isArray(d.metadata)) return undefined;
  const out: unknown[] = [
    code,
    d.jobId,
    d.task,
    d.queue,
    d.correlationId,
    d.attempt,
    d.maxAttempts,
    d.poolId,
  ];
  // Base keys: 11, plus workerId on everything but job:started.
  let keys = 11;
  if (code !== STARTED_CODE) {
    if (!('workerId' in d)) return undefined;
    const { workerId, poolId } = d;
    // A worker id is `<poolId>/<slot>`: store the slot number only.
    const slot =
      typeof poolId === 'string' && typeof workerId === 'string' && workerId.startsWith(`${poolId}/`)
        ? workerId.slice(poolId.length + 1)
        : undefined;
    out.push(slot !== undefined && /^(0|[1-9][0-9]{0,8})$/.test(slot) ? Number(slot) : workerId);
    keys++;
  }
  out.push(runAt, startedAt - runAt);
  switch (code) {
    case COMPLETED_CODE: {
      const { completedAt } = d;
      if (!isInt(completedAt) || !('result' in d)) return undefined;
      const omitted = d.resultOmitted === true;
      if (!omitted && 'resultOmitted' in d) return undefined;
      out.push(completedAt - startedAt, d.durationMs, d.result, omitted ? 1 : 0);
      keys += omitted ? 4 : 3;
      break;
    }
    case FAILED_CODE: {
      const { failedAt, willRetry } = d;
      if (!isInt(failedAt) || typeof willRetry !== 'boolean' || !('error' in d)) return undefined;
      out.push(failedAt - startedAt, d.durationMs, d.error, willRetry ? 1 : 0);
      keys += 4;
      break;
    }
    case RETRYING_CODE:
      if (!('delayMs' in d) || !('nextRunAt' in d) || !('error' in d)) return undefined;
      out.push(d.delayMs, d.nextRunAt, d.error);
      keys += 3;
      break;
    case SNOOZED_CODE:
      if (!('delayMs' in d) || !('nextRunAt' in d)) return undefined;
      out.push(d.delayMs, d.nextRunAt);
      keys += 2;
      break;
  }
  // Every value must survive JSON as itself: undefined would become null inside an array.
  for (const v of out) if (v === undefined) return undefined;
  if (keyCount(d) !== keys) return undefined;
  if (!isEmptyObject(d.metadata)) out.push(d.metadata);
  return out;
}

/** The keys of a `job:queued` payload, in the order `queuedEvent` (core/job-events.ts) writes them. */
const QUEUED_KEYS = 12;

/**
 * `job:queued` as `[6, jobId, task, queue, correlationId, maxAttempts, state, priority, queuedAt,
 * runAt − queuedAt, uniqueKey, metadata?]`: `attempt` is always 0 (else the object form), and the
 * metadata is left out when empty (`null` is stored as itself).
 */
function packQueued(data: unknown): unknown[] | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const d = data as Record<string, unknown>;
  const { queuedAt, runAt, metadata } = d;
  if (d.attempt !== 0 || !isInt(queuedAt) || !isInt(runAt)) return undefined;
  if (
    metadata === undefined ||
    (metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata)))
  )
    return undefined;
  const out = [
    QUEUED_CODE,
    d.jobId,
    d.task,
    d.queue,
    d.correlationId,
    d.maxAttempts,
    d.state,
    d.priority,
    queuedAt,
    runAt - queuedAt,
    d.uniqueKey,
  ];
  for (const v of out) if (v === undefined) return undefined;
  if (keyCount(d) !== QUEUED_KEYS) return undefined;
  if (!isEmptyObject(metadata)) out.push(metadata);
  return out;
}

/** What an enqueue knows of a job it stored (`JobRecord`'s fields of that name). */
export interface PackableQueued {
  id: string;
  task: string;
  queue: string;
  correlationId: string;
  maxAttempts: number;
  state: string;
  priority: number;
  runAt: Date;
  uniqueKey: string | null;
  metadata: Record<string, unknown>;
}

/**
 * The log's `job:queued` of a stored job, built straight in the compact form (no payload object),
 * or undefined when its times need the object form. It stands for `queuedEvent(job, queuedAt)`.
 */
export function packedQueued(job: PackableQueued, queuedAt: number): LogEntry | undefined {
  const runAt = job.runAt.getTime();
  if (!isInt(queuedAt) || !isInt(runAt)) return undefined;
  const packed: unknown[] = [
    QUEUED_CODE,
    job.id,
    job.task,
    job.queue,
    job.correlationId,
    job.maxAttempts,
    job.state,
    job.priority,
    queuedAt,
    runAt - queuedAt,
    job.uniqueKey,
  ];
  if (!isEmptyObject(job.metadata)) packed.push(job.metadata);
  return packedEntry(packed);
}

/**
 * The JSON text of a row's entries, hot events in the compact form, every run of at least
 * `MIN_COLUMNS_RUN` entries sharing a batcher packed by it, and every other run of at least
 * `MIN_COLUMNS_RUN` compact entries of one code as one column batch (`columnsJson`).
 */
export function packEntries(entries: readonly LogEntry[]): string {
  const n = entries.length;
  const parts: string[] = [];
  // Entries before `rest` are in `parts` already.
  let rest = 0;
  for (let i = 0; i < n; ) {
    const batcher = entries[i]!.batcher;
    if (batcher === undefined) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < n && entries[end]!.batcher === batcher) end++;
    const json = end - i >= MIN_COLUMNS_RUN ? batcher.json(entries, i, end) : undefined;
    if (json !== undefined) {
      if (rest < i) parts.push(packedText(entries, rest, i));
      parts.push(json);
      rest = end;
    }
    i = end;
  }
  if (rest < n) parts.push(packedText(entries, rest, n));
  return `[${parts.join(',')}]`;
}

/** Entries `from` to `to - 1` in the compact form, as JSON array elements (no brackets). */
function packedText(entries: readonly LogEntry[], from: number, to: number): string {
  const n = to - from;
  const stored: unknown[] = new Array(n);
  let longestRun = 0;
  let run = 0;
  for (let i = 0; i < n; i++) {
    const entry = entries[from + i]!;
    stored[i] = entry.packed ?? packEntry(entry) ?? entry;
    run = i > 0 && sameCode(stored[i - 1], stored[i]) ? run + 1 : 1;
    if (run > longestRun) longestRun = run;
  }
  if (longestRun < MIN_COLUMNS_RUN) return JSON.stringify(stored).slice(1, -1);
  const parts: string[] = [];
  for (let i = 0; i < n; ) {
    let end = i + 1;
    while (end < n && sameCode(stored[i], stored[end])) end++;
    if (end - i >= MIN_COLUMNS_RUN) parts.push(columnsJson(stored.slice(i, end) as unknown[][]));
    else for (let k = i; k < end; k++) parts.push(JSON.stringify(stored[k]));
    i = end;
  }
  return parts.join(',');
}

/** Whether two stored entries are compact entries of the same code (one column batch can hold both). */
function sameCode(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) && a[0] === b[0] && WIDTH[a[0] as number] !== undefined;
}

/**
 * The JSON text of one column value: the common value when every entry has the same primitive
 * (not undefined, which JSON cannot hold as itself), an encoded column for UUIDs or for runs of
 * whole numbers (its text starts with `{`), else the array of the entries' values.
 */
export function columnJson(values: readonly unknown[]): string {
  const first = values[0];
  let same = first !== undefined && (first === null || typeof first !== 'object');
  for (let k = 1; same && k < values.length; k++) same = values[k] === first;
  if (same) return JSON.stringify(first);
  return uuidColumnJson(values) ?? runsColumnJson(values) ?? JSON.stringify(values);
}

/** Whether a column's JSON text (`columnJson`) is an encoded column. */
const isEncoded = (text: string): boolean => text.charCodeAt(0) === 123; /* { */

/**
 * `[8, code, n, column…]` for n compact entries of one code: column j holds element j + 1 of
 * every entry (an array of n values, or the one value they all have, never an array itself), and
 * a last column their metadata (`{}` where an entry has none; `{}` alone when none has any).
 * Keys the builders repeat on every entry (task, queue, pool, attempt, due time) are written once.
 */
function columnsJson(run: readonly (readonly unknown[])[]): string {
  const code = run[0]![0] as number;
  const width = WIDTH[code]!;
  const n = run.length;
  let encoded = false;
  const parts = ['', String(code), String(n)];
  // Filled in order from index 0, so the array stays packed (JSON.stringify's fast path).
  const column: unknown[] = [];
  for (let j = 1; j < width; j++) {
    for (let k = 0; k < n; k++) column[k] = run[k]![j];
    const text = columnJson(column);
    if (isEncoded(text)) encoded = true;
    parts.push(text);
  }
  let anyMetadata = false;
  for (let k = 0; k < n; k++) {
    const entry = run[k]!;
    column[k] = entry.length > width ? entry[width] : {};
    if (entry.length > width) anyMetadata = true;
  }
  parts.push(anyMetadata ? JSON.stringify(column) : '{}');
  parts[0] = String(encoded ? ENCODED_COLUMNS_CODE : COLUMNS_CODE);
  return `[${parts.join(',')}]`;
}

/**
 * An entry already in the compact form; its `data` is expanded only if someone reads it. A class,
 * not an object literal with a getter: a literal's getter is a new closure and accessor pair on
 * every entry (two per job run), which cost twice as much to build as the rest of the entry.
 */
class PackedLogEntry implements LogEntry {
  readonly type: string;
  readonly packed: readonly unknown[];
  #data: unknown;

  constructor(packed: readonly unknown[]) {
    this.type = TYPES[packed[0] as number]!;
    this.packed = packed;
  }

  get data(): unknown {
    this.#data ??= unpackEntry(this.packed).data;
    return this.#data;
  }
}

function packedEntry(packed: unknown[]): LogEntry {
  return new PackedLogEntry(packed);
}

/** What a claim knows of a job it started (`ClaimedJob`'s fields of that name). */
export interface PackableClaim {
  id: string;
  task: string;
  queue: string;
  correlationId: string;
  attempt: number;
  maxAttempts: number;
  runAt: number;
  startedAt: number;
  metadataJson: string;
}

/**
 * The log's `job:started` of a claimed job, built straight in the compact form, or undefined when
 * its times need the object form. It stands for the payload of `claimedEvent` (job-events.ts):
 * the attempt base without `workerId`, started at the claim.
 */
export function packedStarted(job: PackableClaim, poolId: string): LogEntry | undefined {
  const { runAt, startedAt } = job;
  if (!isInt(runAt) || !isInt(startedAt)) return undefined;
  const packed: unknown[] = [
    STARTED_CODE,
    job.id,
    job.task,
    job.queue,
    job.correlationId,
    job.attempt,
    job.maxAttempts,
    poolId,
    runAt,
    startedAt - runAt,
  ];
  // Most jobs have no metadata: no parse, nothing stored.
  if (job.metadataJson !== '{}') {
    const metadata = JSON.parse(job.metadataJson) as unknown;
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return undefined;
    if (!isEmptyObject(metadata)) packed.push(metadata);
  }
  return packedEntry(packed);
}

/**
 * A column batch from its columns' JSON texts (`columnJson`) and, when any entry has metadata,
 * every entry's metadata JSON text (`{}` for none): `[8, code, n, column…, metadata]`, or code 10
 * when a column is encoded (`ENCODED_COLUMNS_CODE`). For builders that make the columns in one pass
 * over their jobs (`startedBatchJson` in claim-columns.ts, completed-entry.ts).
 */
export function columnBatchJson(
  code: number,
  n: number,
  columns: readonly string[],
  metadatas: readonly string[] | undefined,
): string {
  const encoded = columns.some(isEncoded);
  const metadata = metadatas === undefined ? '{}' : `[${metadatas.join(',')}]`;
  return `[${encoded ? ENCODED_COLUMNS_CODE : COLUMNS_CODE},${code},${n},${columns.join(',')},${metadata}]`;
}
