/**
 * The compact stored form's vocabulary (event-pack.ts writes it, event-unpack.ts reads it): the
 * entry type a write hands over, the format's type codes and how wide each compact entry is.
 *
 * Format marker: a stored entry that is an ARRAY is compact, and its first element is a type code
 * of format version 1 (below). An OBJECT `{ type, data }` is the original form: rows written
 * before this format existed, and every other event type, still read unchanged. A later format
 * takes new codes; codes are never reused.
 */

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
export const STARTED_CODE = 1;
export const COMPLETED_CODE = 2;
export const FAILED_CODE = 3;
export const RETRYING_CODE = 4;
export const SNOOZED_CODE = 5;
/** `job:queued`: its own field order (an enqueue has no attempt yet), see `packQueued`. */
export const QUEUED_CODE = 6;
/**
 * Many `job:started` of one claim in ONE entry, column by column (see `unpackStartedBatch`),
 * built in one pass over the claimed jobs by PostgreSQL's claim (aggregates in SQL; the SQLite
 * claim builds a column batch, `startedBatchJson`); it expands into one `job:started` per job.
 */
export const STARTED_BATCH_CODE = 7;
/**
 * A run of compact entries of ONE code, column by column, a column holding one value when every
 * entry has that value: `[8, code, n, column…]` (see `columnsJson`). It expands into the n entries
 * in their order. Written for every run of at least `MIN_COLUMNS_RUN` entries (a finalize's
 * `job:completed`, an enqueue's `job:queued`, a SQLite claim's `job:started`).
 */
export const COLUMNS_CODE = 8;
/**
 * Entries of which the reader leaves some out: `[9, [index…], entry…]`, the indexes counting the
 * enclosed entries once expanded, from 0. PostgreSQL's finalize sends a batch's events packed as
 * a whole; when the fence refuses some items, the statement stores that batch as sent, masked,
 * since it cannot cut a column batch apart (drivers/postgres/lease-log.ts).
 */
export const MASKED_CODE = 9;
/**
 * A column batch (`COLUMNS_CODE`) with a column stored encoded, as an object naming its encoding:
 * `{"u": text}`, n UUIDs as the base64url text of their bytes (uuid-column.ts); `{"r": runs}` or
 * `{"R": runs}`, whole numbers or decimal ids as runs of arithmetic progressions (runs-column.ts).
 * Written instead of `COLUMNS_CODE` only when a column is encoded, so that a reader which predates it
 * stops with the newer-jobwire error instead of taking the object for a value every entry shares
 * (and one that predates an encoding stops with the same error, naming the encoding).
 */
export const ENCODED_COLUMNS_CODE = 10;
/** Below this many entries of one code in a row, a column batch saves too little to be worth it. */
export const MIN_COLUMNS_RUN = 3;
/** How many elements a compact entry of each code has, its code included, its metadata not. */
export const WIDTH: Readonly<Record<number, number>> = {
  [STARTED_CODE]: 10,
  [COMPLETED_CODE]: 15,
  [FAILED_CODE]: 15,
  [RETRYING_CODE]: 14,
  [SNOOZED_CODE]: 13,
  [QUEUED_CODE]: 11,
};

export const CODES: Record<string, number> = {
  'job:started': STARTED_CODE,
  'job:completed': COMPLETED_CODE,
  'job:failed': FAILED_CODE,
  'job:retrying': RETRYING_CODE,
  'job:snoozed': SNOOZED_CODE,
};
export const TYPES = [
  '',
  'job:started',
  'job:completed',
  'job:failed',
  'job:retrying',
  'job:snoozed',
  'job:queued',
];

/** Whether `v` is a safe integer (times and counts the compact form stores as differences). */
export const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** Whether `v` is a plain object with no own key (an empty metadata). */
export function isEmptyObject(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  for (const key in v) if (Object.hasOwn(v, key)) return false;
  return true;
}
