/** Conformance: finishing attempts under the fencing token (complete, retry, abandon, snooze). */
import assert from 'node:assert/strict';
import { completedEntry } from '../completed-entry.js';
import { RUN_AT_PLACEHOLDER } from '../event-log.js';
import {
  claim,
  claimOne,
  complete,
  type DefineTest,
  getJob,
  insertJob,
  insertJobs,
  storedError,
  T0,
} from './harness.js';

export function finalizeTests(test: DefineTest): void {
  test('completing a job stores its result and clears its lease', async (driver) => {
    const job = await insertJob(driver);
    const lease = await claimOne(driver);
    const result = await complete(driver, lease, T0 + 100, '{"sent":true}');
    assert.deepEqual(result, { id: job.id, applied: true, at: T0 + 100 });
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'completed');
    assert.deepEqual(stored.result, { sent: true });
    assert.deepEqual(stored.finishedAt, new Date(T0 + 100));
    assert.equal(stored.leaseExpiresAt, null);
    assert.equal(stored.poolId, null);
    assert.equal(stored.attempt, 1);
  });

  test("an item's progress is stored with its outcome, fenced like it; items without progress keep theirs", async (driver) => {
    const [a, b, c] = await insertJobs(driver, [{}, {}, {}]);
    const leases = await claim(driver, { limit: 3 });
    const lease = (id: string) => leases.find((l) => l.id === id)!;
    await driver.jobHeartbeatMany({
      leases: [{ ...lease(b!.id), progressJson: '{"step":1}' }],
      leaseMs: 30_000,
      now: T0 + 5,
    });
    const results = await driver.jobFinalizeMany({
      items: [
        { ...lease(a!.id), progressJson: '{"step":"last"}', outcome: 'completed', resultJson: null },
        { ...lease(b!.id), outcome: 'abandoned', error: storedError(1, T0 + 10, 'no') },
        {
          id: c!.id,
          leaseToken: lease(c!.id).leaseToken + 1,
          progressJson: '7',
          outcome: 'completed',
          resultJson: null,
        },
      ],
      now: T0 + 10,
    });
    assert.deepEqual(
      results.map((r) => r.applied),
      [true, true, false],
    );
    assert.deepEqual((await getJob(driver, a!.id)).progress, { step: 'last' });
    assert.deepEqual((await getJob(driver, b!.id)).progress, { step: 1 });
    assert.equal((await getJob(driver, c!.id)).progress, null, 'a fenced-off item writes no progress');
  });

  test('completing with a null result stores null', async (driver) => {
    const job = await insertJob(driver);
    await complete(driver, await claimOne(driver), T0 + 1, null);
    assert.equal((await getJob(driver, job.id)).result, null);
  });

  test('retry schedules the next attempt and appends the error', async (driver) => {
    const job = await insertJob(driver, { maxAttempts: 3 });
    const first = await claimOne(driver);
    const error1 = storedError(1, T0 + 10, 'first failure');
    const [result] = await driver.jobFinalizeMany({
      items: [{ ...first, outcome: 'retry', error: error1, delayMs: 500 }],
      now: T0 + 10,
    });
    assert.deepEqual(result, { id: job.id, applied: true, runAt: T0 + 510, at: T0 + 10 });
    let stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'scheduled');
    assert.deepEqual(stored.runAt, new Date(T0 + 510));
    assert.equal(stored.attempt, 1);
    assert.equal(stored.leaseExpiresAt, null);
    assert.equal(stored.finishedAt, null);
    assert.deepEqual(stored.errors, [error1]);

    assert.deepEqual(await claim(driver, { now: T0 + 509 }), []);
    const second = await claimOne(driver, { now: T0 + 510 });
    assert.equal(second.attempt, 2);
    const error2 = {
      ...storedError(2, T0 + 600, 'second failure'),
      stack: 'Error: second failure\n    at x',
    };
    await driver.jobFinalizeMany({
      items: [{ ...second, outcome: 'retry', error: error2, delayMs: 0 }],
      now: T0 + 600,
    });
    stored = await getJob(driver, job.id);
    assert.deepEqual(stored.errors, [error1, error2]);
  });

  test('abandoning a job ends it and appends the error', async (driver) => {
    const job = await insertJob(driver);
    const lease = await claimOne(driver);
    const error = storedError(1, T0 + 20, 'bad input');
    const [result] = await driver.jobFinalizeMany({
      items: [{ ...lease, outcome: 'abandoned', error }],
      now: T0 + 20,
    });
    assert.deepEqual(result, { id: job.id, applied: true, at: T0 + 20 });
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'abandoned');
    assert.deepEqual(stored.finishedAt, new Date(T0 + 20));
    assert.deepEqual(stored.errors, [error]);
    assert.equal(stored.leaseExpiresAt, null);
    assert.deepEqual(await claim(driver, { now: T0 + 1_000_000 }), []);
  });

  test('snoozing reschedules without counting the attempt', async (driver) => {
    const job = await insertJob(driver);
    const lease = await claimOne(driver);
    assert.equal(lease.attempt, 1);
    const [result] = await driver.jobFinalizeMany({
      items: [{ ...lease, outcome: 'snoozed', delayMs: 750 }],
      now: T0 + 5,
    });
    assert.deepEqual(result, { id: job.id, applied: true, runAt: T0 + 755, at: T0 + 5 });
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'scheduled');
    assert.equal(stored.attempt, 0);
    assert.deepEqual(stored.errors, []);
    assert.deepEqual(stored.runAt, new Date(T0 + 755));
    assert.deepEqual(await claim(driver, { now: T0 + 754 }), []);
    assert.equal((await claimOne(driver, { now: T0 + 755 })).attempt, 1);
  });

  test('finalizes a mixed batch in one call, results in input order', async (driver) => {
    const jobs = await insertJobs(driver, [{}, {}, {}, {}]);
    const leases = await claim(driver, { limit: 4 });
    const byId = new Map(leases.map((lease) => [lease.id, lease]));
    const [done, retried, abandoned, snoozed] = jobs.map((job) => byId.get(job.id)!);
    const error = storedError(1, T0 + 1);
    const results = await driver.jobFinalizeMany({
      items: [
        { ...snoozed!, outcome: 'snoozed', delayMs: 10 },
        { ...done!, outcome: 'completed', resultJson: '1' },
        { id: done!.id, leaseToken: done!.leaseToken, outcome: 'completed', resultJson: '2' },
        { ...abandoned!, outcome: 'abandoned', error },
        { ...retried!, outcome: 'retry', error, delayMs: 20 },
      ],
      now: T0 + 1,
    });
    assert.deepEqual(results, [
      { id: snoozed!.id, applied: true, runAt: T0 + 11, at: T0 + 1 },
      { id: done!.id, applied: true, at: T0 + 1 },
      // The same completion twice in one batch: the second is acknowledged, not written.
      { id: done!.id, applied: true, at: T0 + 1 },
      { id: abandoned!.id, applied: true, at: T0 + 1 },
      { id: retried!.id, applied: true, runAt: T0 + 21, at: T0 + 1 },
    ]);
    assert.deepEqual((await getJob(driver, done!.id)).result, 1);
  });

  test('a stale lease token is rejected and leaves the job untouched', async (driver) => {
    const job = await insertJob(driver);
    const old = await claimOne(driver);
    await driver.jobRelease({ leases: [old], now: T0 + 1 });
    const current = await claimOne(driver, { now: T0 + 2, poolId: 'worker-b' });
    const before = await getJob(driver, job.id);
    const error = storedError(1, T0 + 3);
    const results = await driver.jobFinalizeMany({
      items: [
        { ...old, outcome: 'completed', resultJson: '"stale"' },
        { ...old, outcome: 'retry', error, delayMs: 0 },
        { ...old, outcome: 'abandoned', error },
        { ...old, outcome: 'snoozed', delayMs: 0 },
      ],
      now: T0 + 3,
    });
    assert.deepEqual(
      results.map((r) => r.applied),
      [false, false, false, false],
    );
    assert.ok(
      results.every((r) => !('runAt' in r)),
      'a rejected write reports no new due time',
    );
    assert.deepEqual(await getJob(driver, job.id), before);
    assert.equal((await complete(driver, current, T0 + 4)).applied, true);
  });

  test('River #1302: after rescue and re-claim, only the new worker can finish the job', async (driver) => {
    const job = await insertJob(driver, { maxAttempts: 3 });
    const workerA = await claimOne(driver, { poolId: 'worker-a', leaseMs: 1000 });
    // Worker A hangs past its lease; the rescuer re-queues the job and worker B takes it.
    const rescued = await driver.jobRescueExpired({ limit: 10, now: T0 + 1001 });
    assert.deepEqual(
      rescued.map((r) => r.id),
      [job.id],
    );
    const workerB = await claimOne(driver, { poolId: 'worker-b', now: T0 + 1002, leaseMs: 1000 });
    assert.equal(workerB.id, job.id);
    assert.notEqual(workerB.leaseToken, workerA.leaseToken);

    // Worker A wakes up and reports success: fenced off.
    assert.equal((await complete(driver, workerA, T0 + 1003, '"from A"')).applied, false);
    assert.deepEqual(await driver.jobHeartbeatMany({ leases: [workerA], leaseMs: 1000, now: T0 + 1003 }), [
      workerA.id,
    ]);
    const during = await getJob(driver, job.id);
    assert.equal(during.state, 'running');
    assert.equal(during.poolId, 'worker-b');

    assert.equal((await complete(driver, workerB, T0 + 1004, '"from B"')).applied, true);
    const final = await getJob(driver, job.id);
    assert.equal(final.state, 'completed');
    assert.equal(final.result, 'from B');
    // A's attempt was interrupted, not failed: B ran the same attempt number again.
    assert.equal(final.attempt, 1);
    assert.equal(final.interruptions, 1);
  });

  test('a job is finalized once: a repeated completion is acknowledged, not written', async (driver) => {
    await insertJob(driver);
    const lease = await claimOne(driver);
    assert.equal((await complete(driver, lease, T0 + 1, '1')).applied, true);
    // The worker retries a completion whose reply it lost: it did complete the job.
    assert.equal((await complete(driver, lease, T0 + 2, '2')).applied, true);
    const [retry] = await driver.jobFinalizeMany({
      items: [{ ...lease, outcome: 'retry', error: storedError(1, T0 + 3), delayMs: 0 }],
      now: T0 + 3,
    });
    assert.equal(retry!.applied, false);
    const stored = await getJob(driver, lease.id);
    assert.equal(stored.result, 1);
    assert.equal(stored.finishedAt?.getTime(), T0 + 1);
    assert.deepEqual(stored.errors, []);
  });

  test('a completion under an old token is rejected even when the job completed', async (driver) => {
    await insertJob(driver, { maxAttempts: 3 });
    const first = await claimOne(driver);
    // The first attempt's lease expires; the job is rescued, claimed again and completed.
    await driver.jobRescueExpired({ limit: 10, now: T0 + 60 * 60 * 1000 });
    const second = await claimOne(driver, { now: T0 + 60 * 60 * 1000 + 1 });
    assert.equal((await complete(driver, second, T0 + 60 * 60 * 1000 + 2, '2')).applied, true);
    assert.equal((await complete(driver, first, T0 + 60 * 60 * 1000 + 3, '1')).applied, false);
    assert.equal((await getJob(driver, first.id)).result, 2);
  });

  test('finalizing an unknown job is rejected', async (driver) => {
    const results = await driver.jobFinalizeMany({
      items: [
        { id: '987654321', leaseToken: 1, outcome: 'completed', resultJson: null },
        { id: 'not-an-id', leaseToken: 1, outcome: 'snoozed', delayMs: 0 },
      ],
      now: T0,
    });
    assert.deepEqual(results, [
      { id: '987654321', applied: false, at: T0 },
      { id: 'not-an-id', applied: false, at: T0 },
    ]);
  });

  test('a batch stores the events of exactly the items it applied, in item order', async (driver) => {
    const jobs = await insertJobs(driver, [{}, {}, {}, {}, {}, {}]);
    const leases = await claim(driver, { limit: 6 });
    const byId = new Map(leases.map((lease) => [lease.id, lease]));
    const [a, b, c, d, e, f] = jobs.map((job) => byId.get(job.id)!);
    const note = (n: number, extra: Record<string, unknown> = {}) => ({
      events: [{ type: 'test:note', data: { n, text: `say "${n}" ␞ \u001e`, ...extra } }],
    });
    // Every item applied, each with events: stored as one row, in item order.
    await driver.jobFinalizeMany({
      items: [
        { ...c!, outcome: 'completed', resultJson: null, ...note(3) },
        { ...a!, outcome: 'completed', resultJson: null, ...note(1) },
        { ...b!, outcome: 'completed', resultJson: null, ...note(2) },
      ],
      now: T0 + 1,
    });
    // A fenced-off item (stale token), an item without events and a retry whose due time the
    // write fills in: only the applied items' events, the due time as written.
    await driver.jobFinalizeMany({
      items: [
        { ...d!, leaseToken: d!.leaseToken - 1, outcome: 'completed', resultJson: null, ...note(40) },
        { ...d!, outcome: 'completed', resultJson: null, ...note(4) },
        { ...e!, outcome: 'completed', resultJson: null },
        {
          ...f!,
          outcome: 'retry',
          error: storedError(1, T0 + 2),
          delayMs: 50,
          ...note(6, { nextRunAt: RUN_AT_PLACEHOLDER }),
        },
      ],
      now: T0 + 2,
    });
    const { events } = await driver.eventRead({ after: null, limit: 100 });
    const notes = events.filter((event) => event.type === 'test:note').map((event) => event.data);
    assert.deepEqual(notes, [
      { n: 3, text: 'say "3" ␞ \u001e' },
      { n: 1, text: 'say "1" ␞ \u001e' },
      { n: 2, text: 'say "2" ␞ \u001e' },
      { n: 4, text: 'say "4" ␞ \u001e' },
      { n: 6, text: 'say "6" ␞ \u001e', nextRunAt: T0 + 52 },
    ]);
  });

  test('a batch of completions the fence partly refuses stores the applied ones only, in order', async (driver) => {
    // Six completions, each with one compact job:completed (stored as column batches), two not
    // written: a stale token (refused), and the same job twice (the second is acknowledged as the
    // repeat of a completion, not written again).
    await insertJobs(driver, [{}, {}, {}, {}, {}]);
    const leases = await claim(driver, { limit: 5 });
    const completed = (lease: (typeof leases)[number], slot: number) => {
      const entry = completedEntry(
        lease,
        'pool-a',
        slot,
        lease.startedAt,
        lease.startedAt + 5,
        5,
        `{"slot":${slot}}`,
      );
      assert.ok(entry, 'a compact job:completed');
      return { ...lease, outcome: 'completed' as const, resultJson: `{"slot":${slot}}`, events: [entry] };
    };
    const [a, b, c, d, e] = leases;
    const results = await driver.jobFinalizeMany({
      items: [
        completed(a!, 0),
        { ...completed(b!, 1), leaseToken: b!.leaseToken - 1 },
        completed(c!, 2),
        completed(d!, 3),
        completed(c!, 4),
        completed(e!, 5),
      ],
      now: T0 + 10,
    });
    assert.deepEqual(
      results.map((r) => r.applied),
      [true, false, true, true, true, true],
    );
    const { events } = await driver.eventRead({ after: null, limit: 100 });
    const done = events
      .filter((event) => event.type === 'job:completed')
      .map((event) => event.data as { jobId: string; result: unknown });
    assert.deepEqual(
      done.map((event) => [event.jobId, event.result]),
      [
        [a!.id, { slot: 0 }],
        [c!.id, { slot: 2 }],
        [d!.id, { slot: 3 }],
        [e!.id, { slot: 5 }],
      ],
    );
  });
}
