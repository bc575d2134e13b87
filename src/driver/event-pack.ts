/**
 * The compact stored form of the hot path's events (`job:queued`, `job:started`, `job:completed`,
 * `job:failed`, `job:retrying`, `job:snoozed`): three of them are written per job run, so they
 * are most of what the log stores, builds in Node and copies through the hot statements (the cost
 * measured: bench/results/2026-12-01-event-log-compact.md). Such an entry is stored as a JSON
 * array of its fields in a fixed order, without
 * repeating key names, with times as differences from the attempt's start and an empty metadata
 * left out; the reader expands it into exactly the payload the writer was given.
 *
 * Format marker: a stored entry that is an ARRAY is compact, and its first element is a type code
 * of format version 1 (below). An OBJECT `{ type, data }` is the original form: rows written
 * before this format existed, and every other event type, still read unchanged. A later format
 * takes new codes; codes are never reused.
 *
 * Any payload that would not expand back to exactly itself (a key more or less, a time that is
 * not an integer, a `waitMs` that is not derived from its times) is stored in the object form.
 */

import { isRunsColumn, runsColumnJson, runsColumnValues } from './runs-column.js';
import { uuidColumnJson, uuidColumnValues } from './uuid-column.js';

/** One event as a write stores it: its name and payload (a JSON-encodable object). */
export interface LogEntry {
  type: string;
  data: unknown;
  /**
   * The entry already in its compact stored form (below), when its builder made that
   * directly: the write stores it as is (`data` then expands it, only if read).
   */
  packed?: readonly unknown[];
  /**
   * Packs a run of entries that share it into one stored entry in a single pass (see
   * completed-entry.ts): `packEntries` hands it every run of at least `MIN_COLUMNS_RUN`
   * consecutive entries with the same batcher, and stores the others one by one (`packed`).
   */
  batcher?: ColumnBatcher;
}

/** Packs a run of entries from entries[from] to entries[to - 1] (`LogEntry.batcher`). */
export interface ColumnBatcher {
  /** The run's JSON text as one stored entry, or undefined to store them one by one instead. */
  json(entries: readonly LogEntry[], from: number, to: number): string | undefined;
}

/** Format version 1 type codes (first element of a compact entry). */
const STARTED = 1;
/** The code of a compact `job:started`, for drivers that build it in SQL. */
export const STARTED_CODE = STARTED;
const COMPLETED = 2;
/** The code of a compact `job:completed`, for builders outside this module. */
export const COMPLETED_CODE = COMPLETED;
const FAILED = 3;
const RETRYING = 4;
const SNOOZED = 5;
/** `job:queued`: its own field order (an enqueue has no attempt yet), see `packQueued`. */
const QUEUED = 6;
/** The code of a compact `job:queued`, for drivers that build it in SQL. */
export const QUEUED_CODE = QUEUED;
/**
 * Many `job:started` of one claim in ONE entry, column by column (see `unpackStartedBatch`),
 * built in one pass over the claimed jobs by PostgreSQL's claim (aggregates in SQL; the SQLite
 * claim builds a column batch, `startedBatchJson`); it expands into one `job:started` per job.
 */
const STARTED_BATCH = 7;
/** The code of a claim's batch of `job:started` (`STARTED_BATCH`), for drivers that build it in SQL. */
export const STARTED_BATCH_CODE = STARTED_BATCH;
/**
 * A run of compact entries of ONE code, column by column, a column holding one value when every
 * entry has that value: `[8, code, n, column…]` (see `columnsJson`). It expands into the n entries
 * in their order. Written for every run of at least `MIN_COLUMNS_RUN` entries (a finalize's
 * `job:completed`, an enqueue's `job:queued`, a SQLite claim's `job:started`).
 */
const COLUMNS = 8;
/**
 * Entries of which the reader leaves some out: `[9, [index…], entry…]`, the indexes counting the
 * enclosed entries once expanded, from 0. PostgreSQL's finalize sends a batch's events packed as
 * a whole; when the fence refuses some items, the statement stores that batch as sent, masked,
 * since it cannot cut a column batch apart (drivers/postgres/lease-log.ts).
 */
const MASKED = 9;
/** The code of a masked run of entries (`MASKED`), for drivers that build it in SQL. */
export const MASKED_CODE = MASKED;
/**
 * A column batch (`COLUMNS`) with a column stored encoded, as an object naming its encoding:
 * `{"u": text}`, n UUIDs as the base64url text of their bytes (uuid-column.ts); `{"r": runs}` or
 * `{"R": runs}`, whole numbers or decimal ids as runs of arithmetic progressions (runs-column.ts).
 * Written instead of `COLUMNS` only when a column is encoded, so that a reader which predates it
 * stops with the newer-jobwire error instead of taking the object for a value every entry shares
 * (and one that predates an encoding stops with the same error, naming the encoding).
 */
