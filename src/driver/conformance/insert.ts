/** Conformance: inserting jobs (due times, unique keys, queue limits, atomicity). */
import assert from 'node:assert/strict';
import type { JobRecord } from '../../core/types.js';
import { claimOne, complete, type DefineTest, insertJob, insertJobs, jobParams, T0 } from './harness.js';

export function insertTests(test: DefineTest): void {
  test('stores every field of an inserted job', async (driver) => {
    const result = await driver.jobInsertMany({
      jobs: [
        jobParams({
          task: 'resize-image',
          queue: 'media',
          payloadJson: '{"url":"https://example.com/a.png","sizes":[64,128],"nested":{"ok":true}}',
          priority: 5,
          maxAttempts: 7,
          uniqueKey: 'image-42',
          correlationId: 'corr-42',
          metadataJson: '{"tenant":"acme"}',
          timeoutMs: 1500,
          backoff: { type: 'fixed', delayMs: 250 },
        }),
      ],
      now: T0,
    });
    assert.ok('inserted' in result);
    const [{ job, duplicate }] = result.inserted as [{ job: JobRecord; duplicate: boolean }];
    assert.equal(duplicate, false);
    assert.match(job.id, /^[0-9]+$/);
    const expected: JobRecord = {
      id: job.id,
      task: 'resize-image',
      queue: 'media',
      payload: { url: 'https://example.com/a.png', sizes: [64, 128], nested: { ok: true } },
      state: 'pending',
      priority: 5,
      attempt: 0,
      maxAttempts: 7,
      interruptions: 0,
      runAt: new Date(T0),
      createdAt: new Date(T0),
      startedAt: null,
      finishedAt: null,
      leaseExpiresAt: null,
      poolId: null,
      result: null,
      errors: [],
      progress: null,
      uniqueKey: 'image-42',
      dedup: null,
      concurrencyKey: null,
      correlationId: 'corr-42',
      metadata: { tenant: 'acme' },
      timeoutMs: 1500,
      backoff: { type: 'fixed', delayMs: 250 },
    };
    assert.deepEqual(job, expected);
    assert.deepEqual(await driver.jobGet({ id: job.id }), expected);
  });

  test('a batch stores strings exactly: empty, control characters, quotes, and null beside them', async (driver) => {
    // Separator-like control characters force the PostgreSQL driver off its packed columns
    // (packed-columns.ts); the first batch has none and is sent packed.
    const odd = ['', '\u001e', '\u001f', 'a\u001eb', '"q" \\ {x,y} NULL', 'ünï 😀'];
    for (const batch of [
      [null, '', '"q" \\ {x,y} NULL', 'NULL'],
      [null, ...odd],
    ]) {
      const jobs = await insertJobs(
        driver,
        batch.map((text, i) => ({
          correlationId: text ?? `c${i}`,
          uniqueKey: text === null ? null : `${JSON.stringify(text)}-${batch.length}`,
          payloadJson: JSON.stringify({ text, i }),
          metadataJson: JSON.stringify({ text: text ?? 'none' }),
        })),
      );
      for (const [i, text] of batch.entries()) {
        const stored = await driver.jobGet({ id: jobs[i]!.id });
        assert.equal(stored?.correlationId, text ?? `c${i}`);
        assert.equal(stored?.uniqueKey, text === null ? null : `${JSON.stringify(text)}-${batch.length}`);
        assert.deepEqual(stored?.payload, { text, i });
        assert.deepEqual(stored?.metadata, { text: text ?? 'none' });
      }
    }
  });

  test('a job due now is pending, a later one is scheduled, runAt overrides delayMs', async (driver) => {
    const [dueNow, delayed, absolute, past] = await insertJobs(driver, [
      { delayMs: 0 },
      { delayMs: 5000 },
      { runAt: T0 + 100, delayMs: 99_999 },
      { runAt: T0 - 1000 },
    ]);
    assert.deepEqual(
      [dueNow, delayed, absolute, past].map((job) => [job!.state, job!.runAt.getTime()]),
      [
        ['pending', T0],
        ['scheduled', T0 + 5000],
        ['scheduled', T0 + 100],
        ['pending', T0 - 1000],
      ],
    );
  });

  test('returns results in input order with distinct increasing ids', async (driver) => {
    const jobs = await insertJobs(driver, [{ task: 'a' }, { task: 'b' }, { task: 'c' }]);
    assert.deepEqual(
      jobs.map((job) => job.task),
      ['a', 'b', 'c'],
    );
    const ids = jobs.map((job) => BigInt(job.id));
    assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, `ids not increasing: ${ids.join(', ')}`);
  });

  test('insert many is atomic: a job that cannot be stored inserts nothing', async (driver) => {
    await assert.rejects(
      driver.jobInsertMany({
        jobs: [jobParams({ task: 'fine' }), jobParams({ task: 'broken', payloadJson: '{not json' })],
        now: T0,
      }),
    );
    const counts = await driver.jobCountByState({});
    assert.equal(
      Object.values(counts).reduce((a, b) => a + b, 0),
      0,
    );
  });

  test('a unique key already active returns the existing job as a duplicate', async (driver) => {
    const first = await insertJob(driver, { uniqueKey: 'k', payloadJson: '{"n":1}' });
    const result = await driver.jobInsertMany({
      jobs: [jobParams({ uniqueKey: 'k', payloadJson: '{"n":2}' })],
      now: T0 + 10,
    });
    assert.ok('inserted' in result);
    assert.equal(result.inserted[0]!.duplicate, true);
    assert.deepEqual(result.inserted[0]!.job, first);
    assert.equal((await driver.jobCountByState({})).pending, 1);
  });

  test('two jobs with the same unique key in one batch insert once', async (driver) => {
    const result = await driver.jobInsertMany({
      jobs: [jobParams({ uniqueKey: 'k', task: 'first' }), jobParams({ uniqueKey: 'k', task: 'second' })],
      now: T0,
    });
    assert.ok('inserted' in result);
    const [a, b] = result.inserted;
    assert.equal(a!.duplicate, false);
    assert.equal(b!.duplicate, true);
    assert.equal(b!.job.id, a!.job.id);
    assert.equal(b!.job.task, 'first');
    assert.equal((await driver.jobCountByState({})).pending, 1);
  });

  test('scheduled and running jobs hold their unique key', async (driver) => {
    const scheduled = await insertJob(driver, { uniqueKey: 'k', delayMs: 1000 });
    const again = await driver.jobInsertMany({ jobs: [jobParams({ uniqueKey: 'k' })], now: T0 });
    assert.ok('inserted' in again);
    assert.deepEqual([again.inserted[0]!.duplicate, again.inserted[0]!.job.id], [true, scheduled.id]);

    await claimOne(driver, { now: T0 + 1000 });
    const whileRunning = await driver.jobInsertMany({
      jobs: [jobParams({ uniqueKey: 'k' })],
      now: T0 + 1001,
    });
    assert.ok('inserted' in whileRunning);
    assert.deepEqual(
      [whileRunning.inserted[0]!.duplicate, whileRunning.inserted[0]!.job.id],
      [true, scheduled.id],
    );
  });

  test('a unique key is freed once its job completes, is cancelled or abandoned', async (driver) => {
    const first = await insertJob(driver, { uniqueKey: 'k' });
    const claimed = await claimOne(driver);
    assert.equal((await complete(driver, claimed, T0 + 1)).applied, true);
    const second = await insertJob(driver, { uniqueKey: 'k' }, T0 + 2);
    assert.notEqual(second.id, first.id);

    await driver.jobCancel({ ids: [second.id], now: T0 + 3 });
    const third = await insertJob(driver, { uniqueKey: 'k' }, T0 + 4);
    assert.ok(![first.id, second.id].includes(third.id));

    const lease = await claimOne(driver, { now: T0 + 5 });
    await driver.jobFinalizeMany({
      items: [
        { ...lease, outcome: 'abandoned', error: { name: 'Error', message: 'x', attempt: 1, at: T0 + 6 } },
      ],
      now: T0 + 6,
    });
    const fourth = await insertJob(driver, { uniqueKey: 'k' }, T0 + 7);
    assert.ok(![first.id, second.id, third.id].includes(fourth.id));
  });

  test('maxPendingByQueue refuses a batch that would overfill a queue and inserts nothing', async (driver) => {
    await insertJobs(driver, [{ queue: 'limited' }, { queue: 'limited' }]);
    const limits = new Map([['limited', 3]]);
    const refused = await driver.jobInsertMany({
      jobs: [jobParams({ queue: 'other' }), jobParams({ queue: 'limited' }), jobParams({ queue: 'limited' })],
      maxPendingByQueue: limits,
      now: T0,
    });
    assert.deepEqual(refused, { queueFull: { queue: 'limited', maxPending: 3, pending: 2, adding: 2 } });
    assert.equal((await driver.jobCountByState({ queues: ['limited'] })).pending, 2);
    assert.equal((await driver.jobCountByState({ queues: ['other'] })).pending, 0);

    const fits = await driver.jobInsertMany({
      jobs: [jobParams({ queue: 'limited' })],
      maxPendingByQueue: limits,
      now: T0,
    });
    assert.ok('inserted' in fits);
    const full = await driver.jobInsertMany({
      jobs: [jobParams({ queue: 'limited' })],
      maxPendingByQueue: limits,
      now: T0,
    });
    assert.deepEqual(full, { queueFull: { queue: 'limited', maxPending: 3, pending: 3, adding: 1 } });
  });

  test('maxPendingByQueue counts only scheduled and pending jobs', async (driver) => {
    await insertJobs(driver, [
      { queue: 'q' },
      { queue: 'q' },
      { queue: 'q', delayMs: 60_000 },
      { queue: 'q' },
    ]);
    const [, done] = await driver.jobClaim({
      queues: ['q'],
      limit: 2,
      leaseMs: 1000,
      poolId: 'w',
      now: T0,
    });
    await complete(driver, done!, T0 + 1);
    // Waiting now: one pending and one scheduled; the running and completed jobs do not count.
    assert.deepEqual(await driver.jobCountByState({ queues: ['q'] }), {
      blocked: 0,
      scheduled: 1,
      pending: 1,
      running: 1,
      completed: 1,
      abandoned: 0,
      cancelled: 0,
    });
    const limits = new Map([['q', 3]]);
    const fits = await driver.jobInsertMany({
      jobs: [jobParams({ queue: 'q' })],
      maxPendingByQueue: limits,
      now: T0,
    });
    assert.ok('inserted' in fits);
    const full = await driver.jobInsertMany({
      jobs: [jobParams({ queue: 'q' })],
      maxPendingByQueue: limits,
      now: T0,
    });
    assert.deepEqual(full, { queueFull: { queue: 'q', maxPending: 3, pending: 3, adding: 1 } });
  });

  test('maxPendingByQueue does not count blocked jobs (waiting on dependencies), inserted or stored', async (driver) => {
    const [dependency] = await insertJobs(driver, [{ queue: 'other', delayMs: 60_000 }]);
    const limits = new Map([['q', 3]]);
    const blocked = () =>
      jobParams({ queue: 'q', dependsOn: [{ jobId: dependency!.id, onFailure: 'cancel' }] });
    // Four blocked jobs in a queue limited to 3 waiting: none of them waits yet.
    const accepted = await driver.jobInsertMany({
      jobs: [blocked(), blocked(), blocked(), blocked()],
      maxPendingByQueue: limits,
      now: T0,
    });
    assert.ok('inserted' in accepted, 'blocked jobs are not waiting jobs');
    assert.equal((await driver.jobCountByState({ queues: ['q'] })).blocked, 4);
    // Beside them, a batch of four waiting jobs is over the limit: 0 waiting, 4 more.
    const full = await driver.jobInsertMany({
      jobs: [
        jobParams({ queue: 'q' }),
        jobParams({ queue: 'q' }),
        blocked(),
        jobParams({ queue: 'q' }),
        jobParams({ queue: 'q' }),
      ],
      maxPendingByQueue: limits,
      now: T0,
    });
    assert.deepEqual(full, { queueFull: { queue: 'q', maxPending: 3, pending: 0, adding: 4 } });
  });

  test('duplicates do not count against maxPendingByQueue', async (driver) => {
    const existing = await insertJob(driver, { queue: 'q', uniqueKey: 'k' });
    const limits = new Map([['q', 2]]);
    const result = await driver.jobInsertMany({
      jobs: [jobParams({ queue: 'q', uniqueKey: 'k' }), jobParams({ queue: 'q' })],
      maxPendingByQueue: limits,
      now: T0,
    });
    assert.ok('inserted' in result, 'a duplicate plus one new job fits a limit of 2');
    assert.deepEqual(
      result.inserted.map((r) => r.duplicate),
      [true, false],
    );
    assert.equal(result.inserted[0]!.job.id, existing.id);
  });
}
