/**
 * A database outage silences every pool at once: when it ends, the leader must not report the
 * pools that lived through it as lost before they had a chance to write their registry rows
 * again (s44 probe D4: after a 60 s PostgreSQL outage the leader reported two live pools
 * `pool:lost` 6 s after recovery — its 5 s outage grace was shorter than the pools' 10 s
 * registry retry). Storage "fails" here by a driver wrapper that rejects every storage call, so
 * the leader (this client) and its pool both see the outage; a pool that really died during it is
 * still reported, a heartbeat period later.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Driver } from '../src/driver/driver.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, type JobwireEvents, StorageError } from '../src/index.js';

const STORAGE_CALL = /^(job|pool|leader|queue|event|alert|task|schedule|flow|deleted|schemaVersion)/;

/** `driver`, with every storage call rejected as unavailable while `state.down`. */
function failing(driver: Driver, state: { down: boolean }): Driver {
  return new Proxy(driver, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || !STORAGE_CALL.test(prop)) return value;
      return (...args: unknown[]) =>
        state.down
          ? Promise.reject(new StorageError('simulated outage: connection refused', { kind: 'unavailable' }))
          : value.apply(target, args);
    },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('after an outage, pools that lived through it are not reported lost; one that died is, later', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-outage-reaper-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'jobs.db');
  const state = { down: false };
  const client = await createJobwire({
    driver: failing(sqliteDriver({ path }), state),
    // A short outage grace: the leader sweeps 100 ms after storage answers again.
    maintenance: { rescueIntervalMs: 50, leaderTtlMs: 1000, outageGraceMs: 100, poolLostAfterHeartbeats: 2 },
  });
  // A second process whose pool dies during the outage (its driver closes: no more writes).
  const doomedDriver = sqliteDriver({ path });
  const doomed = await createJobwire({ driver: doomedDriver, maintenance: { leaderTtlMs: 60_000 } });
  t.after(async () => {
    await client.close();
    await doomed.close().catch(() => {});
  });
  const lost: JobwireEvents['pool:lost'][] = [];
  client.events.on('pool:lost', (event) => lost.push(event));
  const elected = new Promise((resolve) => client.events.once('leader:elected', resolve));
  // A 2 s registry period: lost after 2 periods (4 s) of silence.
  const pool = client.createPool({ id: 'alive', heartbeatIntervalMs: 2000 });
  await pool.start();
  t.after(() => pool.stop({ graceMs: 0 }));
  await elected;
  await doomed.createPool({ id: 'doomed', heartbeatIntervalMs: 2000 }).start();

  // A 5 s outage: longer than 2 periods, so every row is stale when storage answers again.
  state.down = true;
  await sleep(500);
  await doomedDriver.close();
  await sleep(4500);
  const recoveredAt = Date.now();
  state.down = false;

  // The live pool writes its row again well within a period; the leader waits a period + margin.
  await sleep(3500);
  assert.deepEqual(
    lost.map((event) => `${event.poolId} at +${event.at - recoveredAt} ms`),
    [],
    'no pool reported lost in the first 3.5 s after storage answers again',
  );
  assert.ok(
    (await client.listPools()).some((p) => p.poolId === 'alive'),
    'the live pool is listed again',
  );
  // The dead pool is reported once the grace is over (one 2 s period + a 3 s margin).
  const deadline = Date.now() + 8000;
  while (!lost.some((event) => event.poolId === 'doomed') && Date.now() < deadline) await sleep(100);
  assert.deepEqual(
    lost.map((event) => event.poolId),
    ['doomed'],
    'the pool that died during the outage is reported lost, and only it',
  );
});