const ENCODED_COLUMNS = 10;
/** Below this many entries of one code in a row, a column batch saves too little to be worth it. */
const MIN_COLUMNS_RUN = 3;
/** How many elements a compact entry of each code has, its code included, its metadata not. */
const WIDTH: Readonly<Record<number, number>> = {
  [STARTED]: 10,
  [COMPLETED]: 15,
  [FAILED]: 15,
  [RETRYING]: 14,
  [SNOOZED]: 13,
  [QUEUED]: 11,
};

const CODES: Record<string, number> = {
  'job:started': STARTED,
  'job:completed': COMPLETED,
  'job:failed': FAILED,
  'job:retrying': RETRYING,
  'job:snoozed': SNOOZED,
};
const TYPES = ['', 'job:started', 'job:completed', 'job:failed', 'job:retrying', 'job:snoozed', 'job:queued'];

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

/** Whether `v` is a safe integer (times and counts the compact form stores as differences). */
export const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

function isEmptyObject(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  for (const key in v) if (Object.hasOwn(v, key)) return false;
  return true;
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
  if (code !== STARTED) {
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
    case COMPLETED: {
      const { completedAt } = d;
      if (!isInt(completedAt) || !('result' in d)) return undefined;
      const omitted = d.resultOmitted === true;
      if (!omitted && 'resultOmitted' in d) return undefined;
      out.push(completedAt - startedAt, d.durationMs, d.result, omitted ? 1 : 0);
      keys += omitted ? 4 : 3;
      break;
    }
    case FAILED: {
      const { failedAt, willRetry } = d;
      if (!isInt(failedAt) || typeof willRetry !== 'boolean' || !('error' in d)) return undefined;
      out.push(failedAt - startedAt, d.durationMs, d.error, willRetry ? 1 : 0);
      keys += 4;
      break;
    }
    case RETRYING:
      if (!('delayMs' in d) || !('nextRunAt' in d) || !('error' in d)) return undefined;
      out.push(d.delayMs, d.nextRunAt, d.error);
      keys += 3;
      break;
    case SNOOZED:
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
    QUEUED,
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
    QUEUED,
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
  parts[0] = String(encoded ? ENCODED_COLUMNS : COLUMNS);
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
    STARTED,
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
 * when a column is encoded (`ENCODED_COLUMNS`). For builders that make the columns in one pass
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
  return `[${encoded ? ENCODED_COLUMNS : COLUMNS},${code},${n},${columns.join(',')},${metadata}]`;
}

/** Expand one stored entry (either form) into the entry that was written. */
export function unpackEntry(stored: unknown): LogEntry {
  if (!Array.isArray(stored)) return stored as LogEntry;
  const a = stored as unknown[];
  const code = a[0] as number;
  const type = TYPES[code];
  if (type === undefined || code === 0)
    throw new Error(
      `unknown compact event code ${String(code)}: the log was written by a newer jobwire; upgrade this process to read it`,
    );
  if (code === QUEUED) return unpackQueued(a);
  const started = code === STARTED;
  const poolId = a[7];
  const at = started ? 8 : 9;
  const runAt = a[at] as number;
  const startedAt = runAt + (a[at + 1] as number);
  const data: Record<string, unknown> = {
    jobId: a[1],
    task: a[2],
    queue: a[3],
    correlationId: a[4],
    attempt: a[5],
    maxAttempts: a[6],
    poolId,
  };
  if (!started) data.workerId = typeof a[8] === 'number' ? `${String(poolId)}/${a[8]}` : a[8];
  data.runAt = runAt;
  data.startedAt = startedAt;
  data.waitMs = Math.max(0, startedAt - runAt);
  // The type's own fields follow the start delta; the metadata, when not empty, comes last.
  let i = at + 2;
  const specific: Record<string, unknown> = {};
  switch (code) {
    case COMPLETED:
      specific.completedAt = startedAt + (a[i++] as number);
      specific.durationMs = a[i++];
      specific.result = a[i++];
      if (a[i++] === 1) specific.resultOmitted = true;
      break;
    case FAILED:
      specific.failedAt = startedAt + (a[i++] as number);
      specific.durationMs = a[i++];
      specific.error = a[i++];
      specific.willRetry = a[i++] === 1;
      break;
    case RETRYING:
      specific.delayMs = a[i++];
      specific.nextRunAt = a[i++];
      specific.error = a[i++];
      break;
    case SNOOZED:
      specific.delayMs = a[i++];
      specific.nextRunAt = a[i++];
      break;
  }
  data.metadata = i < a.length ? a[i] : {};
  Object.assign(data, specific);
  return { type, data };
}

/** A compact `job:queued` (see `packQueued`) as the payload `queuedEvent` built, key for key. */
function unpackQueued(a: readonly unknown[]): LogEntry {
  const queuedAt = a[8] as number;
  return {
    type: 'job:queued',
    data: {
      jobId: a[1],
      task: a[2],
      queue: a[3],
      correlationId: a[4],
      attempt: 0,
      maxAttempts: a[5],
      state: a[6],
      priority: a[7],
      queuedAt,
      runAt: queuedAt + (a[9] as number),
      uniqueKey: a[10],
      metadata: a.length > 11 ? a[11] : {},
    },
  };
}

/**
 * `[7, poolId, ids, tasks, queues, correlationIds, attempts, maxAttempts, runAts, waits,
 * metadatas]`: the `job:started` of jobs claimed together, each field an array with one element
 * per job (the i-th of each belongs to the same job), an empty metadata stored as `{}`. Each job
 * expands to exactly the entry `[1, id, task, queue, correlationId, attempt, maxAttempts, poolId,
 * runAt, wait, metadata?]` (see `packEntry`) would.
 */
function unpackStartedBatch(a: readonly unknown[]): LogEntry[] {
  const poolId = a[1];
  const columns = a.slice(2) as unknown[][];
  const ids = columns[0];
  if (
    columns.length !== 9 ||
    !Array.isArray(ids) ||
    columns.some((c) => !Array.isArray(c) || c.length !== ids.length)
  )
    throw new Error('malformed job:started batch in the event log: its columns differ in length');
  const entries: LogEntry[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const [id, task, queue, correlationId, attempt, maxAttempts, runAt, wait, metadata] = columns.map(
      (c) => c[i],
    );
    entries[i] = unpackEntry([
      STARTED,
      id,
      task,
      queue,
      correlationId,
      attempt,
      maxAttempts,
      poolId,
      runAt,
      wait,
      metadata,
    ]);
  }
  return entries;
}

/**
 * A column batch (`columnsJson`) as its entries, each expanded exactly as the compact entry it
 * was made of.
 */
function unpackColumns(a: readonly unknown[]): LogEntry[] {
  const encoded = a[0] === ENCODED_COLUMNS;
  const code = a[1] as number;
  const n = a[2];
  const width = WIDTH[code];
  if (width === undefined)
    throw new Error(
      `unknown compact event code ${String(code)} in a column batch: the log was written by a newer jobwire; upgrade this process to read it`,
    );
  const columns = a.slice(3);
  // An object before the metadata column is an encoded column (`ENCODED_COLUMNS`).
  if (encoded && isInt(n))
    for (let j = 0; j < columns.length - 1; j++) {
      const c = columns[j];
      if (c !== null && typeof c === 'object' && !Array.isArray(c))
        columns[j] = isRunsColumn(c) ? runsColumnValues(c, n) : uuidColumnValues(c, n);
    }
  if (
    !isInt(n) ||
    n < 0 ||
    columns.length !== width ||
    columns.some((c) => Array.isArray(c) && c.length !== n)
  )
    throw new Error('malformed column batch in the event log: its columns differ in length');
  const entries: LogEntry[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const packed: unknown[] = [code];
    for (const c of columns) packed.push(Array.isArray(c) ? c[i] : c);
    // The metadata column: an empty object stands for none, as a compact entry leaves it out.
    if (isEmptyObject(packed[width])) packed.length = width;
    entries[i] = unpackEntry(packed);
  }
  return entries;
}

/** A masked entry (`MASKED`) as the enclosed entries, without those at the indexes it names. */
function unpackMasked(a: readonly unknown[]): LogEntry[] {
  const masked = a[1];
  if (!Array.isArray(masked) || !masked.every((i) => isInt(i) && i >= 0))
    throw new Error('malformed masked entry in the event log: its mask is not a list of positions');
  const left = new Set<number>(masked);
  return unpackEntries(a.slice(2)).filter((_, i) => !left.has(i));
}

/** Expand a row's parsed JSON array into its entries (a batch entry into one per job). */
export function unpackEntries(stored: readonly unknown[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const entry of stored) {
    if (Array.isArray(entry) && entry[0] === STARTED_BATCH) entries.push(...unpackStartedBatch(entry));
    else if (Array.isArray(entry) && (entry[0] === COLUMNS || entry[0] === ENCODED_COLUMNS))
      entries.push(...unpackColumns(entry));
    else if (Array.isArray(entry) && entry[0] === MASKED) entries.push(...unpackMasked(entry));
    else entries.push(unpackEntry(entry));
  }
  return entries;
}
