/**
 * Conformance: the pool registry. A heartbeat inserts or refreshes a pool's row, rows read back
 * exactly, a stopped pool's row goes, rows silent for more than N of their own heartbeat periods
 * are reaped once (returned to exactly one caller), and bad registrations are refused with the
 * same `InvalidOptionError` on every driver, storing nothing.
 */
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../../core/errors.js';
import { MAX_POOL_QUEUES, type PoolRegistration } from '../driver.js';
import { type DefineTest, T0 } from './harness.js';

/** A registration for `poolId` with any field overridden. */
function registration(poolId: string, overrides: Partial<PoolRegistration> = {}): PoolRegistration {
  return {
    poolId,
    host: 'host-a',
    pid: 4242,
    queues: ['default'],
    concurrency: 4,
    busy: 0,
    state: 'running',
    heartbeatMs: 1000,
    version: '1.2.3',
    startedAt: T0,
    ...overrides,
  };
}

/** Registrations every driver must refuse, with the field the error must name. */
const REFUSED: [label: string, pool: unknown, field: string][] = [
  ['no registration', null, 'pool'],
  ['an empty id', registration(''), 'pool.poolId'],
  ['NUL in the id', registration('pool\u0000a'), 'pool.poolId'],
  ['an unpaired surrogate in the id', registration('pool\ud800'), 'pool.poolId'],
  ['an id of 201 characters', registration('p'.repeat(201)), 'pool.poolId'],
  ['a non-string id', { ...registration('p'), poolId: 7 }, 'pool.poolId'],
  ['NUL in the host', registration('p', { host: 'h\u0000' }), 'pool.host'],
  ['a negative pid', registration('p', { pid: -1 }), 'pool.pid'],
  ['a fractional pid', registration('p', { pid: 1.5 }), 'pool.pid'],
  ['no queues', registration('p', { queues: [] }), 'pool.queues'],
  ['a queue with a space', registration('p', { queues: ['ok', 'not ok'] }), 'pool.queues[1]'],
  [
    'too many queues',
    registration('p', { queues: Array.from({ length: MAX_POOL_QUEUES + 1 }, (_, i) => `q${i}`) }),
    'pool.queues',
  ],
  ['zero concurrency', registration('p', { concurrency: 0 }), 'pool.concurrency'],
  ['more busy than slots', registration('p', { busy: 5 }), 'pool.busy'],
  ['an unknown state', registration('p', { state: 'sleeping' as never }), 'pool.state'],
  ['a zero heartbeat', registration('p', { heartbeatMs: 0 }), 'pool.heartbeatMs'],
  ['a heartbeat past 32 bits', registration('p', { heartbeatMs: 2 ** 31 }), 'pool.heartbeatMs'],
  ['a surrogate in the version', registration('p', { version: '1\udfff' }), 'pool.version'],
  ['a start time no date can show', registration('p', { startedAt: Number.NaN }), 'pool.startedAt'],
];

export function poolTests(test: DefineTest): void {
  test('a registered pool reads back exactly; a heartbeat refreshes every field', async (driver) => {
    assert.deepEqual(await driver.poolList(), []);
    const a = registration('pool-a', { queues: ['mail', 'reports'], busy: 2 });
    const b = registration('pool-b', { host: 'host-b', startedAt: T0 - 5000, version: null });
    await driver.poolUpsert({ pool: a, now: T0 });
    await driver.poolUpsert({ pool: b, now: T0 });
    assert.deepEqual(await driver.poolList(), [
      { ...b, lastSeenAt: T0 },
      { ...a, lastSeenAt: T0 },
    ]);
    const beat = { ...a, busy: 4, state: 'stopping' as const };
    await driver.poolUpsert({ pool: beat, now: T0 + 1000 });
    assert.deepEqual(await driver.poolList(), [
      { ...b, lastSeenAt: T0 },
      { ...beat, lastSeenAt: T0 + 1000 },
    ]);
  });

  test('a removed pool is gone; removing it again reports nothing', async (driver) => {
    await driver.poolUpsert({ pool: registration('pool-a'), now: T0 });
    await driver.poolUpsert({ pool: registration('pool-b'), now: T0 });
    assert.equal(await driver.poolRemove({ poolId: 'pool-a' }), true);
    assert.equal(await driver.poolRemove({ poolId: 'pool-a' }), false);
    assert.deepEqual(
      (await driver.poolList()).map((p) => p.poolId),
      ['pool-b'],
    );
  });

  test('rows silent for more than N of their own heartbeats are reaped, once', async (driver) => {
    await driver.poolUpsert({ pool: registration('fast', { heartbeatMs: 1000 }), now: T0 });
    await driver.poolUpsert({ pool: registration('slow', { heartbeatMs: 10_000 }), now: T0 });
    await driver.poolUpsert({ pool: registration('fresh', { heartbeatMs: 1000 }), now: T0 + 2500 });
    // Exactly 3 periods of silence is not yet stale.
    assert.deepEqual(await driver.poolReapStale({ missedHeartbeats: 3, now: T0 + 3000 }), []);
    const reaped = await driver.poolReapStale({ missedHeartbeats: 3, now: T0 + 3001 });
    assert.deepEqual(reaped, [{ ...registration('fast'), lastSeenAt: T0 }]);
    assert.deepEqual(await driver.poolReapStale({ missedHeartbeats: 3, now: T0 + 3002 }), [], 'reaped once');
    assert.deepEqual(
      (await driver.poolList()).map((p) => p.poolId),
      ['fresh', 'slow'],
    );
    // The slow pool is judged by its own period: stale only after 30 s.
    assert.deepEqual(
      (await driver.poolReapStale({ missedHeartbeats: 3, now: T0 + 30_000 })).map((p) => p.poolId),
      ['fresh'],
    );
    assert.deepEqual(
      (await driver.poolReapStale({ missedHeartbeats: 3, now: T0 + 30_001 })).map((p) => p.poolId),
      ['slow'],
    );
    // A pool that was only cut off comes back with its next heartbeat.
    await driver.poolUpsert({ pool: registration('fast', { heartbeatMs: 1000 }), now: T0 + 30_002 });
    assert.deepEqual(
      (await driver.poolList()).map((p) => [p.poolId, p.lastSeenAt]),
      [['fast', T0 + 30_002]],
    );
  });

  test('bad registrations are refused naming the field, and nothing is stored', async (driver) => {
    for (const [label, pool, field] of REFUSED) {
      await assert.rejects(
        driver.poolUpsert({ pool: pool as PoolRegistration, now: T0 }),
        (err: unknown) => {
          assert.ok(
            err instanceof InvalidOptionError,
            `${label}: expected InvalidOptionError, got ${String(err)}`,
          );
          assert.equal(err.field, field, label);
          assert.ok(err.message.length < 1000, `${label}: a ${err.message.length}-character message`);
          return true;
        },
        label,
      );
    }
    assert.deepEqual(await driver.poolList(), []);
    for (const poolId of ['', 'p\u0000', 'p\ud800', 42]) {
      await assert.rejects(driver.poolRemove({ poolId: poolId as string }), InvalidOptionError);
    }
    for (const missedHeartbeats of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(driver.poolReapStale({ missedHeartbeats, now: T0 }), InvalidOptionError);
    }
  });
}
