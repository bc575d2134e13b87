/**
 * The durable event log on SQLite. One writer at a time holds the file's write lock and ids are
 * drawn inside the write transaction, so id order is commit order and a cursor is simply "after
 * entry i of row r" (or "after row r"). Writes that change jobs call `EventWriter.append` inside
 * their own transaction; reads, pruning and subscriptions are the methods below.
 */
import { EventCursorExpiredError, InvalidOptionError } from '../../core/errors.js';
import type { EpochMs } from '../../core/types.js';
import {
  cursorAheadError,
  type EventAppendParams,
  type EventListForJobParams,
  type EventPruneParams,
  type EventReadParams,
  type EventReadResult,
  type EventSubscriptionAdvanceParams,
  type EventSubscriptionParams,
  entriesJson,
  entryJobIds,
  expandRows,
  type LogBuilder,
  type LogEntry,
  type LogRow,
  type StoredLogEvent,
} from '../../driver/event-log.js';
import type { SqliteContext } from './context.js';

/** Appends rows of entries; call inside the transaction of the change they describe. */
export interface EventWriter {
  /** Store `entries` as one row (nothing when empty). */
  append(entries: readonly LogEntry[], now: EpochMs): void;
  /** Store an already encoded JSON array naming `jobIds` as one row. */
  appendJson(json: string, jobIds: readonly (number | string)[], now: EpochMs): void;
  /** Run `run` and store what `log` makes of its result, in one IMMEDIATE transaction. */
  withLog<R>(log: LogBuilder<R> | undefined, now: EpochMs, run: () => R): R;
}

const writers = new WeakMap<object, EventWriter>();

/**
 * Rows entered into the timeline index together (schema 14): the R*Tree insert per row was a
 * quarter of a one-by-one enqueue's time; a timeline reads the at most this many newer rows
 * directly.
 */
export const EVENT_INDEX_BATCH = 64;

/** The event writer of a connection (one per database handle). */
export function eventWriterOf(ctx: SqliteContext): EventWriter {
  let writer = writers.get(ctx.db);
  if (writer) return writer;
  const { db } = ctx;
  // The row's id is the connection's last insert rowid (no RETURNING clause to step through).
  const insertRow = db.prepare(
    'INSERT INTO jobwire_events (at, entries, job_lo, job_hi) VALUES (?, ?, ?, ?)',
  );
  const indexedThrough = db.prepare('SELECT indexed_through FROM jobwire_event_state WHERE id = 1').pluck();
  const indexRows = db.prepare(
    `INSERT INTO jobwire_event_jobs (id, lo, hi)
     SELECT id, job_lo, job_hi FROM jobwire_events WHERE id > ? AND id <= ? AND job_lo IS NOT NULL ORDER BY id`,
  );
  const setIndexed = db.prepare('UPDATE jobwire_event_state SET indexed_through = ? WHERE id = 1');
  const appendJson = (json: string, jobIds: readonly (number | string)[], now: EpochMs): void => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (const jobId of jobIds) {
      const n = Number(jobId);
      if (n < lo) lo = n;
      if (n > hi) hi = n;
    }
    const id = Number(
      insertRow.run(Math.floor(now), json, hi > 0 ? lo : null, hi > 0 ? hi : null).lastInsertRowid,
    );
    // Ids are drawn one by one inside write transactions (a rolled-back row's id is drawn again),
    // so every multiple of the batch is written once: that write indexes the rows since the mark.
    if (id % EVENT_INDEX_BATCH === 0) {
      const mark = indexedThrough.get() as number;
      if (mark < id) {
        indexRows.run(mark, id);
        setIndexed.run(id);
      }
    }
  };
  writer = {
    appendJson,
    append(entries, now) {
      if (entries.length === 0) return;
      appendJson(entriesJson(entries), entryJobIds(entries), now);
    },
    withLog(log, now, run) {
      if (!log) return run();
      return db
        .transaction(() => {
          const result = run();
          writer!.append(log(result), now);
          return result;
        })
        .immediate();
    },
  };
  writers.set(db, writer);
  return writer;
}

type Position = { rowId: number; index: number | null };

function encode(position: Position): string {
  return position.index === null ? `s1.${position.rowId}` : `s1.${position.rowId}.${position.index}`;
}

