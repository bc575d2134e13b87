/**
 * The durable event log at the driver seam: what a write stores, what a read returns, and the
 * helpers every driver shares to expand stored rows into events.
 *
 * A driver stores the events of a transaction as ONE row (a JSON array of entries), written by
 * the same statement or transaction as the state change, so a committed change has its events
 * and a rolled-back one has none. Cursors are opaque strings a driver makes and parses; each
 * names a position between two events, and a read after it returns every later event once,
 * in commit order (per job, always in the order the changes happened).
 */
import { InvalidOptionError } from '../core/errors.js';
import type { EpochMs } from '../core/types.js';
import type { LogEntry } from './event-codes.js';
import { packEntries } from './event-pack.js';
import { unpackEntries } from './event-unpack.js';

export type { LogEntry };

/**
 * Builds the entries of a write from what the write did, inside its transaction. Must be
 * synchronous and must not throw (it runs between the change and the commit).
 */
export type LogBuilder<R> = (result: R) => readonly LogEntry[];

/** An event read back from the log. */
export interface StoredLogEvent {
  type: string;
  data: unknown;
  /** When the row was written (the database's clock at the writing transaction). */
  at: EpochMs;
  /** The position just after this event: pass it as `after` to read what follows. */
  cursor: string;
}

/** Which events a read returns; each field, when given, must match (absent: any). */
export interface EventFilter {
  types?: readonly string[];
  queues?: readonly string[];
  jobIds?: readonly string[];
}

/** Parameters of `Driver.eventRead`. */
export interface EventReadParams {
  /** A cursor from an earlier read, `eventHead`, or null for the oldest event kept. */
  after: string | null;
  /** Most events returned (after filtering). */
  limit: number;
  filter?: EventFilter;
}

/** The result of `Driver.eventRead`. */
export interface EventReadResult {
  events: StoredLogEvent[];
  /** Where the next read starts: after the last event returned, or after all that were examined. */
  cursor: string;
  /** True when the read stopped at `limit` with committed events left to read. */
  more: boolean;
}

/** Parameters of `Driver.eventAppend`. */
export interface EventAppendParams {
  entries: readonly LogEntry[];
}

/** Parameters of `Driver.eventListForJob`. */
export interface EventListForJobParams {
  jobId: string;
  limit: number;
}

/** Parameters of `Driver.eventPrune`. */
export interface EventPruneParams {
  /** Remove events written before this time. */
  before: EpochMs;
  /** Also remove the oldest events beyond this many rows (one row per writing transaction). */
  maxRows?: number;
  /** Most rows removed by one call (keeps each delete short). */
  limit: number;
}

/** Parameters of `Driver.eventSubscriptionGet` and `Driver.eventSubscriptionDelete`. */
export interface EventSubscriptionParams {
  name: string;
}

/** Parameters of `Driver.eventSubscriptionAdvance`. */
export interface EventSubscriptionAdvanceParams {
  name: string;
  /** The cursor the caller read from; the advance applies only if it is still the stored one. */
  from: string | null;
  to: string;
  /**
   * Work to commit with the new cursor: called with the driver's transaction handle (the same
   * kind `transaction` takes on enqueue) when the driver has `callerTransactions`, otherwise
   * with undefined, before the cursor is stored.
   */
  work?: (transaction: unknown) => Promise<void>;
}

/**
 * Stands for the job's new due time in the `nextRunAt` of a retry or snoozed finalize item's
 * events: the driver stores the due time it wrote instead (in SQL, by replacing this constant's
 * JSON encoding in the item's JSON). A user's string can only collide by holding a NUL character.
 */
export const RUN_AT_PLACEHOLDER = '\u0000jobwire:runAt';

/** `RUN_AT_PLACEHOLDER` as it appears in JSON text. */
export const RUN_AT_PLACEHOLDER_JSON = JSON.stringify(RUN_AT_PLACEHOLDER);

/** `entries` with every `nextRunAt` placeholder replaced by `runAt` (copies; the input is kept). */
export function withDueTime(entries: readonly LogEntry[], runAt: EpochMs): LogEntry[] {
  return entries.map((entry) => {
    const data = entry.data as { nextRunAt?: unknown } | null;
    return data?.nextRunAt === RUN_AT_PLACEHOLDER
      ? { type: entry.type, data: { ...data, nextRunAt: runAt } }
      : entry;
  });
}

/** Thrown by drivers for a cursor they did not make (the client turns it into a typed error). */
export const MALFORMED_CURSOR = 'malformed event cursor';

/**
 * The refusal of a cursor past the end of the log. Waiting for the log to reach it would skip
 * every event until then without a word; such a cursor comes from another database, or was kept
 * across a reset of this one (a deleted SQLite file, a dropped schema).
 */
export function cursorAheadError(cursor: string): InvalidOptionError {
  return new InvalidOptionError(
    'after',
    `"${cursor.slice(0, 80)}" is past the end of this database's event log: it comes from another ` +
      `database, or from before this one was reset. Read from 'start' or 'now' (a stored ` +
      `subscription: events.deleteSubscription(name) and subscribe again).`,
  );
}

/** The JSON text of a row: entries as an array, the hot path's events compact (event-pack.ts). */
export function entriesJson(entries: readonly LogEntry[]): string {
  return packEntries(entries);
}

/** The job ids an entry names (its `jobId`), as stored for a job's timeline. */
export function entryJobIds(entries: readonly LogEntry[]): string[] {
  const ids = new Set<string>();
  for (const entry of entries) {
    // A compact entry holds the job id second (event-pack.ts): no need to expand it.
    const id = entry.packed ? entry.packed[1] : (entry.data as { jobId?: unknown } | null)?.jobId;
    if (typeof id === 'string') ids.add(id);
  }
  return [...ids];
}

/** True when `entry` passes `filter`. */
export function entryMatches(entry: LogEntry, filter: EventFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.types && !filter.types.includes(entry.type)) return false;
  const data = entry.data as { queue?: unknown; jobId?: unknown } | null;
  if (filter.queues && !filter.queues.includes(data?.queue as string)) return false;
  if (filter.jobIds && !filter.jobIds.includes(data?.jobId as string)) return false;
  return true;
}

/** A stored row as a driver reads it. */
export interface LogRow {
  id: string;
  at: EpochMs;
  entriesJson: string;
}

/**
 * Expand rows (in log order) into events after position (`rowId`, `index`) of the first row,
 * keeping those that pass `filter`, stopping at `limit`. `cursorAt(row, i)` makes the cursor
 * after entry i of a row; `cursorAfterRow(row)` the one after a whole row. Returns the events,
 * the cursor after the last event examined, and whether the limit cut the read short.
 */
export function expandRows(
  rows: readonly LogRow[],
  start: { rowId: string; index: number } | null,
  limit: number,
  filter: EventFilter | undefined,
  cursorAt: (row: LogRow, index: number) => string,
  cursorAfterRow: (row: LogRow) => string,
): { events: StoredLogEvent[]; cursor: string | null; more: boolean } {
  const events: StoredLogEvent[] = [];
  let cursor: string | null = null;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const entries = unpackEntries(JSON.parse(row.entriesJson) as unknown[]);
    const first = start && row.id === start.rowId ? start.index + 1 : 0;
    for (let i = first; i < entries.length; i++) {
      if (events.length >= limit) return { events, cursor, more: true };
      const entry = entries[i]!;
      const at = cursorAt(row, i);
      cursor = at;
      if (entryMatches(entry, filter))
        events.push({ type: entry.type, data: entry.data, at: row.at, cursor: at });
    }
    cursor = cursorAfterRow(row);
  }
  return { events, cursor, more: false };
}
