/**
 * Conformance: interruptions — attempts that ended without their handler deciding (the lease
 * expired, or a shutdown cut the attempt off). They give the attempt number back, keep the job's
 * due time (so it runs again ahead of jobs enqueued after it), are recorded in the error history
 * marked `interrupted`, and abandon the job only once `maxInterruptions` is used up.
 */
import assert from 'node:assert/strict';
import type { EpochMs, StoredError } from '../../core/types.js';
import { type Driver, type RescuedJob, SUSPECT_INTERRUPTIONS } from '../driver.js';
import { claim, claimOne, type DefineTest, getJob, insertJob, insertJobs, T0 } from './harness.js';

/**
 * Sweep with a later `now` each time until `id` is rescued (at most a few sweeps): a driver may
 * need to see a lease silent over more than one sweep before it calls it expired, and a sweep
 * after the rescue must find nothing more to do.
 */
async function rescueUntil(
  driver: Driver,
  id: string,
  from: EpochMs,
  options: { maxInterruptions?: number; stepMs?: number } = {},
): Promise<{ rescued: RescuedJob; now: EpochMs }> {
  const stepMs = options.stepMs ?? 1000;
  for (let i = 0, now = from; i < 5; i++, now += stepMs) {
    const params =
      options.maxInterruptions === undefined
        ? { limit: 100, now }
        : { limit: 100, now, maxInterruptions: options.maxInterruptions };
    const rescued = (await driver.jobRescueExpired(params)).find((job) => job.id === id);
    if (rescued) {
      // A further sweep is harmless: the job is no longer running.
      const later = await driver.jobRescueExpired({ ...params, now: now + stepMs });
      assert.equal(
        later.find((job) => job.id === id),
        undefined,
        'a later sweep rescued the job again',
      );
      return { rescued, now };
    }
  }
  throw new Error(`job ${id} was not rescued within 5 sweeps`);
}

const cutOff = (attempt: number, at: EpochMs): StoredError => ({
  name: 'ShutdownInterruptedError',
  message: 'the pool shut down before the attempt finished',
  attempt,
  at,
});

