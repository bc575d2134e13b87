/**
 * Conformance: an insert that starts its job at once for a pool of the inserting process
 * (`JobInsertManyParams.start`, see DirectStart) — only when a claim by that pool would have taken
 * the job first, with the same lease, fence and log a claim gives.
 */
import assert from 'node:assert/strict';
import type { Driver, JobInsertParams, JobInsertResult } from '../driver.js';
import { rule } from './flow.js';
import { claim, complete, type DefineTest, getJob, insertJobs, jobParams, LEASE_MS, T0 } from './harness.js';

const START = { poolId: 'pool-direct', leaseMs: LEASE_MS, queues: ['default'] };

/** Insert one job with `start` (overridable) at `now`; returns its result. */
async function insertStarting(
  driver: Driver,
  overrides: Partial<JobInsertParams> = {},
  start: Partial<typeof START> = {},
  now = T0,
): Promise<JobInsertResult> {
  const result = await driver.jobInsertMany({
    jobs: [jobParams(overrides)],
    start: { ...START, ...start },
    log: true,
    now,
  });
  assert.ok('inserted' in result);
  return result.inserted[0]!;
}

export function directStartTests(test: DefineTest): void {
  test('direct start: a job a claim would take first is stored running under a first lease', async (driver) => {
    const { job, started } = await insertStarting(driver, {
      payloadJson: '{"n":1}',
      metadataJson: '{"m":2}',
    });
    assert.ok(started, 'started');
    assert.equal(job.state, 'running');
    assert.deepEqual(
      {
        id: started.id,
        attempt: started.attempt,
        payloadJson: started.payloadJson,
        metadataJson: started.metadataJson,
        startedAt: started.startedAt,
        runAt: started.runAt,
      },
      { id: job.id, attempt: 1, payloadJson: '{"n":1}', metadataJson: '{"m":2}', startedAt: T0, runAt: T0 },
    );
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'running');
    assert.equal(stored.attempt, 1);
    assert.equal(stored.poolId, START.poolId);
    assert.equal(stored.startedAt?.getTime(), T0);
    assert.equal(stored.leaseExpiresAt?.getTime(), T0 + LEASE_MS);
    assert.deepEqual(job, stored, 'the returned record is the stored one');
    assert.deepEqual(await claim(driver), [], 'no claim takes it again');
    // Fenced like a claimed job: its lease completes it; a stale token does not.
    assert.equal(
      (await complete(driver, { id: job.id, leaseToken: started.leaseToken - 1 }, T0 + 5)).applied,
      false,
    );
    assert.equal((await complete(driver, started, T0 + 5)).applied, true);
    assert.equal((await getJob(driver, job.id)).state, 'completed');
  });

  test('direct start: the log holds job:queued (pending) then job:started, as an insert and a claim', async (driver) => {
    const { job, started } = await insertStarting(driver);
    assert.ok(started);
    const { events } = await driver.eventRead({ after: null, limit: 100 });
    const mine = events.filter((e) => (e.data as { jobId?: string }).jobId === job.id);
    assert.deepEqual(
      mine.map((e) => e.type),
      ['job:queued', 'job:started'],
    );
    const queued = mine[0]!.data as Record<string, unknown>;
    assert.equal(queued.state, 'pending');
    assert.equal(queued.queuedAt, T0);
    const startedEvent = mine[1]!.data as Record<string, unknown>;
    assert.equal(startedEvent.poolId, START.poolId);
    assert.equal(startedEvent.attempt, 1);
  });

  test('direct start: an older due job of at least its priority goes first, in any of the pool queues', async (driver) => {
    const [older] = await insertJobs(driver, [{ queue: 'other', priority: 5 }], T0 - 10);
    const behind = await insertStarting(driver, { priority: 5 }, { queues: ['default', 'other'] });
    assert.equal(behind.started, undefined);
    assert.equal(behind.job.state, 'pending');
    assert.equal((await getJob(driver, behind.job.id)).state, 'pending');
    // A higher priority than every waiting job: a claim would take it first.
    const ahead = await insertStarting(driver, { priority: 6 }, { queues: ['default', 'other'] });
    assert.ok(ahead.started);
    // A due scheduled job counts as waiting (the next claim promotes it).
    await insertJobs(driver, [{ queue: 'third', runAt: T0 + 1 }], T0 - 5);
    const afterDue = await insertStarting(driver, {}, { queues: ['default', 'third'] }, T0 + 2);
    assert.equal(afterDue.started, undefined);
    // Another queue's waiting job does not matter to a pool that does not serve it.
    const elsewhere = await insertStarting(driver, { queue: 'fourth' }, { queues: ['fourth'] }, T0 + 2);
    assert.ok(elsewhere.started, 'only the pool queues count');
    assert.equal((await getJob(driver, older!.id)).state, 'pending');
  });

  test('direct start: not in a paused queue, nor past a queue-wide flow rule; a paused pool queue does not count', async (driver) => {
    await driver.queuePause({ name: 'default', now: T0 });
    const paused = await insertStarting(driver);
    assert.equal(paused.started, undefined);
    assert.equal((await getJob(driver, paused.job.id)).state, 'pending');
    await driver.queueResume({ name: 'default', now: T0 });
    // A waiting job in a paused queue of the pool is not what a claim would take.
    await insertJobs(driver, [{ queue: 'held', priority: 9 }], T0 - 10);
    await driver.queuePause({ name: 'held', now: T0 });
    await driver.jobClaim({ queues: ['default'], limit: 10, leaseMs: LEASE_MS, poolId: 'other', now: T0 });
    const past = await insertStarting(driver, {}, { queues: ['default', 'held'] });
    assert.ok(past.started, 'a paused queue holds nothing a claim would take');
    await driver.flowRuleSet({ rules: [rule({ queue: 'ruled', key: null, concurrency: 5 })], now: T0 });
    const ruled = await insertStarting(driver, { queue: 'ruled' }, { queues: ['ruled'] });
    assert.equal(ruled.started, undefined, 'a queue-wide rule claims through the flow path');
  });

  test('direct start: ignored for jobs that are not plain and due now', async (driver) => {
    const cases: Partial<JobInsertParams>[] = [
      { delayMs: 1000 },
      { runAt: T0 },
      { uniqueKey: 'u-1' },
      { concurrencyKey: 'tenant-1' },
    ];
    for (const overrides of cases) {
      const { job, started } = await insertStarting(driver, overrides);
      assert.equal(started, undefined, JSON.stringify(overrides));
      assert.notEqual(job.state, 'running', JSON.stringify(overrides));
    }
    const two = await driver.jobInsertMany({ jobs: [jobParams(), jobParams()], start: START, now: T0 });
    assert.ok('inserted' in two);
    assert.deepEqual(
      two.inserted.map((r) => [r.job.state, r.started]),
      [
        ['pending', undefined],
        ['pending', undefined],
      ],
    );
  });
}
