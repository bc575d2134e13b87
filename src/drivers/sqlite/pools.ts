/**
 * The pool registry on SQLite (`jobwire_pools`). Liveness by observation, as for leases and
 * leadership (see liveness.ts): every refresh bumps `heartbeat_seq`, and a reaper takes a row only
 * after watching its sequence number stay unchanged for longer than N of its heartbeat periods
 * on its own liveness clock — processes sharing a file may disagree about the time, so no
 * process's wall clock decides that a pool is lost. `last_seen_at` (the writer's clock) is for
 * display only. A row first seen by a reaper starts its silence then.
 */
import type { EpochMs } from '../../core/types.js';
import type { PoolRecord, PoolRegistration, PoolRunState } from '../../driver/driver.js';
import { livenessNow, type SqliteContext } from './context.js';
import type { LivenessReading } from './liveness.js';

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
  heartbeat_seq: number;
}

/** What this driver instance last saw of a pool's row, and since when (liveness clock). */
interface PoolSighting {
  seq: number;
  since: number;
  injected: boolean;
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
  const sightings = new Map<string, PoolSighting>();
  const upsert = db.prepare(
    `INSERT INTO jobwire_pools (${COLUMNS}, heartbeat_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
     ON CONFLICT (pool_id) DO UPDATE SET
       host = excluded.host, pid = excluded.pid, queues = excluded.queues,
       concurrency = excluded.concurrency, busy = excluded.busy, state = excluded.state,
       heartbeat_ms = excluded.heartbeat_ms, version = excluded.version,
       started_at = excluded.started_at, last_seen_at = excluded.last_seen_at,
       heartbeat_seq = heartbeat_seq + 1
     RETURNING heartbeat_seq`,
  );
  const remove = db.prepare('DELETE FROM jobwire_pools WHERE pool_id = ?');
  const listAll = db.prepare(`SELECT ${COLUMNS} FROM jobwire_pools`);
  const allForReap = db.prepare(`SELECT ${COLUMNS}, heartbeat_seq FROM jobwire_pools`);
  // Compare-and-set on what was watched: a row refreshed meanwhile is not taken.
  const reapOne = db.prepare('DELETE FROM jobwire_pools WHERE pool_id = ? AND heartbeat_seq = ?');

  /** How long the row has stayed at `seq` as this instance saw it; 0 when it changed since the last look. */
  function silentFor(poolId: string, seq: number, now: LivenessReading): number {
    const seen = sightings.get(poolId);
    if (seen === undefined || seen.seq !== seq || seen.injected !== now.injected) {
      sightings.set(poolId, { seq, since: now.at, injected: now.injected });
      return 0;
    }
    return now.at - seen.since;
  }

  function poolUpsert(pool: PoolRegistration, now?: EpochMs): void {
    const { heartbeat_seq: seq } = upsert.get(
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
    ) as { heartbeat_seq: number };
    // Our own write: alive as of now for any reaper in this process.
    const seen = livenessNow(now);
    sightings.set(pool.poolId, { seq, since: seen.at, injected: seen.injected });
  }

  function poolRemove(poolId: string): boolean {
    sightings.delete(poolId);
    return remove.run(poolId).changes === 1;
  }

  function poolList(): PoolRecord[] {
    return (listAll.all() as PoolRow[]).map(toRecord).sort(byStartThenId);
  }

  // IMMEDIATE: the read and the deletes happen under the write lock, and the liveness clock is
  // read once the lock is held (a refresh that committed while we waited is never silence).
  const reapTx = db.transaction((missedHeartbeats: number, given: EpochMs | undefined): PoolRecord[] => {
    const now = livenessNow(given);
    const rows = allForReap.all() as PoolRow[];
    const reaped: PoolRecord[] = [];
    for (const row of rows) {
      if (silentFor(row.pool_id, row.heartbeat_seq, now) <= missedHeartbeats * row.heartbeat_ms) continue;
      if (reapOne.run(row.pool_id, row.heartbeat_seq).changes === 1) reaped.push(toRecord(row));
    }
    // Forget rows that are gone, so the memory stays bounded.
    const present = new Set(rows.map((row) => row.pool_id));
    for (const record of reaped) present.delete(record.poolId);
    for (const poolId of sightings.keys()) if (!present.has(poolId)) sightings.delete(poolId);
    return reaped.sort(byStartThenId);
  });

  function poolReapStale(missedHeartbeats: number, now?: EpochMs): PoolRecord[] {
    return reapTx.immediate(missedHeartbeats, now);
  }

  return { poolUpsert, poolRemove, poolList, poolReapStale };
}
