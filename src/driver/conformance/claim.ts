/** Conformance: claiming jobs (order, filters, due times, limits, tokens, concurrency). */
import assert from 'node:assert/strict';
import type { ClaimedJob } from '../driver.js';
import {
  byIdAscending,
  claim,
  claimOne,
  complete,
  type DefineTest,
  getJob,
  insertJob,
  insertJobs,
  jobParams,
  LEASE_MS,
  T0,
} from './harness.js';

const ids = (jobs: readonly { id: string }[]) => jobs.map((job) => job.id);

export function claimTests(test: DefineTest): void {
  test('claims by priority (highest first), then due time, then id', async (driver) => {
    const [a, b, c, d, e] = await insertJobs(driver, [
      { priority: 0, runAt: T0 - 300 },
      { priority: 5, runAt: T0 - 100 },
      { priority: 5, runAt: T0 - 200 },
      { priority: 0, runAt: T0 - 300 },
      { priority: -1, runAt: T0 - 1000 },
    ]);
    // Two claims: the database must pick in this order, not only sort what it picked.
    assert.deepEqual(ids(await claim(driver, { limit: 2 })), [c!.id, b!.id]);
    assert.deepEqual(ids(await claim(driver, { limit: 10 })), [a!.id, d!.id, e!.id]);
  });

  test('claims at most limit jobs', async (driver) => {
    await insertJobs(
      driver,
      Array.from({ length: 5 }, () => ({})),
    );
    assert.equal((await claim(driver, { limit: 3 })).length, 3);
    assert.equal((await claim(driver, { limit: 3 })).length, 2);
    assert.equal((await claim(driver, { limit: 3 })).length, 0);
  });

  test('claims nothing for an empty queue list', async (driver) => {
    await insertJob(driver);
    assert.deepEqual(await claim(driver, { queues: [] }), []);
    assert.equal((await driver.jobCountByState({})).pending, 1);
  });

  test('claims only from the named queues, in priority order across them', async (driver) => {
    const [inA, inB, inC] = await insertJobs(driver, [
      { queue: 'a', priority: 1 },
      { queue: 'b', priority: 9 },
      { queue: 'c', priority: 2 },
    ]);
    assert.deepEqual(ids(await claim(driver, { queues: ['a', 'c'] })), [inC!.id, inA!.id]);
    assert.equal(await getJob(driver, inB!.id).then((job) => job.state), 'pending');
  });

  test('does not claim from a paused queue until it is resumed', async (driver) => {
    const [paused, open] = await insertJobs(driver, [{ queue: 'paused' }, { queue: 'open' }]);
    await driver.queuePause({ name: 'paused', now: T0 });
    assert.deepEqual(ids(await claim(driver, { queues: ['paused', 'open'] })), [open!.id]);
    assert.deepEqual(await claim(driver, { queues: ['paused'] }), []);
    await driver.queueResume({ name: 'paused', now: T0 });
    assert.deepEqual(ids(await claim(driver, { queues: ['paused'] })), [paused!.id]);
  });

  test('a scheduled job is not claimed before its run time, and is from then on', async (driver) => {
    const job = await insertJob(driver, { delayMs: 1000 });
    assert.equal(job.state, 'scheduled');
    assert.deepEqual(await claim(driver, { now: T0 + 999 }), []);
    assert.deepEqual(ids(await claim(driver, { now: T0 + 1000 })), [job.id]);
  });

  test('a claimed job is running with the next attempt, its worker and a lease', async (driver) => {
    const job = await insertJob(driver, {
      task: 'resize',
      payloadJson: '{"w":64}',
      priority: 3,
      maxAttempts: 4,
      correlationId: 'corr-9',
      metadataJson: '{"tenant":"acme"}',
      timeoutMs: 2000,
      backoff: { type: 'exponential', baseMs: 100 },
    });
    const claimed = await claimOne(driver, { now: T0 + 50, leaseMs: 1000, poolId: 'worker-9' });
    assert.ok(claimed.leaseToken > 0);
    const expected: ClaimedJob = {
      id: job.id,
      task: 'resize',
      queue: 'default',
      payloadJson: '{"w":64}',
      priority: 3,
      attempt: 1,
      maxAttempts: 4,
      interruptions: 0,
      leaseToken: claimed.leaseToken,
      runAt: T0,
      createdAt: T0,
      startedAt: T0 + 50,
      correlationId: 'corr-9',
      metadataJson: '{"tenant":"acme"}',
      timeoutMs: 2000,
      backoff: { type: 'exponential', baseMs: 100 },
    };
    assert.deepEqual(claimed, expected);
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'running');
    assert.equal(stored.attempt, 1);
    assert.equal(stored.poolId, 'worker-9');
    assert.deepEqual(stored.startedAt, new Date(T0 + 50));
    assert.deepEqual(stored.leaseExpiresAt, new Date(T0 + 1050));
  });

  test('a claim hands back text exactly, control characters and separators included', async (driver) => {
    // A driver may pack a claimed row into one value (PostgreSQL joins fields with U+001F): the
    // free texts must come back whole whatever they hold, with the event log on and off.
    const correlationId = 'c\u001fx\u001f\u001e,"\\\n\t';
    const payloadJson = JSON.stringify({ s: '\u001f\u001e\u0001 "q" \\ ünï 😀' });
    const metadataJson = JSON.stringify({ '\u001f': ['\u001e'] });
    for (const log of [false, true]) {
      const job = await insertJob(driver, { correlationId, payloadJson, metadataJson });
      const [claimed] = await driver.jobClaim({
        queues: ['default'],
        limit: 5,
        leaseMs: LEASE_MS,
        poolId: 'worker-1',
        now: T0,
        log,
      });
      assert.ok(claimed, `log ${log}: expected a claimed job`);
      assert.equal(claimed.id, job.id);
      assert.equal(claimed.correlationId, correlationId);
      assert.deepEqual(JSON.parse(claimed.payloadJson), JSON.parse(payloadJson));
      assert.deepEqual(JSON.parse(claimed.metadataJson), JSON.parse(metadataJson));
      assert.equal(claimed.timeoutMs, null);
      assert.equal(claimed.backoff, null);
    }
  });

  test('every claim increments the lease token, which nothing resets', async (driver) => {
    await insertJob(driver, { maxAttempts: 5 });
    const first = await claimOne(driver);
    await driver.jobRelease({ leases: [first], now: T0 + 1 });
    const second = await claimOne(driver, { now: T0 + 2, leaseMs: 10 });
    assert.equal(second.leaseToken, first.leaseToken + 1);

    await driver.jobRescueExpired({ limit: 10, now: T0 + 13 });
    const third = await claimOne(driver, { now: T0 + 14 });
    assert.equal(third.leaseToken, second.leaseToken + 1);

    await complete(driver, third, T0 + 15);
    await driver.jobRetry({ ids: [third.id], now: T0 + 16 });
    const fourth = await claimOne(driver, { now: T0 + 17 });
    assert.equal(fourth.leaseToken, third.leaseToken + 1);
    assert.equal(fourth.attempt, 1);
  });

  test('concurrent claims never return the same job', async (driver) => {
    const total = 200;
    const result = await driver.jobInsertMany({
      jobs: Array.from({ length: total }, (_, i) => jobParams({ priority: i % 3 })),
      now: T0,
    });
    assert.ok('inserted' in result);
    const batches = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        driver.jobClaim({ queues: ['default'], limit: 25, leaseMs: LEASE_MS, poolId: `w${i}`, now: T0 }),
      ),
    );
    const claimed = batches.flat().map((job) => job.id);
    assert.equal(claimed.length, total);
    assert.equal(new Set(claimed).size, total, 'a job was claimed twice');
    assert.deepEqual(
      [...claimed].sort(byIdAscending),
      result.inserted.map((r) => r.job.id),
    );
    assert.equal((await driver.jobCountByState({})).running, total);
  });
}
