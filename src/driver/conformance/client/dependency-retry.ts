/**
 * Retry by hand of jobs with dependencies (docs/dependencies.md, "Cancel, retry by hand, delete,
 * retention"): a retried job whose dependencies have not all completed goes back to `blocked`
 * and waits for them, with the events of a blocked insert; its edges are set as an insert's
 * would be (a `cancel` edge to a failed dependency refuses it, `block` makes it stuck, `run` lets
 * it go); a deleted dependency holds nothing; and one call retrying a dependency and its
 * dependent, in any order, leaves the dependency due and the dependent waiting for it.
 * Part of `runClientConformance`, so every driver runs it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Jobwire } from '../../../core/client.js';
import { JobNotRetryableError, UnrecoverableError } from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import type { Driver } from '../../driver.js';
import type { ConformanceDatabases } from './databases.js';
import { recordEvents, testPool, until, withClient } from './harness.js';

const HOUR = 3_600_000;

/** A task that fails for good (one attempt) while `fail.now`, and records what it ran. */
function flaky(name: string) {
  const fail = { now: true };
  const ran: string[] = [];
  const task = defineTask({
    name,
    maxAttempts: 1,
    handler: async (payload: { name: string }) => {
      if (fail.now) throw new UnrecoverableError(`${payload.name} fails`);
      ran.push(payload.name);
      return payload.name;
    },
  });
  return { task, fail, ran };
}

/** Run `body` with a pool of 2 workers started (a stopped pool cannot start again). */
async function withPool(client: Jobwire, body: () => Promise<unknown>): Promise<void> {
  const pool = client.createPool({ ...testPool, concurrency: 2 });
  await pool.start();
  try {
    await body();
  } finally {
    await pool.stop();
  }
}

const stateOf = async (client: Jobwire, id: string) => (await client.getJob(id))?.state;
const edgesOf = async (client: Jobwire, id: string) =>
  (await client.getJobDependencies(id)).dependencies.map((e) => [e.dependsOn, e.state]);

