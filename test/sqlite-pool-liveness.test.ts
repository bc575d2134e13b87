/**
 * The pool registry on SQLite when the processes sharing a file disagree about the time: a pool
 * is lost only after a reaper watched its row stay unrefreshed for more than N of its heartbeat
 * periods on the reaper's own clock, never because the writer's clock runs behind (a live pool
 * reported lost at every sweep) or ahead (a dead pool never reported). Two driver instances on
 * one file stand for two processes; their injected `now`s are a minute apart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { T0 } from '../src/driver/conformance/harness.js';
import type { Driver, PoolRegistration } from '../src/driver/driver.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';

const MINUTE = 60_000;

function registration(poolId: string): PoolRegistration {
  return {
    poolId,
    host: 'host-a',
    pid: 1,
    queues: ['default'],
    concurrency: 1,
    busy: 0,
    state: 'running',
    heartbeatMs: 1000,
    version: null,
    startedAt: T0,
  };
}

/** Two driver instances ("processes") on one fresh file. */
async function twoProcesses(t: TestContext): Promise<[Driver, Driver]> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-pool-liveness-'));
  const path = join(dir, 'jobs.db');
  const writer = sqliteDriver({ path });
  await writer.migrate();
  const reaper = sqliteDriver({ path });
  t.after(async () => {
    await writer.close();
    await reaper.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return [writer, reaper];
}

const reap = (driver: Driver, now: number) =>
  driver.poolReapStale({ missedHeartbeats: 3, now }).then((rows) => rows.map((row) => row.poolId));

describe('sqlite pool registry: liveness by observation', () => {
  it('a live pool whose clock runs a minute behind is not lost; once silent it is, after 3 periods', async (t) => {
    const [writer, reaper] = await twoProcesses(t);
    await writer.poolUpsert({ pool: registration('behind'), now: T0 - MINUTE });
    assert.deepEqual(
      await reap(reaper, T0),
      [],
      'first look: its last_seen_at is a minute old, yet it beats',
    );
    await writer.poolUpsert({ pool: registration('behind'), now: T0 - MINUTE + 1000 });
    assert.deepEqual(await reap(reaper, T0 + 2000), [], 'it refreshed since the last look');
    assert.deepEqual(await reap(reaper, T0 + 5000), [], 'silent for exactly 3 periods');
    assert.deepEqual(await reap(reaper, T0 + 5001), ['behind']);
  });

  it('a dead pool whose clock ran a minute ahead is lost 3 periods after the reaper first saw it', async (t) => {
    const [writer, reaper] = await twoProcesses(t);
    await writer.poolUpsert({ pool: registration('ahead'), now: T0 + MINUTE });
    assert.deepEqual(await reap(reaper, T0), []);
    assert.deepEqual(
      await reap(reaper, T0 + 3001),
      ['ahead'],
      'its future last_seen_at does not keep it alive',
    );
    assert.deepEqual(await writer.poolList(), []);
  });
});
