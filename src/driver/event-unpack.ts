/**
 * Reading the log's compact stored form back (written by event-pack.ts; its codes in
 * event-codes.ts): every stored entry expands into exactly the entries that were written, a
 * column batch into one per job, a masked run without the entries it masks. A code this version
 * does not know stops the read with an error that says to upgrade, never a silent skip.
 */

import {
  COLUMNS_CODE,
  COMPLETED_CODE,
  ENCODED_COLUMNS_CODE,
  FAILED_CODE,
  isEmptyObject,
  isInt,
  type LogEntry,
  MASKED_CODE,
  QUEUED_CODE,
  RETRYING_CODE,
  SNOOZED_CODE,
  STARTED_BATCH_CODE,
  STARTED_CODE,
  TYPES,
  WIDTH,
} from './event-codes.js';
import { isRunsColumn, runsColumnValues } from './runs-column.js';
import { uuidColumnValues } from './uuid-column.js';

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
  if (code === QUEUED_CODE) return unpackQueued(a);
  const started = code === STARTED_CODE;
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
    case COMPLETED_CODE:
      specific.completedAt = startedAt + (a[i++] as number);
      specific.durationMs = a[i++];
      specific.result = a[i++];
      if (a[i++] === 1) specific.resultOmitted = true;
      break;
    case FAILED_CODE:
      specific.failedAt = startedAt + (a[i++] as number);
      specific.durationMs = a[i++];
      specific.error = a[i++];
      specific.willRetry = a[i++] === 1;
      break;
    case RETRYING_CODE:
      specific.delayMs = a[i++];
      specific.nextRunAt = a[i++];
      specific.error = a[i++];
      break;
    case SNOOZED_CODE:
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
      STARTED_CODE,
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
  const encoded = a[0] === ENCODED_COLUMNS_CODE;
  const code = a[1] as number;
  const n = a[2];
  const width = WIDTH[code];
  if (width === undefined)
    throw new Error(
      `unknown compact event code ${String(code)} in a column batch: the log was written by a newer jobwire; upgrade this process to read it`,
    );
  const columns = a.slice(3);
  // An object before the metadata column is an encoded column (`ENCODED_COLUMNS_CODE`).
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

/** A masked entry (`MASKED_CODE`) as the enclosed entries, without those at the indexes it names. */
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
    if (Array.isArray(entry) && entry[0] === STARTED_BATCH_CODE) entries.push(...unpackStartedBatch(entry));
    else if (Array.isArray(entry) && (entry[0] === COLUMNS_CODE || entry[0] === ENCODED_COLUMNS_CODE))
      entries.push(...unpackColumns(entry));
    else if (Array.isArray(entry) && entry[0] === MASKED_CODE) entries.push(...unpackMasked(entry));
    else entries.push(unpackEntry(entry));
  }
  return entries;
}
