/** Conformance: keeping leases alive, rescuing expired ones, and giving jobs back. */
import assert from 'node:assert/strict';
import type { EpochMs } from '../../core/types.js';
import type { Driver, Lease, RescuedJob } from '../driver.js';
import { LEASE_EXPIRED_ERROR_NAME, leaseExpiredMessage } from '../lease-expired.js';
import {
  claim,
  claimOne,
  complete,
  type DefineTest,
  getJob,
  insertJob,
  insertJobs,
  LEASE_MS,
  T0,
} from './harness.js';

export function heartbeatRescueReleaseTests(test: DefineTest): void {
  test('heartbeat extends the lease and stores progress', async (driver) => {
    const job = await insertJob(driver);
    const lease = await claimOne(driver, { leaseMs: 1000 });
    const lost = await driver.jobHeartbeatMany({
      leases: [{ ...lease, progressJson: '{"done":40}' }],
      leaseMs: 1000,
      now: T0 + 500,
    });
    assert.deepEqual(lost, []);
    let stored = await getJob(driver, job.id);
    assert.deepEqual(stored.leaseExpiresAt, new Date(T0 + 1500));
    assert.deepEqual(stored.progress, { done: 40 });

    // Without progress the last one is kept.
    assert.deepEqual(await driver.jobHeartbeatMany({ leases: [lease], leaseMs: 2000, now: T0 + 900 }), []);
    stored = await getJob(driver, job.id);
    assert.deepEqual(stored.leaseExpiresAt, new Date(T0 + 2900));
    assert.deepEqual(stored.progress, { done: 40 });
    // The extended lease is not rescued at its original expiry.
    assert.deepEqual(await driver.jobRescueExpired({ limit: 10, now: T0 + 1600 }), []);
  });

  test('heartbeat returns the ids whose lease was lost, in input order', async (driver) => {
    await insertJobs(driver, [{}, {}, {}, {}, {}]);
    const [healthy, cancelled, deleted, completed, other] = await claim(driver, { limit: 5 });
    await driver.jobCancel({ ids: [cancelled!.id], now: T0 + 1 });
    await driver.jobDelete({ ids: [deleted!.id] });
    await complete(driver, completed!, T0 + 1);
    const wrongToken = { id: other!.id, leaseToken: other!.leaseToken + 1 };
    const cancelledBefore = await getJob(driver, cancelled!.id);

    const lost = await driver.jobHeartbeatMany({
      leases: [other!, completed!, healthy!, deleted!, cancelled!, wrongToken].map(({ id, leaseToken }) => ({
        id,
        leaseToken,
        progressJson: '"late"',
      })),
      leaseMs: 1000,
      now: T0 + 2,
    });
    assert.deepEqual(lost, [completed!.id, deleted!.id, cancelled!.id, wrongToken.id]);
    assert.deepEqual((await getJob(driver, healthy!.id)).leaseExpiresAt, new Date(T0 + 1002));
    assert.deepEqual(await getJob(driver, cancelled!.id), cancelledBefore);
  });

  test('heartbeat progress is written only under the current lease', async (driver) => {
    const job = await insertJob(driver);
    const old = await claimOne(driver);
    const beat = (lease: Lease, progressJson: string, now: EpochMs) =>
      driver.jobHeartbeatMany({ leases: [{ ...lease, progressJson }], leaseMs: LEASE_MS, now });
    assert.deepEqual(await beat(old, '{"step":1}', T0 + 1), []);
    assert.deepEqual((await getJob(driver, job.id)).progress, { step: 1 });

    await driver.jobRelease({ leases: [old], now: T0 + 2 });
    const current = await claimOne(driver, { now: T0 + 3 });
    assert.deepEqual(await beat(old, '{"step":"stale"}', T0 + 4), [job.id], 'a stale token is lost');
    assert.deepEqual((await getJob(driver, job.id)).progress, { step: 1 }, 'and writes no progress');
    assert.deepEqual(await beat(current, '{"step":2}', T0 + 5), []);
    assert.deepEqual((await getJob(driver, job.id)).progress, { step: 2 });
    await complete(driver, current, T0 + 6);
    assert.deepEqual(await beat(current, '{"step":3}', T0 + 7), [job.id]);
    assert.deepEqual(
      (await getJob(driver, job.id)).progress,
      { step: 2 },
      'a finished job keeps its last progress',
    );
  });

  test('a job that keeps heart-beating is never rescued; once silent past its lease it is', async (driver) => {
    const job = await insertJob(driver);
    const lease = await claimOne(driver, { leaseMs: 1000 });
    // The rescuer sweeps just before each heartbeat, 999 ms after the previous one: within the lease.
    let last = T0;
    for (let beat = 1; beat <= 10; beat++) {
      const at = last + 999;
      assert.deepEqual(
        await driver.jobRescueExpired({ limit: 10, now: at }),
        [],
        `sweep before beat ${beat}`,
      );
      assert.deepEqual(await driver.jobHeartbeatMany({ leases: [lease], leaseMs: 1000, now: at }), []);
      last = at;
    }
    // The heartbeats stop. The lease is held up to and including its last instant…
    assert.deepEqual(await driver.jobRescueExpired({ limit: 10, now: last + 1000 }), []);
    // …and rescued past it: at the next sweep, or, on a driver that measures silence by watching
    // the lease on the rescuer's own clock, at the first sweep a lease after it saw the last beat.
    const rescued = await rescueWithinALease(driver, last + 1001, 1000);
    assert.deepEqual(
      rescued.map((r) => r.id),
      [job.id],
    );
    assert.equal((await getJob(driver, job.id)).state, 'pending');
  });

  test('rescue takes only jobs whose lease has expired', async (driver) => {
    const [short, long] = await insertJobs(driver, [{ task: 'short' }, { task: 'long' }]);
    await claimOne(driver, { leaseMs: 1000 });
    await claimOne(driver, { leaseMs: 5000 });
    // A lease is held up to and including its expiry instant.
    assert.deepEqual(await driver.jobRescueExpired({ limit: 10, now: T0 + 1000 }), []);
    const rescued = await driver.jobRescueExpired({ limit: 10, now: T0 + 1001 });
    assert.deepEqual(
      rescued.map((job) => job.id),
      [short!.id],
    );
    assert.equal((await getJob(driver, long!.id)).state, 'running');
  });

  test('a rescued job is pending again with a LeaseExpiredError, its attempt given back', async (driver) => {
    const job = await insertJob(driver, { maxAttempts: 2, task: 'report', queue: 'q', correlationId: 'c-7' });
    await claimOne(driver, { queues: ['q'], leaseMs: 1000, poolId: 'worker-7' });
    const now = T0 + 1500;
    const rescued = await driver.jobRescueExpired({ limit: 10, now });
    const stored = await getJob(driver, job.id);
    const expected: RescuedJob = {
      id: job.id,
      task: 'report',
      queue: 'q',
      attempt: 1,
      maxAttempts: 2,
      interruptions: 1,
      correlationId: 'c-7',
      previousPoolId: 'worker-7',
      leaseExpiredAt: T0 + 1000,
      error: stored.errors[0]!,
      newState: 'pending',
    };
    assert.deepEqual(rescued, [expected], 'the rescue reports the error exactly as it stored it');

    assert.equal(stored.state, 'pending');
    assert.equal(stored.attempt, 0, 'an interruption does not use up an attempt');
    assert.equal(stored.interruptions, 1);
    assert.deepEqual(stored.runAt, new Date(T0), 'the job keeps its due time');
    assert.equal(stored.leaseExpiresAt, null);
    assert.equal(stored.poolId, null);
    assert.equal(stored.finishedAt, null);
    assert.equal(stored.errors.length, 1);
    const [error] = stored.errors;
    assert.equal(error!.name, 'LeaseExpiredError');
    assert.equal(error!.attempt, 1);
    assert.equal(error!.at, now);
    assert.equal(error!.interrupted, true);
    assert.match(error!.message, new RegExp(`lease expired at ${new Date(T0 + 1000).toISOString()}`));
    assert.equal(
      error!.message,
      `lease expired at ${new Date(T0 + 1000).toISOString()} while running on pool worker-7; ` +
        'its process died, froze or lost its connection before renewing the lease',
      'both drivers store the same words',
    );
    assert.equal(
      error!.message,
      leaseExpiredMessage(T0 + 1000, 'worker-7'),
      'the words of leaseExpiredMessage',
    );
    assert.equal(error!.name, LEASE_EXPIRED_ERROR_NAME);

    const again = await claimOne(driver, { queues: ['q'], now: now + 1 });
    assert.equal(again.attempt, 1);
    assert.equal(again.interruptions, 1);
  });

  test('a rescued job that used up its interruption budget is abandoned', async (driver) => {
    const job = await insertJob(driver, { maxAttempts: 3 });
    await claimOne(driver, { leaseMs: 1000 });
    const [rescued] = await driver.jobRescueExpired({ limit: 10, maxInterruptions: 1, now: T0 + 2000 });
    assert.equal(rescued!.newState, 'abandoned');
    assert.equal(rescued!.interruptions, 1);
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'abandoned');
    assert.equal(stored.attempt, 1, 'an abandoned job keeps the number of its last attempt');
    assert.equal(stored.interruptions, 1);
    assert.deepEqual(stored.finishedAt, new Date(T0 + 2000));
    assert.equal(stored.leaseExpiresAt, null);
    assert.deepEqual(
      stored.errors.map((e) => e.name),
      ['LeaseExpiredError'],
    );
    assert.deepEqual(await claim(driver, { now: T0 + 3000 }), []);
  });

  test('rescue handles at most limit jobs per call', async (driver) => {
    await insertJobs(driver, [{}, {}, {}]);
    await claim(driver, { leaseMs: 1000 });
    assert.equal((await driver.jobRescueExpired({ limit: 2, now: T0 + 5000 })).length, 2);
    assert.equal((await driver.jobRescueExpired({ limit: 2, now: T0 + 5000 })).length, 1);
    assert.equal((await driver.jobRescueExpired({ limit: 2, now: T0 + 5000 })).length, 0);
  });

  test('release gives a job back without counting the attempt', async (driver) => {
    const job = await insertJob(driver);
    const lease = await claimOne(driver);
    assert.deepEqual(await driver.jobRelease({ leases: [lease], now: T0 + 40 }), [job.id]);
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'pending');
    assert.equal(stored.attempt, 0);
    assert.equal(stored.interruptions, 0, 'a plain release is not an interruption');
    assert.deepEqual(stored.errors, []);
    assert.deepEqual(stored.runAt, new Date(T0), 'the job keeps its due time');
    assert.equal(stored.startedAt, null);
    assert.equal(stored.leaseExpiresAt, null);
    assert.equal(stored.poolId, null);
    assert.equal((await claimOne(driver, { now: T0 + 41 })).attempt, 1);
  });

  test('release is fenced by the lease token', async (driver) => {
    const job = await insertJob(driver);
    const old = await claimOne(driver);
    await driver.jobRelease({ leases: [old], now: T0 + 1 });
    await claimOne(driver, { now: T0 + 2, poolId: 'worker-b' });
    const before = await getJob(driver, job.id);
    assert.deepEqual(await driver.jobRelease({ leases: [old], now: T0 + 3 }), []);
    assert.deepEqual(await getJob(driver, job.id), before);
  });
}

/**
 * Sweep at `at`; if nothing was rescued, sweep once more a lease later. A driver that compares
 * stored expiries with its clock rescues at the first sweep; one that measures silence on the
 * rescuer's own clock (SQLite) may need to have seen the lease's last state a lease earlier.
 */
async function rescueWithinALease(driver: Driver, at: EpochMs, leaseMs: number): Promise<RescuedJob[]> {
  const first = await driver.jobRescueExpired({ limit: 10, now: at });
  if (first.length > 0) return first;
  return driver.jobRescueExpired({ limit: 10, now: at + leaseMs });
}
