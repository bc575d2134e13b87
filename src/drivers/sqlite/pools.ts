/**
 * The pool registry on SQLite (`jobwire_pools`). `last_seen_at` is the writer's wall clock (or
 * the `now` param): processes sharing a file run on one host, so their wall clocks agree; a row
 * reaped by mistake (a clock step) only costs a `pool:lost` and comes back at the next heartbeat.
 */

import type { EpochMs } from '../../core/types.js';
import type { PoolRecord, PoolRegistration, PoolRunState } from '../../driver/driver.js';
import type { SqliteContext } from './context.js';

interface PoolRow {
  pool_id: string;
  host: string;
  pid: number;
  queues: string;
  concurrency: number;
  busy: number;
  state: PoolRunState;
  heartbeat_ms: number;
  version: string | null;
  started_at: number;
  last_seen_at: number;
}

const COLUMNS =
  'pool_id, host, pid, queues, concurrency, busy, state, heartbeat_ms, version, started_at, last_seen_at';

const toRecord = (row: PoolRow): PoolRecord => ({
  poolId: row.pool_id,
  host: row.host,
  pid: row.pid,
  queues: JSON.parse(row.queues) as string[],
  concurrency: row.concurrency,
  busy: row.busy,
  state: row.state,
  heartbeatMs: row.heartbeat_ms,
  version: row.version,
  startedAt: row.started_at,
  lastSeenAt: row.last_seen_at,
});

/** Oldest start first, then by id in code-unit order: the same on every driver. */
const byStartThenId = (a: PoolRecord, b: PoolRecord): number =>
  a.startedAt - b.startedAt || (a.poolId < b.poolId ? -1 : a.poolId > b.poolId ? 1 : 0);

/** Build the pool-registry methods (synchronous; the driver wraps them). Input is checked by the caller. */
export function createPoolMethods(ctx: SqliteContext) {
  const { db } = ctx;
  const upsert = db.prepare(
    `INSERT INTO jobwire_pools (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (pool_id) DO UPDATE SET
       host = excluded.host, pid = excluded.pid, queues = excluded.queues,
       concurrency = excluded.concurrency, busy = excluded.busy, state = excluded.state,
       heartbeat_ms = excluded.heartbeat_ms, version = excluded.version,
       started_at = excluded.started_at, last_seen_at = excluded.last_seen_at`,
  );
  const remove = db.prepare('DELETE FROM jobwire_pools WHERE pool_id = ?');
  const listAll = db.prepare(`SELECT ${COLUMNS} FROM jobwire_pools`);
  // One statement: a second reaper running at once finds the rows gone and returns nothing.
  const reap = db.prepare(
    `DELETE FROM jobwire_pools WHERE ? - last_seen_at > ? * heartbeat_ms RETURNING ${COLUMNS}`,
  );

  function poolUpsert(pool: PoolRegistration, now?: EpochMs): void {
    upsert.run(
      pool.poolId,
      pool.host,
      pool.pid,
      JSON.stringify(pool.queues),
      pool.concurrency,
      pool.busy,
      pool.state,
      pool.heartbeatMs,
      pool.version,
      pool.startedAt,
      ctx.now(now),
    );
  }

  function poolRemove(poolId: string): boolean {
    return remove.run(poolId).changes === 1;
  }

  function poolList(): PoolRecord[] {
    return (listAll.all() as PoolRow[]).map(toRecord).sort(byStartThenId);
  }

  function poolReapStale(missedHeartbeats: number, now?: EpochMs): PoolRecord[] {
    return (reap.all(ctx.now(now), missedHeartbeats) as PoolRow[]).map(toRecord).sort(byStartThenId);
  }

  return { poolUpsert, poolRemove, poolList, poolReapStale };
}
