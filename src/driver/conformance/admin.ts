/** Conformance: operator actions on jobs (cancel, retry, delete, get, list, count). */
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../../core/errors.js';
import { JOB_STATES, type JobState } from '../../core/types.js';
import type { Driver, JobFilter } from '../driver.js';
import {
  byIdAscending,
  claim,
  claimOne,
  complete,
  type DefineTest,
  getJob,
  insertJob,
  insertJobs,
  stateOf,
  storedError,
  T0,
} from './harness.js';

/** Every id `jobList` yields for `filter`, walking all pages of `limit`. */
async function listAll(driver: Driver, filter: JobFilter, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let before: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const result = await driver.jobList({ ...filter, limit, before });
    assert.ok(result.jobs.length <= limit);
    seen.push(...result.jobs.map((job) => job.id));
    if (result.nextCursor === null) return seen;
    // Short pages with a cursor need JOB_LIST_SCAN_CAP jobs (job-list-bounded.ts); these tests have few.
    assert.ok(result.jobs.length > 0, 'a page with a next cursor must not be empty');
    before = result.nextCursor;
  }
  throw new Error('jobList never returned a null cursor');
}

export function adminTests(test: DefineTest): void {
  test('cancel moves scheduled, pending and running jobs to cancelled', async (driver) => {
    const [running, pending, scheduled] = await insertJobs(driver, [
      { task: 'r' },
      { task: 'p', queue: 'other' },
      { task: 's', delayMs: 60_000, correlationId: 'c-s' },
    ]);
    await claimOne(driver);
    const cancelled = await driver.jobCancel({
      ids: [scheduled!.id, running!.id, pending!.id],
      now: T0 + 10,
    });
    assert.deepEqual(cancelled, [
      {
        id: scheduled!.id,
        task: 's',
        queue: 'default',
        correlationId: 'c-s',
        attempt: 0,
        maxAttempts: 3,
        previousState: 'scheduled',
        at: T0 + 10,
      },
      {
        id: running!.id,
        task: 'r',
        queue: 'default',
        correlationId: 'corr-1',
        attempt: 1,
        maxAttempts: 3,
        previousState: 'running',
        at: T0 + 10,
      },
      {
        id: pending!.id,
        task: 'p',
        queue: 'other',
        correlationId: 'corr-1',
        attempt: 0,
        maxAttempts: 3,
        previousState: 'pending',
        at: T0 + 10,
      },
    ]);
    for (const job of [running!, pending!, scheduled!]) {
      const stored = await getJob(driver, job.id);
      assert.equal(stored.state, 'cancelled');
      assert.deepEqual(stored.finishedAt, new Date(T0 + 10));
      assert.equal(stored.leaseExpiresAt, null);
    }
    assert.deepEqual(await claim(driver, { queues: ['default', 'other'], now: T0 + 100_000 }), []);
  });

  test('cancel leaves finished and unknown jobs alone', async (driver) => {
    const job = await insertJob(driver);
    await complete(driver, await claimOne(driver), T0 + 1);
    const before = await getJob(driver, job.id);
    assert.deepEqual(await driver.jobCancel({ ids: [job.id, '987654321', 'nope'], now: T0 + 2 }), []);
    assert.deepEqual(await getJob(driver, job.id), before);
  });

  test('cancelling a running job fences off its worker', async (driver) => {
    const job = await insertJob(driver);
    const lease = await claimOne(driver);
    await driver.jobCancel({ ids: [job.id], now: T0 + 1 });
    assert.deepEqual(await driver.jobHeartbeatMany({ leases: [lease], leaseMs: 1000, now: T0 + 2 }), [
      job.id,
    ]);
    assert.equal((await complete(driver, lease, T0 + 3, '"late"')).applied, false);
    assert.deepEqual(await driver.jobRelease({ leases: [lease], now: T0 + 3 }), []);
    const stored = await getJob(driver, job.id);
    assert.equal(stored.state, 'cancelled');
    assert.equal(stored.result, null);
  });

  test('retry makes finished jobs pending with fresh attempts and keeps their errors', async (driver) => {
    const [abandoned, cancelled, completed] = await insertJobs(driver, [
      { maxAttempts: 2 },
      { delayMs: 10 },
      { queue: 'other' },
    ]);
    const a1 = await claimOne(driver);
    const e1 = storedError(1, T0 + 1);
    await driver.jobFinalizeMany({
      items: [{ ...a1, outcome: 'retry', error: e1, delayMs: 0 }],
      now: T0 + 1,
    });
    const a2 = await claimOne(driver, { now: T0 + 2 });
    const e2 = storedError(2, T0 + 3);
    await driver.jobFinalizeMany({ items: [{ ...a2, outcome: 'abandoned', error: e2 }], now: T0 + 3 });
    await driver.jobCancel({ ids: [cancelled!.id], now: T0 + 4 });
    await complete(driver, await claimOne(driver, { queues: ['other'], now: T0 + 5 }), T0 + 6, '{"ok":1}');

    const retried = await driver.jobRetry({
      ids: [abandoned!.id, cancelled!.id, completed!.id],
      now: T0 + 100,
    });
    assert.deepEqual(
      retried.map((job) => job.id),
      [abandoned!.id, cancelled!.id, completed!.id],
    );
    for (const job of retried) {
      assert.deepEqual(job, await getJob(driver, job.id));
      assert.equal(job.state, 'pending');
      assert.equal(job.attempt, 0);
      assert.deepEqual(job.runAt, new Date(T0 + 100));
      assert.equal(job.finishedAt, null);
      assert.equal(job.result, null);
      assert.equal(job.leaseExpiresAt, null);
    }
    assert.deepEqual(retried[0]!.errors, [e1, e2]);
    assert.equal((await claimOne(driver, { now: T0 + 101 })).attempt, 1);
  });

  test('retry leaves active jobs alone', async (driver) => {
    const [running, pending, scheduled] = await insertJobs(driver, [{}, {}, { delayMs: 10_000 }]);
    await claimOne(driver);
    const before = await Promise.all([running!, pending!, scheduled!].map((job) => getJob(driver, job.id)));
    const retried = await driver.jobRetry({
      ids: [running!.id, pending!.id, scheduled!.id, '987654321'],
      now: T0 + 1,
    });
    assert.deepEqual(retried, []);
    const after = await Promise.all([running!, pending!, scheduled!].map((job) => getJob(driver, job.id)));
    assert.deepEqual(after, before);
  });

  test('retry skips a job whose unique key another active job holds', async (driver) => {
    const old = await insertJob(driver, { uniqueKey: 'k' });
    await driver.jobCancel({ ids: [old.id], now: T0 + 1 });
    const holder = await insertJob(driver, { uniqueKey: 'k' }, T0 + 2);
    assert.deepEqual(await driver.jobRetry({ ids: [old.id], now: T0 + 3 }), []);
    assert.equal((await getJob(driver, old.id)).state, 'cancelled');

    // Two finished jobs with one key: the first retried takes the key, the second is skipped.
    await driver.jobCancel({ ids: [holder.id], now: T0 + 4 });
    const retried = await driver.jobRetry({ ids: [holder.id, old.id], now: T0 + 5 });
    assert.deepEqual(
      retried.map((job) => job.id),
      [holder.id],
    );
    assert.equal((await getJob(driver, old.id)).state, 'cancelled');
  });

  test('delete removes jobs in any state and returns them as they were, in input order', async (driver) => {
    const jobs = await insertJobs(driver, [{}, {}, { delayMs: 10_000 }, { task: 'p', correlationId: 'c-p' }]);
    const [running, completed] = await claim(driver, { limit: 2 });
    await complete(driver, completed!, T0 + 1);
    assert.equal((await getJob(driver, running!.id)).state, 'running');
    const ids = jobs.map((job) => job.id);
    const named = [ids[3]!, ids[2]!, '987654321', ids[0]!, 'nope', ids[1]!, ids[3]!];
    const deleted = await driver.jobDelete({ ids: named, now: T0 + 10 });
    assert.deepEqual(
      deleted.map((job) => job.id),
      [ids[3], ids[2], ids[0], ids[1]],
      'input order, unknown ids and repeats left out',
    );
    const previous = new Map(deleted.map((job) => [job.id, job.previousState]));
    assert.equal(previous.get(running!.id), 'running');
    assert.equal(previous.get(completed!.id), 'completed');
    assert.equal(previous.get(ids[2]!), 'scheduled');
    assert.equal(previous.get(ids[3]!), 'pending');
    assert.deepEqual(deleted[0], {
      id: ids[3],
      task: 'p',
      queue: 'default',
      correlationId: 'c-p',
      attempt: 0,
      maxAttempts: 3,
      previousState: 'pending',
      at: T0 + 10,
    });
    assert.equal(deleted.find((job) => job.id === running!.id)!.attempt, 1);
    for (const id of ids) assert.equal(await driver.jobGet({ id }), undefined);
    assert.deepEqual(await driver.jobDelete({ ids }), []);
  });

  test("delete stores its log builder's entries with the delete, and returns a deleted dependency's changes", async (driver) => {
    const [dependency, other] = await insertJobs(driver, [{ delayMs: 60_000 }, { delayMs: 60_000 }]);
    const [cancelled, released, stuck] = await insertJobs(driver, [
      { task: 'c', dependsOn: [{ jobId: dependency!.id, onFailure: 'cancel' }] },
      { task: 'r', dependsOn: [{ jobId: dependency!.id, onFailure: 'run' }] },
      { task: 'b', dependsOn: [{ jobId: dependency!.id, onFailure: 'block' }] },
    ]);
    const [below] = await insertJobs(driver, [
      { task: 'below', dependsOn: [{ jobId: cancelled!.id, onFailure: 'cancel' }] },
    ]);
    const { cursor } = await driver.eventRead({ after: null, limit: 1000 });
    const deleted = await driver.jobDelete({
      ids: [dependency!.id, other!.id],
      now: T0 + 20,
      log: (jobs) =>
        jobs.flatMap((job) => [
          { type: 'job:deleted', data: { jobId: job.id, previousState: job.previousState } },
          ...(job.dependents ?? []).map((c) => ({
            type: 'test:dependent',
            data: { jobId: c.id, state: c.state, dependencyId: c.dependencyId },
          })),
        ]),
    });
    assert.deepEqual(
      deleted.map((job) => [job.id, job.previousState, job.at]),
      [
        [dependency!.id, 'scheduled', T0 + 20],
        [other!.id, 'scheduled', T0 + 20],
      ],
    );
    assert.equal(deleted[1]!.dependents, undefined, 'nothing waited for it');
    const changes = (deleted[0]!.dependents ?? []).map((c) => [c.id, c.state, c.dependencyId, c.at]);
    assert.deepEqual(
      [...changes].sort((a, b) => byIdAscending(String(a[0]), String(b[0]))),
      [
        [cancelled!.id, 'cancelled', dependency!.id, T0 + 20],
        [released!.id, 'pending', dependency!.id, T0 + 20],
        [stuck!.id, 'blocked', dependency!.id, T0 + 20],
        [below!.id, 'cancelled', cancelled!.id, T0 + 20],
      ],
    );
    assert.equal(await stateOf(driver, cancelled!.id), 'cancelled');
    assert.equal(await stateOf(driver, released!.id), 'pending');
    assert.equal(await stateOf(driver, stuck!.id), 'blocked');
    assert.equal(await stateOf(driver, below!.id), 'cancelled');
    const { events } = await driver.eventRead({ after: cursor, limit: 1000 });
    assert.deepEqual(
      events.map((e) => [e.type, (e.data as { jobId: string }).jobId]),
      [
        ['job:deleted', dependency!.id],
        ...(deleted[0]!.dependents ?? []).map((c) => ['test:dependent', c.id]),
        ['job:deleted', other!.id],
      ],
    );
    assert.deepEqual(events[0]!.data, { jobId: dependency!.id, previousState: 'scheduled' });
  });

  test('delete whose log builder throws deletes nothing (one transaction)', async (driver) => {
    const [dependency] = await insertJobs(driver, [{ delayMs: 60_000 }]);
    const [dependent] = await insertJobs(driver, [
      { dependsOn: [{ jobId: dependency!.id, onFailure: 'cancel' }] },
    ]);
    const { cursor } = await driver.eventRead({ after: null, limit: 1000 });
    await assert.rejects(
      driver.jobDelete({
        ids: [dependency!.id],
        log: () => {
          throw new Error('builder failed');
        },
      }),
      /builder failed/,
    );
    assert.equal(await stateOf(driver, dependency!.id), 'scheduled');
    assert.equal(await stateOf(driver, dependent!.id), 'blocked');
    assert.deepEqual((await driver.eventRead({ after: cursor, limit: 1000 })).events, []);
  });

  test('deleting a running job fences off its worker', async (driver) => {
    const job = await insertJob(driver);
    const lease = await claimOne(driver);
    await driver.jobDelete({ ids: [job.id] });
    assert.equal((await complete(driver, lease, T0 + 1)).applied, false);
    assert.deepEqual(
      await driver.jobHeartbeatMany({
        leases: [{ ...lease, progressJson: '1' }],
        leaseMs: 1000,
        now: T0 + 2,
      }),
      [job.id],
    );
    assert.equal(await driver.jobGet({ id: job.id }), undefined);
  });

  test('get returns undefined for ids that do not exist', async (driver) => {
    assert.equal(await driver.jobGet({ id: '987654321' }), undefined);
    assert.equal(await driver.jobGet({ id: 'not-an-id' }), undefined);
  });

  test('list returns jobs newest first', async (driver) => {
    const jobs = await insertJobs(driver, [{ task: 'a' }, { task: 'b' }, { task: 'c' }]);
    const page = await driver.jobList({ limit: 10 });
    assert.deepEqual(
      page.jobs.map((job) => job.id),
      jobs.map((job) => job.id).reverse(),
    );
    assert.deepEqual(page.jobs[0], await getJob(driver, jobs[2]!.id));
    assert.equal(page.nextCursor, null);
  });

  test('list pagination covers every matching job exactly once', async (driver) => {
    const specs = Array.from({ length: 24 }, (_, i) => ({
      task: `t${i % 3}`,
      queue: `q${i % 2}`,
      delayMs: i % 5 === 0 ? 60_000 : 0,
    }));
    const jobs = await insertJobs(driver, specs);
    // Move some jobs on: running, then completed, so several states are present.
    const claimed = await claim(driver, { queues: ['q0', 'q1'], limit: 8 });
    for (const lease of claimed.slice(0, 4)) await complete(driver, lease, T0 + 1);
    const records = await Promise.all(jobs.map((job) => getJob(driver, job.id)));
    const newestFirst = records.reverse();

    const filters: JobFilter[] = [
      {},
      { states: ['pending', 'completed'] },
      { states: ['running'] },
      { queues: ['q1'] },
      { tasks: ['t2'] },
      { tasks: ['t0', 't1'], queues: ['q0'], states: ['pending', 'scheduled', 'completed'] },
      { queues: ['no-such-queue'] },
    ];
    for (const filter of filters) {
      const expected = newestFirst
        .filter((job) => !filter.states || filter.states.includes(job.state))
        .filter((job) => !filter.queues || filter.queues.includes(job.queue))
        .filter((job) => !filter.tasks || filter.tasks.includes(job.task))
        .map((job) => job.id);
      for (const limit of [1, 4, 6, 100]) {
        assert.deepEqual(
          await listAll(driver, filter, limit),
          expected,
          `${JSON.stringify(filter)} limit ${limit}`,
        );
      }
    }
  });

  test('an empty filter list means no filter', async (driver) => {
    await insertJobs(driver, [{ queue: 'a' }, { queue: 'b' }]);
    const page = await driver.jobList({ states: [], queues: [], tasks: [], limit: 10 });
    assert.equal(page.jobs.length, 2);
    assert.equal((await driver.jobCountByState({ queues: [] })).pending, 2);
  });

  test('count by state reports every state, zero when empty', async (driver) => {
    const zero = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
    assert.deepEqual(await driver.jobCountByState({}), zero);

    await insertJobs(driver, [{ queue: 'a' }, { queue: 'a' }, { queue: 'a', delayMs: 10 }, { queue: 'b' }]);
    const [lease] = await claim(driver, { queues: ['a'], limit: 1 });
    await complete(driver, lease!, T0 + 1);
    assert.deepEqual(await driver.jobCountByState({}), { ...zero, pending: 2, scheduled: 1, completed: 1 });
    assert.deepEqual(await driver.jobCountByState({ queues: ['a'] }), {
      ...zero,
      pending: 1,
      scheduled: 1,
      completed: 1,
    });
    assert.deepEqual(await driver.jobCountByState({ queues: ['b', 'c'] }), { ...zero, pending: 1 });
  });

  test('count by state counts only the states asked for, and each exactly', async (driver) => {
    const [parent] = await insertJobs(driver, [{ queue: 'p' }]);
    await insertJobs(driver, [
      { queue: 'a' },
      { queue: 'a' },
      { queue: 'a', delayMs: 10 },
      { queue: 'b' },
      { queue: 'b', dependsOn: [{ jobId: parent!.id, onFailure: 'cancel' }] },
    ]);
    const [first, second] = await claim(driver, { queues: ['a'], limit: 2 });
    await complete(driver, first!, T0 + 1);
    await driver.jobCancel({ ids: [(await insertJobs(driver, [{ queue: 'b' }]))[0]!.id], now: T0 + 2 });
    assert.ok(second, 'two jobs claimed');
    // Now: a — 1 running, 1 completed, 1 scheduled; b — 1 pending, 1 blocked, 1 cancelled; p — 1 pending.
    const all = await driver.jobCountByState({});
    for (const states of [
      ['running'],
      ['pending', 'scheduled'],
      ['blocked', 'running', 'pending', 'scheduled'],
      ['completed', 'cancelled'],
      ['abandoned'],
      ['pending', 'pending', 'completed'],
      [...JOB_STATES],
    ] as JobState[][]) {
      const expected = Object.fromEntries(states.map((state) => [state, all[state]]));
      assert.deepEqual(await driver.jobCountByState({ states }), expected, states.join(','));
    }
    assert.deepEqual(
      await driver.jobCountByState({ states: ['running', 'scheduled', 'completed'], queues: ['a'] }),
      {
        running: 1,
        scheduled: 1,
        completed: 1,
      },
    );
    assert.deepEqual(
      await driver.jobCountByState({ states: ['running', 'pending', 'blocked'], queues: ['b', 'c'] }),
      {
        running: 0,
        pending: 1,
        blocked: 1,
      },
    );
    assert.deepEqual(await driver.jobCountByState({ states: [] }), all, 'an empty list means every state');
  });

  test('count by state refuses a state that does not exist', async (driver) => {
    for (const states of [['done'], ['pending', 'PENDING'], ["pending' OR 1=1 --"], [null]]) {
      await assert.rejects(
        driver.jobCountByState({ states } as never),
        (error: unknown) => error instanceof InvalidOptionError && error.field === 'states',
        JSON.stringify(states),
      );
    }
  });
}
