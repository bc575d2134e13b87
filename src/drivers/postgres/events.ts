/**
 * The durable event log on PostgreSQL: reading in commit order, ticks, pruning, subscriptions.
 *
 * Ids come from a sequence and are drawn before commit, so a reader that took every id up to 100
 * can later meet a transaction that drew 99 and committed after — `id > cursor` would skip it.
 * Readers therefore go by snapshots (as PgQ does): a tick stores `pg_current_snapshot()`, ticks
 * are taken one at a time under an advisory lock, and the events between ticks A and B are the
 * rows whose writing transaction is visible in B's snapshot and not in A's. Once B exists that
 * set never changes (every transaction it sees had committed), so a cursor — "interval (A, B],
 * up to entry i of row r", or "all of tick B" — names a fixed position. A transaction held open
 * for minutes delays only its own events: the ticks after it was seen running leave it out, and
 * it falls into the first interval whose end sees it committed. Within an interval rows go by id,
 * which keeps every job's events in the order they happened (a job's next change is written by a
 * transaction that started after the previous one committed, so it draws a higher id).
 *
 * Ticks are taken on demand by readers, so the log needs no ticker process, and a read sees
 * everything committed before it began: it takes a tick, or shares one that a concurrent reader
 * took after this read began (readers waiting for the tick lock at once take one tick, not many).
 */

import type pg from 'pg';
import { EventCursorExpiredError, InvalidOptionError } from '../../core/errors.js';
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
import type { PgContext, Queryable } from './context.js';
import { epochMs } from './row.js';

/** Most rows one read takes from an interval before cutting it (bounds a catch-up's sort). */
const INTERVAL_ROWS = 2000;

/** A tick as readers use it. */
interface Tick {
  id: number;
  snapshot: string;
  xmax: string;
  xip: string[];
  lastId: number;
}

/** A decoded cursor: after all of tick `b`, or inside interval (a, b] after entry `index` of row `rowId`. */
type Position = { b: number } | { a: number; b: number; rowId: string; index: number };

function encode(position: Position): string {
  return 'a' in position
    ? `p1.${position.a}.${position.b}.${position.rowId}.${position.index}`
    : `p1.${position.b}`;
}

function decode(cursor: string): Position {
  const parts = cursor.split('.');
  const numbers = parts.slice(1).map(Number);
  const ok = parts[0] === 'p1' && numbers.every((n) => Number.isSafeInteger(n) && n >= 0);
  if (ok && numbers.length === 1) return { b: numbers[0]! };
  if (ok && numbers.length === 4 && numbers[0]! < numbers[1]!) {
    return { a: numbers[0]!, b: numbers[1]!, rowId: String(numbers[2]), index: numbers[3]! };
  }
  throw new InvalidOptionError('after', `"${cursor}" is not an event cursor of the PostgreSQL driver`);
}

const tickColumns = `id::float8 AS id, snapshot::text AS snapshot, last_id::float8 AS last_id`;

function toTick(row: { id: number; snapshot: string; last_id: number }): Tick {
  // The text form is xmin:xmax:xip1,xip2,…
  const [, xmax, xip] = row.snapshot.split(':');
  return {
    id: row.id,
    snapshot: row.snapshot,
    xmax: xmax!,
    xip: xip ? xip.split(',') : [],
    lastId: row.last_id,
  };
}

/**
 * Take a tick unless one was taken after this transaction began (while it waited for the lock:
 * that tick's snapshot already sees everything committed before this read). One round trip. The
 * lock is taken by an earlier statement than the snapshot, so each snapshot is taken after the
 * previous tick committed and ticks are ordered like their snapshots.
 */
function tickSql(ctx: PgContext): string {
  const key = `hashtextextended('jobwire:event-ticks:${ctx.schema}', 0)`;
  return `BEGIN;
SELECT pg_advisory_xact_lock(${key});
INSERT INTO ${ctx.s}.event_ticks (id, snapshot, last_id, at)
SELECT t.id + 1, pg_current_snapshot(), coalesce((SELECT max(id) FROM ${ctx.s}.events), 0), clock_timestamp()
FROM (SELECT id, at FROM ${ctx.s}.event_ticks ORDER BY id DESC LIMIT 1) t
WHERE t.at < transaction_timestamp();
COMMIT;`;
}

