/** Conformance: schema migration and the driver's life cycle. */
import assert from 'node:assert/strict';
import { ClosedError } from '../../core/errors.js';
import { type DefineTest, insertJob, T0 } from './harness.js';

export function migrateTests(test: DefineTest): void {
  test('migrating again is a no-op and keeps the data', async (driver) => {
    const job = await insertJob(driver);
    const first = await driver.migrate();
    assert.deepEqual(first.applied, []);
    assert.equal(first.from, first.to);
    assert.ok(first.to >= 1);
    assert.deepEqual(await driver.migrate(), first);
    assert.equal((await driver.jobGet({ id: job.id }))?.id, job.id);
  });

  test('schemaVersion reads the migrated version as current, without migrating', async (driver) => {
    const migrated = await driver.migrate();
    assert.deepEqual(await driver.schemaVersion(), { current: migrated.to, latest: migrated.to });
  });

  test('declares its capabilities', async (driver) => {
    const { capabilities } = driver;
    for (const flag of ['crossProcessNotify', 'callerTransactions', 'blocksEventLoop'] as const) {
      assert.equal(typeof capabilities[flag], 'boolean', flag);
    }
    assert.equal(typeof driver.name, 'string');
  });

  test('after close every method rejects with ClosedError, and close can be called again', async (driver) => {
    await driver.close();
    await driver.close();
    const calls: [string, () => Promise<unknown>][] = [
      ['jobCancel', () => driver.jobCancel({ ids: ['1'], now: T0 })],
      [
        'jobClaim',
        () => driver.jobClaim({ queues: ['default'], limit: 1, leaseMs: 1, poolId: 'w', now: T0 }),
      ],
      ['jobCountByState', () => driver.jobCountByState({})],
      ['jobDelete', () => driver.jobDelete({ ids: ['1'] })],
      ['jobFinalizeMany', () => driver.jobFinalizeMany({ items: [], now: T0 })],
      ['jobGet', () => driver.jobGet({ id: '1' })],
      ['jobHeartbeatMany', () => driver.jobHeartbeatMany({ leases: [], leaseMs: 1, now: T0 })],
      ['jobInsertMany', () => driver.jobInsertMany({ jobs: [], now: T0 })],
      ['jobList', () => driver.jobList({ limit: 1 })],
      ['jobRelease', () => driver.jobRelease({ leases: [], now: T0 })],
      ['jobRescueExpired', () => driver.jobRescueExpired({ limit: 1, now: T0 })],
      ['jobRetry', () => driver.jobRetry({ ids: ['1'], now: T0 })],
      ['leaderAttemptElect', () => driver.leaderAttemptElect({ name: 'x', ownerId: 'a', ttlMs: 1, now: T0 })],
      ['leaderResign', () => driver.leaderResign({ name: 'x', ownerId: 'a' })],
      ['migrate', () => driver.migrate()],
      ['queueCounts', () => driver.queueCounts({ exactUpTo: 10 })],
      ['schemaVersion', () => driver.schemaVersion()],
      ['queueList', () => driver.queueList()],
      ['queuePause', () => driver.queuePause({ name: 'q', now: T0 })],
      ['queueResume', () => driver.queueResume({ name: 'q', now: T0 })],
      ['jobDeleteFinished', () => driver.jobDeleteFinished({ states: ['completed'], limit: 1 })],
      ['jobFinishedCutoff', () => driver.jobFinishedCutoff({ states: ['completed'], keep: 1 })],
    ];
    for (const [name, call] of calls) {
      await assert.rejects(call(), ClosedError, `${name} after close`);
    }
  });
}