export function interruptionTests(test: DefineTest): void {
  test('a claim that excludes suspects leaves out jobs interrupted twice, keyed or not, in their place', async (driver) => {
    await driver.flowRuleSet({ rules: [{ queue: 'default', key: 'k:*', concurrency: 100, rate: null }] });
    const suspects = await insertJobs(driver, [{}, { concurrencyKey: 'k:1' }, { concurrencyKey: 'k:2' }]);
    for (let i = 0; i < SUSPECT_INTERRUPTIONS; i++) {
      const jobs = await claim(driver, { limit: 10, now: T0 + i });
      assert.equal(jobs.length, suspects.length, `round ${i}: every job claimed`);
      await driver.jobRelease({
        leases: jobs.map((job) => ({
          id: job.id,
          leaseToken: job.leaseToken,
          interruption: cutOff(job.attempt, T0 + i),
        })),
        now: T0 + i,
      });
    }
    const once = await insertJobs(driver, [{}], T0 + 5);
    const [onceClaimed] = await claim(driver, { limit: 1, now: T0 + 6, excludeSuspects: true });
    await driver.jobRelease({
      leases: [{ id: onceClaimed!.id, leaseToken: onceClaimed!.leaseToken, interruption: cutOff(1, T0 + 6) }],
      now: T0 + 6,
    });
    const fresh = await insertJobs(
      driver,
      [{}, { concurrencyKey: 'k:1' }, { concurrencyKey: 'k:3' }],
      T0 + 10,
    );
    const ids = (jobs: readonly { id: string }[]) => jobs.map((job) => job.id).sort();
    const excluded = await claim(driver, { limit: 10, now: T0 + 20, excludeSuspects: true });
    assert.deepEqual(ids(excluded), ids([...once, ...fresh]), 'fresh and once-interrupted jobs only');
    const rest = await claim(driver, { limit: 10, now: T0 + 21 });
    assert.deepEqual(ids(rest), ids(suspects), 'the suspects, still waiting');
    assert.deepEqual(
      rest.map((job) => job.interruptions),
      rest.map(() => SUSPECT_INTERRUPTIONS),
    );
  });

  test('a rescued job keeps its due time and is claimed before jobs enqueued after it', async (driver) => {
    const first = await insertJob(driver, { task: 'first' });
    await claimOne(driver, { leaseMs: 1000 });
    // A backlog arrives while the first job's worker is dead.
    await insertJobs(
      driver,
      Array.from({ length: 5 }, () => ({ task: 'backlog' })),
      T0 + 10,
    );
    const { now } = await rescueUntil(driver, first.id, T0 + 1001);
    assert.deepEqual((await getJob(driver, first.id)).runAt, new Date(T0));
    const [next] = await claim(driver, { limit: 1, now: now + 1 });
    assert.equal(next?.id, first.id, 'the rescued job runs before the backlog');
  });

  test('rescue does not use up an attempt: a job on its last attempt runs again', async (driver) => {
    const job = await insertJob(driver, { maxAttempts: 1 });
    const lease = await claimOne(driver, { leaseMs: 1000 });
    assert.equal(lease.interruptions, 0);
    const { rescued, now } = await rescueUntil(driver, job.id, T0 + 1001);
    assert.equal(rescued.newState, 'pending');
    assert.equal(rescued.attempt, 1);
    assert.equal(rescued.interruptions, 1);
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'pending');
    assert.equal(stored.attempt, 0);
    assert.equal(stored.interruptions, 1);
    assert.deepEqual(
      stored.errors.map((e) => [e.name, e.attempt, e.interrupted]),
      [['LeaseExpiredError', 1, true]],
    );
    const again = await claimOne(driver, { now: now + 1, leaseMs: 1000 });
    assert.equal(again.attempt, 1);
    assert.equal(again.interruptions, 1);
  });

  test('rescue abandons a job on the interruption that reaches maxInterruptions', async (driver) => {
    const job = await insertJob(driver, { maxAttempts: 1 });
    let now = T0;
    const outcomes: RescuedJob['newState'][] = [];
    for (let i = 0; i < 3; i++) {
      await claimOne(driver, { now, leaseMs: 1000 });
      const swept = await rescueUntil(driver, job.id, now + 1001, { maxInterruptions: 3 });
      outcomes.push(swept.rescued.newState);
      now = swept.now + 1;
    }
    assert.deepEqual(outcomes, ['pending', 'pending', 'abandoned']);
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'abandoned');
    assert.equal(stored.interruptions, 3);
    assert.equal(stored.attempt, 1);
    assert.ok(stored.finishedAt !== null);
    assert.deepEqual(
      stored.errors.map((e) => [e.name, e.attempt, e.interrupted]),
      [
        ['LeaseExpiredError', 1, true],
        ['LeaseExpiredError', 1, true],
        ['LeaseExpiredError', 1, true],
      ],
    );
    assert.deepEqual(await claim(driver, { now: now + 1 }), []);
  });

  test('without maxInterruptions, rescue abandons on the fifth interruption', async (driver) => {
    const job = await insertJob(driver);
    let now = T0;
    const outcomes: RescuedJob['newState'][] = [];
    for (let i = 0; i < 5; i++) {
      await claimOne(driver, { now, leaseMs: 1000 });
      const swept = await rescueUntil(driver, job.id, now + 1001);
      outcomes.push(swept.rescued.newState);
      now = swept.now + 1;
    }
    assert.deepEqual(outcomes, ['pending', 'pending', 'pending', 'pending', 'abandoned']);
  });

  test('a release with an interruption error records it and keeps the job in place', async (driver) => {
    const job = await insertJob(driver, { maxAttempts: 1 });
    const lease = await claimOne(driver, { now: T0 + 5 });
    await insertJob(driver, { task: 'later' }, T0 + 10);
    const error = cutOff(1, T0 + 40);
    const released = await driver.jobRelease({
      leases: [{ ...lease, interruption: error }],
      maxInterruptions: 3,
      now: T0 + 40,
    });
    assert.deepEqual(released, [job.id]);
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'pending');
    assert.equal(stored.attempt, 0);
    assert.equal(stored.interruptions, 1);
    assert.deepEqual(stored.runAt, new Date(T0));
    assert.deepEqual(stored.errors, [{ ...error, interrupted: true }]);
    const again = await claimOne(driver, { now: T0 + 41 });
    assert.equal(again.id, job.id, 'the interrupted job runs before the one enqueued after it');
    assert.equal(again.attempt, 1);
    assert.equal(again.interruptions, 1);
  });

  test('an interrupted release that reaches maxInterruptions abandons the job', async (driver) => {
    const [job, plain] = await insertJobs(driver, [{ task: 'cut-off' }, { task: 'buffered' }]);
    const leases = await claim(driver, { limit: 2 });
    const cut = leases.find((l) => l.id === job!.id)!;
    const buffered = leases.find((l) => l.id === plain!.id)!;
    const released = await driver.jobRelease({
      leases: [buffered, { ...cut, interruption: cutOff(1, T0 + 50) }],
      maxInterruptions: 1,
      now: T0 + 50,
    });
    assert.deepEqual(released, [plain!.id, job!.id]);
    const stored = await getJob(driver, job!.id);
    assert.equal(stored.state, 'abandoned');
    assert.equal(stored.attempt, 1);
    assert.equal(stored.interruptions, 1);
    assert.deepEqual(stored.finishedAt, new Date(T0 + 50));
    assert.deepEqual(
      stored.errors.map((e) => [e.name, e.interrupted]),
      [['ShutdownInterruptedError', true]],
    );
    // The plain release beside it is untouched by the budget.
    const other = await getJob(driver, plain!.id);
    assert.equal(other.state, 'pending');
    assert.equal(other.interruptions, 0);
    assert.deepEqual(other.errors, []);
  });

  test('an interrupted release is fenced by the lease token', async (driver) => {
    const job = await insertJob(driver);
    const old = await claimOne(driver);
    await driver.jobRelease({ leases: [old], now: T0 + 1 });
    await claimOne(driver, { now: T0 + 2 });
    const before = await getJob(driver, job.id);
    const released = await driver.jobRelease({
      leases: [{ ...old, interruption: cutOff(1, T0 + 3) }],
      maxInterruptions: 1,
      now: T0 + 3,
    });
    assert.deepEqual(released, []);
    assert.deepEqual(await getJob(driver, job.id), before);
  });

  test('a retried job gets a fresh interruption budget', async (driver) => {
    const job = await insertJob(driver);
    await claimOne(driver, { leaseMs: 1000 });
    const { now } = await rescueUntil(driver, job.id, T0 + 1001, { maxInterruptions: 1 });
    assert.equal((await getJob(driver, job.id)).state, 'abandoned');
    const [retried] = await driver.jobRetry({ ids: [job.id], now: now + 1 });
    assert.equal(retried?.interruptions, 0);
    assert.equal(retried?.attempt, 0);
    const again = await claimOne(driver, { now: now + 2 });
    assert.equal(again.interruptions, 0);
  });
}
