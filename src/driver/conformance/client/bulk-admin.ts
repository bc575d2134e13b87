/**
 * Retry and cancel by filter (`retryJobs`, `cancelJobs`) through the whole client: they page
 * through the listing, act only on the jobs the filter matches, and report each job by the
 * event its one-job method emits. Part of `runClientConformance`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import { JOB_LIST_SCAN_CAP } from '../../records.js';
import type { ConformanceDatabases } from './databases.js';
import { deferred, nextEvent, recordEvents, testPool, until, withClient } from './harness.js';

export function runBulkAdminSuite(factory: ConformanceDatabases): void {
  describe(`retry and cancel by filter (${factory.name})`, () => {
    it('cancelJobs then retryJobs act on every page of matching jobs and on nothing else', async (t) => {
      const bulk = defineTask({ name: 'bulk', queue: 'bulk', handler: async () => 'ok' });
      const other = defineTask({ name: 'other', queue: 'other', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [bulk, other] });
      // More than two pages of 500, so the paging is exercised.
      const count = 1_100;
      await client.enqueueMany(Array.from({ length: count }, (_, i) => ({ task: bulk, payload: { i } })));
      await client.enqueueMany(Array.from({ length: 3 }, (_, i) => ({ task: other, payload: { i } })));
      await client.enqueue(bulk, { later: true }, { delayMs: 3_600_000 });
      const recorded = recordEvents(client);

      const cancelled = await client.cancelJobs({ queue: 'bulk', state: 'pending' });
      assert.deepEqual(cancelled, { count, skipped: 0 });
      assert.equal(recorded.of('job:cancelled').length, count);
      assert.ok(
        recorded.of('job:cancelled').every((e) => e.previousState === 'pending' && e.queue === 'bulk'),
      );
      assert.equal((await client.countJobs({ queue: 'bulk' })).cancelled, count);
      assert.equal(
        (await client.countJobs({ queue: 'bulk' })).scheduled,
        1,
        'a scheduled job is not pending',
      );
      assert.equal((await client.countJobs({ queue: 'other' })).pending, 3, 'another queue is untouched');

      const retried = await client.retryJobs({ queue: 'bulk' });
      assert.deepEqual(retried, { count, skipped: 0 });
      assert.equal(recorded.of('job:retried').length, count);
      assert.ok(recorded.of('job:retried').every((e) => e.previousState === 'cancelled' && e.attempt === 0));
      const counts = await client.countJobs({ queue: 'bulk' });
      assert.equal(counts.pending, count);
      assert.equal(counts.cancelled, 0);

      // Nothing matches now: no write, no event.
      assert.deepEqual(await client.retryJobs({ queue: 'bulk', state: 'abandoned' }), {
        count: 0,
        skipped: 0,
      });
      assert.deepEqual(await client.cancelJobs({ task: 'nobody' }), { count: 0, skipped: 0 });
    });

    it('cancelJobs aborts running jobs; retryJobs leaves completed jobs alone unless asked', async (t) => {
      const gate = deferred();
      const seen: unknown[] = [];
      const slow = defineTask({
        name: 'slow',
        handler: (_payload, { signal }) =>
          new Promise((resolve, reject) => {
            gate.promise.then(() => resolve('done'));
            signal.addEventListener('abort', () => {
              seen.push(signal.reason);
              reject(signal.reason);
            });
          }),
      });
      const quick = defineTask({ name: 'quick', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [slow, quick] });
      const done = await client.enqueue(quick, {});
      const pool = client.createPool({ ...testPool, concurrency: 2 });
      await pool.start();
      await client.waitForJob(done.id);
      const started = nextEvent(client, 'job:started');
      const running = await client.enqueue(slow, {});
      await started;

      const cancelled = await client.cancelJobs({ task: 'slow', state: 'running' });
      assert.deepEqual(cancelled, { count: 1, skipped: 0 });
      await assert.rejects(client.waitForJob(running.id));
      // The worker hears of the cancel through the driver's notifier: on PostgreSQL a NOTIFY that
      // may arrive after the cancel's own reply.
      await until(() => seen.length === 1, 10_000, "the running job's signal to fire");
      assert.equal(seen.length, 1, "the running job's signal fired once");
      gate.resolve();
      await pool.stop();

      assert.deepEqual(await client.retryJobs({}), { count: 1, skipped: 0 }, 'the cancelled job only');
      assert.equal((await client.getJob(done.id))?.state, 'completed');
      assert.deepEqual(await client.retryJobs({ state: 'completed' }), { count: 1, skipped: 0 });
      assert.equal((await client.getJob(done.id))?.state, 'pending');
    });

    it("a hand retry wakes this process's pools at once, not at their next poll", async (t) => {
      let runs = 0;
      const task = defineTask({
        name: 'again',
        handler: async () => {
          runs++;
          return runs;
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      // The poll would come after 60 s: only a wake-up starts the retried jobs sooner.
      const pool = client.createPool({ ...testPool, pollIntervalMs: 60_000 });
      await pool.start();
      const one = await client.enqueue(task, {});
      const two = await client.enqueue(task, {});
      await client.waitForJob(one.id, { timeoutMs: 5000 });
      await client.waitForJob(two.id, { timeoutMs: 5000 });
      await client.retryJob(one.id);
      assert.equal(await client.waitForJob(one.id, { timeoutMs: 5000 }), 3);
      await client.retryJobs({ state: 'completed' });
      await client.waitForJob(one.id, { timeoutMs: 5000 });
      await client.waitForJob(two.id, { timeoutMs: 5000 });
      assert.equal(runs, 5);
      await pool.stop();
    });

    it('cancelJobs and retryJobs reach matching jobs under more than JOB_LIST_SCAN_CAP newer ones', async (t) => {
      const old = defineTask({ name: 'old', queue: 'old', handler: async () => 'ok' });
      const filler = defineTask({ name: 'filler', queue: 'filler', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [old, filler] });
      await client.enqueueMany(Array.from({ length: 3 }, (_, i) => ({ task: old, payload: { i } })));
      // The listing reads at most JOB_LIST_SCAN_CAP jobs a call: its first pages come back empty,
      // with a cursor, and the bulk operations must page on past them.
      for (const chunk of [JOB_LIST_SCAN_CAP / 2, JOB_LIST_SCAN_CAP / 2, 10]) {
        await client.enqueueMany(Array.from({ length: chunk }, (_, i) => ({ task: filler, payload: { i } })));
      }
      const first = await client.listJobs({ queue: 'old' });
      assert.deepEqual(first.jobs, []);
      assert.notEqual(first.nextCursor, null);

      assert.deepEqual(await client.cancelJobs({ queue: 'old' }), { count: 3, skipped: 0 });
      assert.deepEqual(await client.retryJobs({ queue: 'old' }), { count: 3, skipped: 0 });
      assert.equal((await client.countJobs({ queue: 'old' })).pending, 3);
      assert.equal((await client.countJobs({ queue: 'filler' })).pending, JOB_LIST_SCAN_CAP + 10);
    });

    it('bad filters are refused before any query', async (t) => {
      const { client } = await withClient(t, factory);
      await assert.rejects(client.retryJobs({ state: 'pending' }), InvalidOptionError);
      await assert.rejects(client.cancelJobs({ state: 'completed' }), InvalidOptionError);
      await assert.rejects(client.cancelJobs({ queue: '' }), InvalidOptionError);
      await assert.rejects(client.retryJobs('abandoned' as never), InvalidOptionError);
    });
  });
}