function decode(cursor: string): Position {
  const parts = cursor.split('.');
  const numbers = parts.slice(1).map(Number);
  const ok = parts[0] === 's1' && numbers.every((n) => Number.isSafeInteger(n) && n >= 0);
  if (ok && numbers.length === 1) return { rowId: numbers[0]!, index: null };
  if (ok && numbers.length === 2) return { rowId: numbers[0]!, index: numbers[1]! };
  throw new InvalidOptionError('after', `"${cursor}" is not an event cursor of the SQLite driver`);
}

/** Build the log's read, prune and subscription methods (synchronous; wrapped in promises). */
export function createEventMethods(ctx: SqliteContext) {
  const { db } = ctx;
  const writer = eventWriterOf(ctx);
  const prunedThrough = db.prepare('SELECT pruned_through AS n FROM jobwire_event_state WHERE id = 1');
  const rowsFrom = db.prepare('SELECT id, at, entries FROM jobwire_events WHERE id >= ? ORDER BY id LIMIT ?');
  const maxId = db.prepare('SELECT coalesce(max(id), 0) AS n FROM jobwire_events');
  // Rows whose job-id range covers the job, through the index up to its mark and directly after
  // it (fewer than EVENT_INDEX_BATCH rows); expandRows keeps only the job's entries.
  const forJob = db.prepare(
    `WITH mark AS (SELECT indexed_through AS n FROM jobwire_event_state WHERE id = 1)
     SELECT id, at, entries FROM (
       SELECT e.id, e.at, e.entries FROM jobwire_event_jobs r JOIN jobwire_events e ON e.id = r.id
       WHERE r.lo <= @id AND r.hi >= @id
       UNION ALL
       SELECT e.id, e.at, e.entries FROM jobwire_events e
       WHERE e.id > (SELECT n FROM mark) AND e.job_lo <= @id AND e.job_hi >= @id
     ) ORDER BY id`,
  );
  // Where a prune by age ends: the last row before the first one still inside the retention,
  // looked for among the oldest `limit` rows only (see `agedThrough`).
  const agedThroughRow = db.prepare(
    `WITH oldest AS (SELECT id, at FROM jobwire_events ORDER BY id LIMIT @limit)
     SELECT coalesce(max(id), 0) AS n FROM oldest
     WHERE id < coalesce((SELECT min(id) FROM oldest WHERE at >= @before), 9223372036854775807)`,
  );
  const setPruned = db.prepare('UPDATE jobwire_event_state SET pruned_through = ? WHERE id = 1');
  const deleteRows = db.prepare(
    'DELETE FROM jobwire_events WHERE id IN (SELECT id FROM jobwire_events WHERE id <= ? ORDER BY id LIMIT ?) RETURNING id',
  );
  const deleteRange = db.prepare('DELETE FROM jobwire_event_jobs WHERE id = ?');
  const emptyRow = db.prepare(
    "UPDATE jobwire_events SET entries = '[]', job_lo = NULL, job_hi = NULL WHERE id = ? AND entries <> '[]'",
  );
  const getSub = db.prepare('SELECT cursor FROM jobwire_event_subscriptions WHERE name = ?');
  const putSub = db.prepare(
    `INSERT INTO jobwire_event_subscriptions (name, cursor, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
  );
  const deleteSub = db.prepare('DELETE FROM jobwire_event_subscriptions WHERE name = ?');

  const toLogRow = (r: { id: number; at: number; entries: string }): LogRow => ({
    id: String(r.id),
    at: r.at,
    entriesJson: r.entries,
  });

  // Reads in one transaction: the pruning mark and the rows describe the same moment.
  const readTx = db.transaction((params: EventReadParams): EventReadResult => {
    const pruned = (prunedThrough.get() as { n: number }).n;
    const position = params.after === null ? { rowId: pruned, index: null } : decode(params.after);
    const expired = position.index === null ? position.rowId < pruned : position.rowId <= pruned;
    if (expired) throw new EventCursorExpiredError(params.after ?? '');
    // Row ids only grow (the newest row is emptied, never deleted): past max(id) is not ours.
    if (params.after !== null && position.rowId > Math.max(pruned, (maxId.get() as { n: number }).n))
      throw cursorAheadError(params.after);
    const limit = Math.max(1, Math.floor(params.limit));
    const from = position.index === null ? position.rowId + 1 : position.rowId;
    const rows = (rowsFrom.all(from, limit + 1) as { id: number; at: number; entries: string }[]).map(
      toLogRow,
    );
    const resume = position.index === null ? null : { rowId: String(position.rowId), index: position.index };
    const page = expandRows(
      rows,
      resume,
      limit,
      params.filter,
      (row, index) => encode({ rowId: Number(row.id), index }),
      (row) => encode({ rowId: Number(row.id), index: null }),
    );
    return {
      events: page.events,
      cursor: page.cursor ?? encode(position),
      more: page.more || rows.length > limit,
    };
  });

  /**
   * The last row of the log's oldest run of rows written before `before`, looking at the oldest
   * `limit` rows only: a prune call removes at most `limit` rows, and `at` has no index (one more
   * index write per transaction on the hot path), so looking further would read rows this call
   * cannot remove — the whole log when nothing is old enough: ~0.5 s of the event loop at a
   * million rows, once a minute. Stopping at the first row still inside the retention also means
   * a row stamped by a clock that runs behind never takes the younger rows before it along.
   */
  function agedThrough(before: EpochMs, limit: number): number {
    return (agedThroughRow.get({ before, limit }) as { n: number }).n;
  }

  const pruneTx = db.transaction((params: EventPruneParams): number => {
    const pruned = (prunedThrough.get() as { n: number }).n;
    const limit = Math.max(1, Math.floor(params.limit));
    let through = agedThrough(Math.floor(params.before), limit);
    if (params.maxRows !== undefined) {
      through = Math.max(through, (maxId.get() as { n: number }).n - params.maxRows);
    }
    // Mark first: from this commit on, a cursor into what goes is expired, never silently short.
    if (through > pruned) setPruned.run(through);
    const mark = Math.max(through, pruned);
    // The newest row is emptied, never deleted: ids are max(id) + 1 (schema 18), so deleting it
    // would hand its id, or a lower one, to the next row — behind cursors already past it.
    const newest = (maxId.get() as { n: number }).n;
    const gone = deleteRows.all(Math.min(mark, newest - 1), limit) as { id: number }[];
    for (const { id } of gone) deleteRange.run(id);
    let removed = gone.length;
    if (mark >= newest && newest > 0 && removed < limit && emptyRow.run(newest).changes === 1) {
      deleteRange.run(newest);
      removed++;
    }
    return removed;
  });

  return {
    eventAppend(params: EventAppendParams): void {
      db.transaction(() => writer.append(params.entries, ctx.now(undefined))).immediate();
    },
    eventHead(): string {
      // Never before the pruning mark: once every row is pruned, max(id) alone would name a
      // position that reads as expired.
      const newest = (maxId.get() as { n: number }).n;
      return encode({ rowId: Math.max(newest, (prunedThrough.get() as { n: number }).n), index: null });
    },
    eventListForJob(params: EventListForJobParams): StoredLogEvent[] {
      const id = /^[1-9][0-9]{0,15}$/.test(params.jobId) ? Number(params.jobId) : undefined;
      if (id === undefined) return [];
      const rows = (forJob.all({ id }) as { id: number; at: number; entries: string }[]).map(toLogRow);
      return expandRows(
        rows,
        null,
        params.limit,
        { jobIds: [params.jobId] },
        () => '',
        () => '',
      ).events;
    },
    eventPrune: (params: EventPruneParams): number => pruneTx.immediate(params),
    eventRead: (params: EventReadParams): EventReadResult => readTx.deferred(params),
    eventSubscriptionGet(params: EventSubscriptionParams): string | null {
      return (getSub.get(params.name) as { cursor: string } | undefined)?.cursor ?? null;
    },
    eventSubscriptionDelete(params: EventSubscriptionParams): boolean {
      return deleteSub.run(params.name).changes === 1;
    },
    /**
     * The second half of `eventSubscriptionAdvance` (index.ts runs `work` before it: SQLite cannot
     * hold its write lock across an async handler): store `to` if `from` is still the cursor.
     */
    eventSubscriptionStore(params: EventSubscriptionAdvanceParams): boolean {
      const stored = () => (getSub.get(params.name) as { cursor: string } | undefined)?.cursor ?? null;
      return db
        .transaction(() => {
          if (stored() !== params.from) return false;
          putSub.run(params.name, params.to, Math.floor(ctx.now(undefined)));
          return true;
        })
        .immediate();
    },
  };
}
