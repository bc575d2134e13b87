/** Conformance: leader election (one owner per name, handed over on expiry or resignation). */
import assert from 'node:assert/strict';
import { type DefineTest, T0 } from './harness.js';

export function leaderTests(test: DefineTest): void {
  test('only one owner is leader at a time', async (driver) => {
    const elect = (ownerId: string, now: number) =>
      driver.leaderAttemptElect({ name: 'maintenance', ownerId, ttlMs: 1000, now });
    assert.equal(await elect('a', T0), true);
    assert.equal(await elect('b', T0 + 1), false);
    assert.equal(await elect('a', T0 + 2), true, 'the leader stays leader');
    assert.equal(await elect('b', T0 + 3), false);
  });

  test('re-electing extends the leadership', async (driver) => {
    const elect = (ownerId: string, now: number) =>
      driver.leaderAttemptElect({ name: 'maintenance', ownerId, ttlMs: 1000, now });
    assert.equal(await elect('a', T0), true);
    assert.equal(await elect('a', T0 + 900), true);
    assert.equal(await elect('b', T0 + 1500), false, 'the extended term has not ended');
    assert.equal(await elect('b', T0 + 1901), true);
  });

  test('leadership passes to another owner once it expires', async (driver) => {
    const elect = (ownerId: string, now: number) =>
      driver.leaderAttemptElect({ name: 'maintenance', ownerId, ttlMs: 1000, now });
    assert.equal(await elect('a', T0), true);
    assert.equal(await elect('b', T0 + 1001), true);
    assert.equal(await elect('a', T0 + 1002), false, 'the old leader lost it');
  });

  test('resigning lets another owner take over at once; only the leader can resign', async (driver) => {
    const elect = (ownerId: string, now: number) =>
      driver.leaderAttemptElect({ name: 'maintenance', ownerId, ttlMs: 60_000, now });
    assert.equal(await elect('a', T0), true);
    await driver.leaderResign({ name: 'maintenance', ownerId: 'b' });
    assert.equal(await elect('b', T0 + 1), false, 'b cannot resign for a');
    await driver.leaderResign({ name: 'maintenance', ownerId: 'a' });
    assert.equal(await elect('b', T0 + 2), true);
    await driver.leaderResign({ name: 'never-held', ownerId: 'a' });
  });

  test('leadership of different names is independent', async (driver) => {
    assert.equal(await driver.leaderAttemptElect({ name: 'x', ownerId: 'a', ttlMs: 1000, now: T0 }), true);
    assert.equal(await driver.leaderAttemptElect({ name: 'y', ownerId: 'b', ttlMs: 1000, now: T0 }), true);
    assert.equal(await driver.leaderAttemptElect({ name: 'y', ownerId: 'a', ttlMs: 1000, now: T0 }), false);
  });
}
