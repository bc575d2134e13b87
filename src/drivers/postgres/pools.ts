/** The pool registry on PostgreSQL (`<schema>.pools`); `last_seen_at` is the database's time. */
import type { EpochMs } from '../../core/types.js';
import type { PoolRecord, PoolRegistration, PoolRunState } from '../../driver/driver.js';
import type { PgContext } from './context.js';
import { epochMs, nowSql } from './row.js';

interface PoolRow {
  pool_id: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  busy: number;
  state: PoolRunState;
  heartbeat_ms: number;
  version: string | null;
  started_at: number;
  last_seen_at: number;
}

const COLUMNS = `pool_id, host, pid, queues, concurrency, busy, state, heartbeat_ms, version,
  ${epochMs('started_at')} AS started_at, ${epochMs('last_seen_at')} AS last_seen_at`;

const toRecord = (row: PoolRow): PoolRecord => ({
  poolId: row.pool_id,
  host: row.host,
  pid: row.pid,
  queues: row.queues,
  concurrency: row.concurrency,
  busy: row.busy,
  state: row.state,
  heartbeatMs: row.heartbeat_ms,
  version: row.version,
  startedAt: row.started_at,
  lastSeenAt: row.last_seen_at,
});

/** Oldest start first, then by id in code-unit order (whatever the database's collation). */
const byStartThenId = (a: PoolRecord, b: PoolRecord): number =>
  a.startedAt - b.startedAt || (a.poolId < b.poolId ? -1 : a.poolId > b.poolId ? 1 : 0);

const upsertSql = (s: string): string => `
INSERT INTO ${s}.pools (pool_id, host, pid, queues, concurrency, busy, state, heartbeat_ms, version, started_at, last_seen_at)
VALUES ($1, $2, $3, $4::text[], $5, $6, $7, $8, $9, to_timestamp($10::float8 / 1000), ${nowSql('$11')})
ON CONFLICT (pool_id) DO UPDATE SET
  host = EXCLUDED.host, pid = EXCLUDED.pid, queues = EXCLUDED.queues, concurrency = EXCLUDED.concurrency,
  busy = EXCLUDED.busy, state = EXCLUDED.state, heartbeat_ms = EXCLUDED.heartbeat_ms,
  version = EXCLUDED.version, started_at = EXCLUDED.started_at, last_seen_at = EXCLUDED.last_seen_at`;

/** Input is checked by the caller (`checkPoolUpsert`). */
export async function poolUpsert(ctx: PgContext, pool: PoolRegistration, now?: EpochMs): Promise<void> {
  ctx.assertOpen();
  await ctx.query('poolUpsert', upsertSql(ctx.s), [
    pool.poolId,
    pool.host,
    pool.pid,
    pool.queues,
    pool.concurrency,
    pool.busy,
    pool.state,
    pool.heartbeatMs,
    pool.version,
    pool.startedAt,
    now ?? null,
  ]);
}

export async function poolRemove(ctx: PgContext, poolId: string): Promise<boolean> {
  ctx.assertOpen();
  const rows = await ctx.query(
    'poolRemove',
    `DELETE FROM ${ctx.s}.pools WHERE pool_id = $1 RETURNING pool_id`,
    [poolId],
  );
  return rows.length > 0;
}

export async function poolList(ctx: PgContext): Promise<PoolRecord[]> {
  ctx.assertOpen();
  const rows = await ctx.query<PoolRow>('poolList', `SELECT ${COLUMNS} FROM ${ctx.s}.pools`);
  return rows.map(toRecord).sort(byStartThenId);
}

/** One statement: a second reaper running at once finds the rows gone (or locked, then gone). */
const reapSql = (s: string): string => `
DELETE FROM ${s}.pools
WHERE last_seen_at < ${nowSql('$2')} - ($1::float8 * heartbeat_ms) * interval '1 millisecond'
RETURNING ${COLUMNS}`;

export async function poolReapStale(
  ctx: PgContext,
  missedHeartbeats: number,
  now?: EpochMs,
): Promise<PoolRecord[]> {
  ctx.assertOpen();
  const rows = await ctx.query<PoolRow>('poolReapStale', reapSql(ctx.s), [missedHeartbeats, now ?? null]);
  return rows.map(toRecord).sort(byStartThenId);
}