async function takeTick(ctx: PgContext): Promise<void> {
  ctx.assertOpen();
  const client = await ctx.pool.connect().catch((err: unknown) => {
    throw ctx.wrap(err, 'eventRead');
  });
  let broken = false;
  // Checked out, the client has no pool listening for its errors: a connection that dies now
  // must fail this tick, not crash the process with an unhandled 'error' event.
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    const timeout = ctx.timeoutOf('eventRead');
    await client.query(
      timeout > 0 ? ({ text: tickSql(ctx), query_timeout: timeout } as pg.QueryConfig) : tickSql(ctx),
    );
  } catch (err) {
    broken = true;
    throw ctx.wrap(err, 'eventRead');
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

async function latestTick(ctx: PgContext): Promise<Tick> {
  const [row] = await ctx.query<{ id: number; snapshot: string; last_id: number }>(
    'eventRead',
    `SELECT ${tickColumns} FROM ${ctx.s}.event_ticks ORDER BY id DESC LIMIT 1`,
  );
  return toTick(row!);
}

async function oldestTickId(ctx: PgContext): Promise<number> {
  const [row] = await ctx.query<{ id: number }>(
    'eventRead',
    `SELECT min(id)::float8 AS id FROM ${ctx.s}.event_ticks`,
  );
  return row!.id;
}

async function tickById(ctx: PgContext, id: number): Promise<Tick | undefined> {
  const [row] = await ctx.query<{ id: number; snapshot: string; last_id: number }>(
    'eventRead',
    `SELECT ${tickColumns} FROM ${ctx.s}.event_ticks WHERE id = $1`,
    [id],
  );
  return row ? toTick(row) : undefined;
}

/**
 * The furthest tick after `from` whose interval holds about INTERVAL_ROWS rows at most (at least
 * the next tick), so a reader far behind sorts a bounded set per read.
 */
async function intervalEnd(ctx: PgContext, from: Tick, latest: Tick): Promise<Tick> {
  if (latest.lastId - from.lastId <= INTERVAL_ROWS) return latest;
  const [row] = await ctx.query<{ id: number; snapshot: string; last_id: number }>(
    'eventRead',
    `SELECT ${tickColumns} FROM ${ctx.s}.event_ticks
     WHERE id > $1 AND (id = $1 + 1 OR last_id <= $2) ORDER BY id DESC LIMIT 1`,
    [from.id, from.lastId + INTERVAL_ROWS],
  );
  return row ? toTick(row) : latest;
}

/** Rows visible in `b` and not in `a`, from row id `fromRow` on, in id order. */
async function intervalRows(
  ctx: PgContext,
  a: Tick,
  b: Tick,
  fromRow: string,
  limit: number,
): Promise<LogRow[]> {
  const rows = await ctx.query<{ id: string; at: number; entries: string }>(
    'eventRead',
    `SELECT e.id, ${epochMs('e.at')} AS at, e.entries::text AS entries FROM ${ctx.s}.events e
     WHERE (e.xid >= $1::xid8 OR e.xid = ANY ($2::xid8[]))
       AND e.xid < $3::xid8 AND pg_visible_in_snapshot(e.xid, $4::pg_snapshot)
       AND e.id >= $5::bigint
     ORDER BY e.id LIMIT $6`,
    [a.xmax, a.xip, b.xmax, b.snapshot, fromRow, limit],
  );
  return rows.map((r) => ({ id: r.id, at: r.at, entriesJson: r.entries }));
}

export async function eventRead(ctx: PgContext, params: EventReadParams): Promise<EventReadResult> {
  ctx.assertOpen();
  const limit = Math.max(1, Math.floor(params.limit));
  const oldest = await oldestTickId(ctx);
  let position: Position = params.after === null ? { b: oldest } : decode(params.after);
  const start = 'a' in position ? position.a : position.b;
  if (start < oldest) throw new EventCursorExpiredError(params.after ?? '');
  const events: StoredLogEvent[] = [];
  let latest: Tick | undefined;
  for (;;) {
    let a: Tick | undefined;
    let b: Tick | undefined;
    let resume: { rowId: string; index: number } | null = null;
    if ('a' in position) {
      a = await tickById(ctx, position.a);
      b = await tickById(ctx, position.b);
      resume = { rowId: position.rowId, index: position.index };
    } else {
      if (!latest) {
        await takeTick(ctx);
        latest = await latestTick(ctx);
      }
      // Tick ids only grow: a cursor past the latest tick is not this database's.
      if (position.b > latest.id) throw cursorAheadError(params.after ?? '');
      if (position.b >= latest.id) break;
      a = await tickById(ctx, position.b);
      b = a && (await intervalEnd(ctx, a, latest));
    }
    if (!a || !b) {
      // Pruned while we read (or a cursor naming ticks that never existed).
      if (start < (await oldestTickId(ctx))) throw new EventCursorExpiredError(params.after ?? '');
      throw new InvalidOptionError('after', `"${params.after}" names event ticks this database never had`);
    }
    const want = limit - events.length;
    const rows = await intervalRows(ctx, a, b, resume?.rowId ?? '0', want + 1);
    const interval = { a: a.id, b: b.id };
    const page = expandRows(
      rows,
      resume,
      want,
      params.filter,
      (row, index) => encode({ ...interval, rowId: row.id, index }),
      (row) => encode({ ...interval, rowId: row.id, index: Number.MAX_SAFE_INTEGER }),
    );
    events.push(...page.events);
    if (page.more || rows.length > want) {
      // Cut inside the interval: resume after the last entry examined.
      const cursor = page.cursor ?? params.after ?? encode(position);
      return { events, cursor, more: true };
    }
    position = { b: b.id };
    if (events.length >= limit) break;
  }
  return { events, cursor: encode(position), more: false };
}

export async function eventHead(ctx: PgContext): Promise<string> {
  await takeTick(ctx);
  return encode({ b: (await latestTick(ctx)).id });
}

/**
 * Insert one row of entries on `on` (a transaction's client) or as its own statement. `prepare`
 * false for a caller's connection, where we leave no prepared statement behind.
 */
export async function insertEntries(
  ctx: PgContext,
  entries: readonly LogEntry[],
  on?: Queryable,
  prepare = true,
): Promise<void> {
  if (entries.length === 0) return;
  await ctx.query(
    'eventAppend',
    `INSERT INTO ${ctx.s}.events (job_lo, job_hi, entries) VALUES ($1::bigint, $2::bigint, $3::text)`,
    [...jobRange(entryJobIds(entries)), entriesJson(entries)],
    on,
    prepare,
  );
}

/** The smallest and largest of `ids` (nulls when there are none). */
function jobRange(ids: readonly string[]): [string | null, string | null] {
  if (ids.length === 0) return [null, null];
  const sorted = ids.map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [String(sorted[0]), String(sorted[sorted.length - 1])];
}

export async function eventAppend(ctx: PgContext, params: EventAppendParams): Promise<void> {
  ctx.assertOpen();
  await insertEntries(ctx, params.entries);
}

/**
 * Run `run` and store what `log` makes of its result in the same transaction. Without `log` it
 * runs as before (one statement, no transaction of ours).
 */
export async function withLog<R>(
  ctx: PgContext,
  operation: string,
  log: LogBuilder<R> | undefined,
  run: (ctx: PgContext) => Promise<R>,
): Promise<R> {
  if (!log) return run(ctx);
  return ctx.transaction(operation, async (client) => {
    const result = await run(ctx.within(client));
    await insertEntries(ctx, log(result), client);
    return result;
  });
}

/** Like `withLog`, but always in a transaction (the run may issue several statements). */
export async function inTransaction<R>(
  ctx: PgContext,
  operation: string,
  log: LogBuilder<R> | undefined,
  run: (ctx: PgContext) => Promise<R>,
): Promise<R> {
  return ctx.transaction(operation, async (client) => {
    const result = await run(ctx.within(client));
    if (log) await insertEntries(ctx, log(result), client);
    return result;
  });
}

/**
 * The rows holding one job's events, oldest first: the rows of this job alone, then the rows
 * spanning it with others. Each arm's condition names its index's predicate (schema 15: a B-tree
 * for single-job rows, GiST for ranges), so each is an index scan of its own whatever the
 * statistics say. Exported so tests can EXPLAIN exactly this.
 */
export function jobTimelineStatement(s: string, jobId: string): { text: string; values: unknown[] } {
  const columns = `e.id, ${epochMs('e.at')} AS at, e.entries::text AS entries`;
  return {
    text: `SELECT ${columns} FROM ${s}.events e WHERE e.job_hi <= e.job_lo AND e.job_lo = $1::bigint
     UNION ALL
     SELECT ${columns} FROM ${s}.events e
     WHERE e.job_lo < e.job_hi AND int8range(e.job_lo, e.job_hi, '[]') @> $1::bigint
     ORDER BY id`,
    values: [jobId],
  };
}

export async function eventListForJob(
  ctx: PgContext,
  params: EventListForJobParams,
): Promise<StoredLogEvent[]> {
  ctx.assertOpen();
  if (!/^[1-9][0-9]{0,18}$/.test(params.jobId)) return [];
  const { text, values } = jobTimelineStatement(ctx.s, params.jobId);
  const rows = await ctx.query<{ id: string; at: number; entries: string }>('eventListForJob', text, values);
  const filter = { jobIds: [params.jobId] };
  const page = expandRows(
    rows.map((r) => ({ id: r.id, at: r.at, entriesJson: r.entries })),
    null,
    params.limit,
    filter,
    () => '',
    () => '',
  );
  // A timeline's events are not positions in a read: their cursors are the read cursors' business.
  return page.events;
}

/**
 * Prune: take a tick, pick the newest tick P written before `before` (or far enough back for `maxRows`),
 * drop the ticks before it first — from then on a cursor before P is expired, never silently
 * short — then delete the rows P's snapshot sees, `limit` at a time.
 */
export async function eventPrune(ctx: PgContext, params: EventPruneParams): Promise<number> {
  ctx.assertOpen();
  // A fresh tick, so what was written up to now can be pruned (ticks mark what can go).
  await takeTick(ctx);
  const [pick] = await ctx.query<{ id: number | null }>(
    'eventPrune',
    `SELECT max(t.id)::float8 AS id FROM ${ctx.s}.event_ticks t
     WHERE (t.at < to_timestamp($1::float8 / 1000)
            OR ($2::bigint IS NOT NULL AND t.last_id <= (SELECT max(id) FROM ${ctx.s}.events) - $2::bigint))`,
    [params.before, params.maxRows ?? null],
  );
  const oldest = await oldestTickId(ctx);
  const prunePoint = Math.max(pick?.id ?? oldest, oldest);
  if (prunePoint > oldest) {
    await ctx.query('eventPrune', `DELETE FROM ${ctx.s}.event_ticks WHERE id < $1`, [prunePoint]);
  }
  const tick = await tickById(ctx, prunePoint);
  if (!tick) return 0;
  const rows = await ctx.query<{ id: string }>(
    'eventPrune',
    `DELETE FROM ${ctx.s}.events WHERE id IN (
       SELECT id FROM ${ctx.s}.events
       WHERE xid < $1::xid8 AND pg_visible_in_snapshot(xid, $2::pg_snapshot) LIMIT $3)
     RETURNING id`,
    [tick.xmax, tick.snapshot, Math.max(1, Math.floor(params.limit))],
  );
  return rows.length;
}

export async function eventSubscriptionGet(
  ctx: PgContext,
  params: EventSubscriptionParams,
): Promise<string | null> {
  ctx.assertOpen();
  const [row] = await ctx.query<{ cursor: string }>(
    'eventSubscriptionGet',
    `SELECT cursor FROM ${ctx.s}.event_subscriptions WHERE name = $1`,
    [params.name],
  );
  return row?.cursor ?? null;
}

export async function eventSubscriptionDelete(
  ctx: PgContext,
  params: EventSubscriptionParams,
): Promise<boolean> {
  ctx.assertOpen();
  const rows = await ctx.query(
    'eventSubscriptionDelete',
    `DELETE FROM ${ctx.s}.event_subscriptions WHERE name = $1 RETURNING name`,
    [params.name],
  );
  return rows.length === 1;
}

/** Marks a transaction rolled back because the stored cursor moved (not an error). */
class CursorMoved {}

export async function eventSubscriptionAdvance(
  ctx: PgContext,
  params: EventSubscriptionAdvanceParams,
): Promise<boolean> {
  ctx.assertOpen();
  let workError: { error: unknown } | undefined;
  try {
    await ctx.transaction('eventSubscriptionAdvance', async (client) => {
      const on = ctx.within(client);
      // A lock per name (a row lock cannot guard a name that has no row yet).
      await on.query('eventSubscriptionAdvance', 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `jobwire:subscription:${ctx.schema}:${params.name}`,
      ]);
      const [row] = await on.query<{ cursor: string }>(
        'eventSubscriptionAdvance',
        `SELECT cursor FROM ${ctx.s}.event_subscriptions WHERE name = $1`,
        [params.name],
      );
      if ((row?.cursor ?? null) !== params.from) throw new CursorMoved();
      if (params.work) {
        try {
          await params.work(client);
        } catch (error) {
          workError = { error };
          throw error;
        }
      }
      await on.query(
        'eventSubscriptionAdvance',
        `INSERT INTO ${ctx.s}.event_subscriptions (name, cursor) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`,
        [params.name, params.to],
      );
    });
    return true;
  } catch (err) {
    if (workError) throw workError.error;
    if (err instanceof CursorMoved || (err as { cause?: unknown })?.cause instanceof CursorMoved)
      return false;
    throw err;
  }
}