export function runDependencyRetrySuite(factory: ConformanceDatabases): void {
  describe(`retry of jobs with dependencies (${factory.name})`, () => {
    for (const order of ['dependency first', 'dependent first'] as const) {
      it(`a bulk retry of a failed flow (${order} by id): the dependency runs, then its dependents`, async (t) => {
        const { task, fail, ran } = flaky('step');
        const { client } = await withClient(t, factory, { tasks: [task], events: { log: true } });
        // Ids in the flow's order, or (a batch naming a later item) the other way round.
        const items = [
          { task, payload: { name: 'top' }, options: { ref: 'top' } },
          { task, payload: { name: 'mid' }, options: { ref: 'mid', dependsOn: [{ ref: 'top' }] } },
          { task, payload: { name: 'low' }, options: { ref: 'low', dependsOn: [{ ref: 'mid' }] } },
        ];
        const jobs = await client.enqueueMany(order === 'dependency first' ? items : [...items].reverse());
        const [top, mid, low] = order === 'dependency first' ? jobs : [...jobs].reverse();
        await withPool(client, () =>
          until(async () => (await stateOf(client, low!.id)) === 'cancelled', 10_000, 'the cascade'),
        );
        assert.equal(await stateOf(client, top!.id), 'abandoned');
        assert.equal(await stateOf(client, mid!.id), 'cancelled');

        fail.now = false;
        const recorded = recordEvents(client);
        assert.deepEqual(await client.retryJobs({ queue: 'default' }), { count: 3, skipped: 0 });
        assert.equal(await stateOf(client, top!.id), 'pending');
        assert.equal(await stateOf(client, mid!.id), 'blocked');
        assert.equal(await stateOf(client, low!.id), 'blocked');
        assert.deepEqual(await edgesOf(client, mid!.id), [[top!.id, 'waiting']]);
        assert.deepEqual(await edgesOf(client, low!.id), [[mid!.id, 'waiting']]);
        // As a blocked insert: job:blocked (waiting) after the job's own job:retried.
        assert.deepEqual(
          recorded.of('job:blocked').map((e) => [e.jobId, e.reason, e.dependencyIds, e.attempt]),
          [
            [mid!.id, 'waiting', [top!.id], 0],
            [low!.id, 'waiting', [mid!.id], 0],
          ].sort((a, b) => Number(b[0]) - Number(a[0])), // newest first, as the pages go
        );
        const names = recorded.all.filter((e) => (e.event as { jobId?: string }).jobId === mid!.id);
        assert.deepEqual(
          names.map((e) => e.name),
          ['job:retried', 'job:blocked'],
        );
        const logged = (await client.jobEvents(mid!.id)).map((e) => e.type);
        assert.deepEqual(logged.slice(-2), ['job:retried', 'job:blocked'], logged.join(', '));

        await withPool(client, async () =>
          assert.equal(await client.waitForJob(low!.id, { timeoutMs: 10_000 }), 'low'),
        );
        assert.deepEqual(ran, ['top', 'mid', 'low']);
        assert.deepEqual(await edgesOf(client, low!.id), [[mid!.id, 'done']]);
      });
    }

    it('one driver call retrying a dependency and its dependent, in either order, leaves the dependent waiting', async (t) => {
      let driver!: Driver;
      const task = defineTask({ name: 'noop', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, {
        tasks: [task],
        wrapDriver: (d) => {
          driver = d;
          return d;
        },
      });
      for (const named of ['dependency, dependent', 'dependent, dependency']) {
        const dependency = await client.enqueue(task, {}, { delayMs: HOUR });
        const dependent = await client.enqueue(task, {}, { dependsOn: [dependency.id] });
        const below = await client.enqueue(
          task,
          {},
          { dependsOn: [{ id: dependent.id, onFailure: 'block' }] },
        );
        assert.equal(await client.cancelJob(dependency.id), true);
        assert.equal(await stateOf(client, dependent.id), 'cancelled');
        assert.equal(await stateOf(client, below.id), 'blocked', 'stuck on the cancelled dependent');
        const ids =
          named === 'dependency, dependent' ? [dependency.id, dependent.id] : [dependent.id, dependency.id];
        const retried = await driver.jobRetry({ ids });
        assert.deepEqual(
          retried.map((job) => [job.id, job.state, job.blockedOn ?? null]),
          ids.map((id) => (id === dependency.id ? [id, 'pending', null] : [id, 'blocked', [dependency.id]])),
          named,
        );
        assert.equal(await stateOf(client, dependency.id), 'pending', named);
        assert.equal(await stateOf(client, dependent.id), 'blocked', named);
        assert.deepEqual(await edgesOf(client, dependent.id), [[dependency.id, 'waiting']], named);
        // Its own stuck dependent still waits for it, and is released by its completion.
        assert.deepEqual(await edgesOf(client, below.id), [[dependent.id, 'stuck']], named);
        await withPool(client, () => client.waitForJob(below.id, { timeoutMs: 10_000 }));
      }
    });

    it('a dependent retried alone: refused while its dependency failed under cancel, then waits, and is cancelled again if it fails again', async (t) => {
      const { task, fail, ran } = flaky('step');
      const { client } = await withClient(t, factory, { tasks: [task], events: { log: true } });
      const parent = await client.enqueue(task, { name: 'parent' });
      const child = await client.enqueue(task, { name: 'child' }, { dependsOn: [parent.id] });
      await withPool(client, () =>
        until(async () => (await stateOf(client, child.id)) === 'cancelled', 10_000, 'the cascade'),
      );

      // As an insert naming an abandoned dependency with onFailure 'cancel' is refused.
      await assert.rejects(
        client.retryJob(child.id),
        (error: unknown) =>
          error instanceof JobNotRetryableError && error.message.includes(`depends on job ${parent.id}`),
      );
      assert.equal(await stateOf(client, child.id), 'cancelled');
      assert.deepEqual(await edgesOf(client, child.id), [[parent.id, 'cancelled']]);

      // The dependency retried first (it fails again), then the dependent: it waits for it.
      const recorded = recordEvents(client);
      assert.equal((await client.retryJob(parent.id)).state, 'pending');
      const retried = await client.retryJob(child.id);
      assert.equal(retried.state, 'blocked');
      assert.equal('blockedOn' in retried, false, 'the API returns a plain JobRecord');
      assert.deepEqual(await edgesOf(client, child.id), [[parent.id, 'waiting']]);
      assert.deepEqual(
        recorded.of('job:blocked').map((e) => [e.jobId, e.reason, e.dependencyIds]),
        [[child.id, 'waiting', [parent.id]]],
      );
      await withPool(client, () =>
        until(async () => (await stateOf(client, child.id)) === 'cancelled', 10_000, 'the policy again'),
      );
      assert.deepEqual(
        recorded.of('job:cancelled').map((e) => [e.jobId, e.previousState, e.dependencyId]),
        [[child.id, 'blocked', parent.id]],
      );
      assert.deepEqual(ran, []);

      // Now it completes: the waiting dependent is released by it.
      fail.now = false;
      assert.deepEqual(await client.retryJobs({ queue: 'default' }), { count: 2, skipped: 0 });
      await withPool(client, async () =>
        assert.equal(await client.waitForJob(child.id, { timeoutMs: 10_000 }), 'child'),
      );
      assert.deepEqual(ran, ['parent', 'child']);
    });

    it('a dependent cancelled by hand while blocked waits again when retried; the completion releases it', async (t) => {
      const { task, fail, ran } = flaky('step');
      fail.now = false;
      const { client } = await withClient(t, factory, { tasks: [task] });
      const parent = await client.enqueue(task, { name: 'parent' });
      const done = await client.enqueue(task, { name: 'done' });
      const child = await client.enqueue(task, { name: 'child' }, { dependsOn: [parent.id, done.id] });
      // `done` completes; `parent` is still due when the child is cancelled and retried.
      assert.equal(await client.cancelJob(child.id), true);
      assert.equal(await client.cancelJob(parent.id), true);
      await withPool(client, () => client.waitForJob(done.id, { timeoutMs: 10_000 }));
      assert.equal((await client.retryJob(parent.id)).state, 'pending');
      const retried = await client.retryJob(child.id);
      assert.equal(retried.state, 'blocked');
      assert.deepEqual(await edgesOf(client, child.id), [
        [parent.id, 'waiting'],
        [done.id, 'done'],
      ]);
      assert.equal((await client.countJobs({ state: 'blocked' })).blocked, 1);
      await withPool(client, async () =>
        assert.equal(await client.waitForJob(child.id, { timeoutMs: 10_000 }), 'child'),
      );
      assert.deepEqual(ran, ['done', 'parent', 'child']);

      // A retried job whose dependencies all completed runs at once, as before.
      const again = await client.retryJob(child.id);
      assert.equal(again.state, 'pending');
      assert.deepEqual(await edgesOf(client, child.id), [
        [parent.id, 'done'],
        [done.id, 'done'],
      ]);
    });

    it("a dependency that failed under 'block' makes the retried job stuck; under 'run' it runs", async (t) => {
      const task = defineTask({ name: 'noop', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [task], events: { log: true } });
      const failed = await client.enqueue(task, {}, { delayMs: HOUR });
      const stuck = await client.enqueue(task, {}, { dependsOn: [{ id: failed.id, onFailure: 'block' }] });
      const runs = await client.enqueue(
        task,
        {},
        { dependsOn: [{ id: failed.id, onFailure: 'run' }], delayMs: HOUR },
      );
      assert.equal(await client.cancelJob(failed.id), true);
      assert.equal(await stateOf(client, stuck.id), 'blocked');
      // The documented way to stop waiting: cancel the dependent. Its retry waits again, stuck.
      assert.equal(await client.cancelJob(stuck.id), true);
      assert.equal(await client.cancelJob(runs.id), true);
      const recorded = recordEvents(client);
      assert.equal((await client.retryJob(stuck.id)).state, 'blocked');
      assert.deepEqual(await edgesOf(client, stuck.id), [[failed.id, 'stuck']]);
      assert.deepEqual(
        recorded.of('job:blocked').map((e) => [e.jobId, e.reason, e.dependencyIds]),
        [[stuck.id, 'dependency-failed', [failed.id]]],
      );
      const logged = (await client.jobEvents(stuck.id)).filter((e) => e.type === 'job:blocked');
      assert.deepEqual(
        logged.map((e) => (e.data as { reason: string }).reason),
        ['waiting', 'dependency-failed', 'dependency-failed'],
      );
      assert.equal((await client.retryJob(runs.id)).state, 'pending');
      assert.deepEqual(await edgesOf(client, runs.id), [[failed.id, 'ignored']]);

      // The dependency retried and completed releases the stuck one.
      assert.equal((await client.retryJob(failed.id)).state, 'pending');
      await withPool(client, async () =>
        assert.equal(await client.waitForJob(stuck.id, { timeoutMs: 10_000 }), 'ok'),
      );
    });

    it('a deleted dependency holds nothing on retry: cancel then retry still runs a job stuck on it', async (t) => {
      const task = defineTask({ name: 'noop', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const gone = await client.enqueue(task, {}, { delayMs: HOUR });
      const open = await client.enqueue(task, {}, { delayMs: HOUR });
      const stuck = await client.enqueue(task, {}, { dependsOn: [{ id: gone.id, onFailure: 'block' }] });
      const cancelled = await client.enqueue(task, {}, { dependsOn: [gone.id, open.id] });
      assert.equal(await client.deleteJob(gone.id), true);
      assert.equal(await stateOf(client, stuck.id), 'blocked');
      assert.equal(await stateOf(client, cancelled.id), 'cancelled');

      assert.equal(await client.cancelJob(stuck.id), true);
      assert.equal((await client.retryJob(stuck.id)).state, 'pending');
      assert.deepEqual(await edgesOf(client, stuck.id), [[gone.id, 'ignored']]);
      // Still waits for the dependency that exists and has not finished.
      assert.equal((await client.retryJob(cancelled.id)).state, 'blocked');
      assert.deepEqual(await edgesOf(client, cancelled.id), [
        [gone.id, 'ignored'],
        [open.id, 'waiting'],
      ]);
      assert.equal(await client.deleteJob(open.id), true);
      assert.equal(await stateOf(client, cancelled.id), 'cancelled', 'its policy applies to the delete');
      assert.equal((await client.retryJob(cancelled.id)).state, 'pending');
    });

    it('a bulk retry whose dependent is on a page before its dependency (pages of 500) leaves it waiting', async (t) => {
      const task = defineTask({ name: 'noop', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const parent = await client.enqueue(task, {}, { delayMs: HOUR });
      await client.enqueueMany(
        Array.from({ length: 500 }, () => ({ task, payload: {}, options: { delayMs: HOUR } })),
      );
      const child = await client.enqueue(task, {}, { dependsOn: [parent.id] });
      assert.equal((await client.cancelJobs({ queue: 'default' })).count, 502);
      // Newest first: the child and 499 others, then one more and the parent.
      assert.deepEqual(await client.retryJobs({ queue: 'default' }), { count: 502, skipped: 0 });
      assert.equal(await stateOf(client, parent.id), 'pending');
      assert.equal(await stateOf(client, child.id), 'blocked');
      assert.deepEqual(await edgesOf(client, child.id), [[parent.id, 'waiting']]);
    });
  });
}
