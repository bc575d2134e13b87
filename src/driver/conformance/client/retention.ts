/**
 * Retention on every driver, through the client: the leader's pruner deletes finished jobs past
 * their age or count (defaults, per-state and per-queue rules, `false` to keep all), and
 * `deleteJobs` purges by hand. Time is a manual clock: nothing waits for a day to pass.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire, Jobwire } from '../../../core/client.js';
import { InvalidOptionError, JobNotFoundError } from '../../../core/errors.js';
import { clientInternals } from '../../../core/internals.js';
import type { Pruner } from '../../../core/leader/pruner.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { ManualClock, testPool, withClient } from './harness.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const ok = defineTask({ name: 'retention.ok', handler: async () => 'done' });
const failing = defineTask({
  name: 'retention.fail',
  maxAttempts: 1,
  handler: async () => {
    throw new Error('no');
  },
});
const reports = defineTask({ name: 'retention.report', queue: 'reports', handler: async () => 'ok' });

const tasks = [ok, failing, reports];
const maintenance = { rescueIntervalMs: 20, leaderTtlMs: 1000, outageGraceMs: 0 };

/**
 * Start a pool on a queue no job uses: it keeps the client's elector running across the pools
 * `finish` starts and stops (a client stops electing when its last pool stops).
 */
async function keepElecting(client: Jobwire): Promise<Jobwire> {
  await client.createPool({ ...testPool, queues: ['retention-idle'] }).start();
  return client;
}

/** Run `count` jobs of `task` to their end (completed or abandoned) at the clock's time. */
async function finish(client: Jobwire, task: typeof ok | typeof failing | typeof reports, count: number) {
  const jobs = [];
  for (let i = 0; i < count; i++) jobs.push(await client.enqueue(task, {}));
  const pool = client.createPool({ ...testPool, queues: ['default', 'reports'] });
  await pool.start();
  await Promise.all(jobs.map((job) => client.waitForJob(job.id).catch(() => undefined)));
  await pool.stop();
  return jobs.map((job) => job.id);
}

async function prune(client: Jobwire): Promise<Pruner> {
  const { leader } = clientInternals(client);
  await leader.runOnce();
  assert.equal(leader.isLeader, true);
  const pruner = leader.services.find((service) => service.name === 'pruner') as Pruner | undefined;
  assert.ok(pruner, 'the pruner runs on the leader');
  // Directly: runOnce may have joined a timer's cycle, which runs only the services that are due.
  await pruner.runOnce();
  return pruner;
}

export function runRetentionSuite(factory: ConformanceDatabases): void {
  describe(`retention (${factory.name})`, () => {
    it('by default the leader prunes completed jobs after a day, abandoned after thirty', async (t) => {
      const clock = new ManualClock();
      const client = await keepElecting((await withClient(t, factory, { tasks, clock, maintenance })).client);
      const completed = await finish(client, ok, 3);
      const abandoned = await finish(client, failing, 2);
      clock.advance(DAY - 1000);
      await prune(client);
      assert.equal((await client.countJobs()).completed, 3, 'younger than a day: kept');
      clock.advance(2000);
      await prune(client);
      for (const id of completed) assert.equal(await client.getJob(id), undefined);
      assert.equal((await client.countJobs()).abandoned, 2);
      clock.advance(30 * DAY);
      await prune(client);
      for (const id of abandoned) assert.equal(await client.getJob(id), undefined);
    });

    it('per-queue rules override the global ones; maxCount keeps the newest', async (t) => {
      const clock = new ManualClock();
      const { client } = await withClient(t, factory, {
        tasks,
        clock,
        maintenance,
        retention: { completed: { maxCount: 2 }, queues: { reports: { completed: '1h' } } },
      });
      await keepElecting(client);
      const older = await finish(client, ok, 2);
      clock.advance(1000);
      const newer = await finish(client, ok, 2);
      await finish(client, reports, 2);
      await prune(client);
      assert.equal(await client.getJob(older[0]!), undefined, 'beyond the newest two: pruned');
      assert.equal(await client.getJob(older[1]!), undefined);
      for (const id of newer) assert.ok(await client.getJob(id), 'the newest two stay');
      assert.equal((await client.countJobs({ queue: 'reports' })).completed, 2, 'reports has its own rule');
      clock.advance(HOUR + 1);
      await prune(client);
      assert.equal((await client.countJobs({ queue: 'reports' })).completed, 0);
      assert.equal((await client.countJobs({ queue: 'default' })).completed, 2);
    });

    it('maxCount keeps at least the newest N when they finished in the same millisecond (one outcome batch)', async (t) => {
      const clock = new ManualClock();
      const { client } = await withClient(t, factory, {
        tasks,
        clock,
        maintenance,
        retention: { completed: { maxCount: 2 } },
      });
      await keepElecting(client);
      const older = await finish(client, ok, 3);
      clock.advance(1000);
      // Written together, these share one finish time: the newest two are among them.
      const newer = await finish(client, ok, 4);
      await prune(client);
      for (const id of older) assert.equal(await client.getJob(id), undefined, 'older than the newest two');
      for (const id of newer) assert.ok(await client.getJob(id), 'finished with the newest two: kept');
      assert.equal((await client.countJobs()).completed, newer.length);
    });

    it('retention: false and 0 keep finished jobs forever', async (t) => {
      const clock = new ManualClock();
      const { client } = await withClient(t, factory, { tasks, clock, maintenance, retention: false });
      await finish(client, ok, 1);
      clock.advance(365 * DAY);
      const { leader } = clientInternals(client);
      await leader.runOnce();
      // The pruner runs (it keeps a day of deleted completions' counts) but has no rule.
      const pruner = leader.services.find((s) => s.name === 'pruner') as Pruner | undefined;
      assert.deepEqual(pruner?.lastReport?.deleted, { completed: 0, abandoned: 0, cancelled: 0 });
      assert.equal((await client.countJobs()).completed, 1);

      const other = await withClient(t, factory, { tasks, clock, maintenance, retention: { completed: 0 } });
      await keepElecting(other.client);
      await finish(other.client, ok, 1);
      clock.advance(365 * DAY);
      await prune(other.client);
      assert.equal((await other.client.countJobs()).completed, 1);
    });

    it('a pruner with a backlog works within its time budget and comes back at the next tick', async (t) => {
      const clock = new ManualClock();
      const { client } = await withClient(t, factory, {
        tasks,
        clock,
        maintenance: { rescueIntervalMs: 5000, leaderTtlMs: 20_000, outageGraceMs: 0 },
        retention: { completed: '1s', batchSize: 1, maxRunMs: 1, intervalMs: 60_000 },
      });
      await keepElecting(client);
      await finish(client, ok, 4);
      clock.advance(5000);
      const pruner = await prune(client);
      // A budget of 1 ms with one row per batch cannot finish four rows in one go on any database.
      assert.equal(pruner.lastReport?.more, true);
      assert.equal(pruner.intervalMs, 5000, 'behind: runs at every leader tick');
      // Each run deletes at least one row before its budget runs out: the backlog drains.
      for (let i = 0; i < 20 && (await client.countJobs()).completed > 0; i++) await prune(client);
      assert.equal((await client.countJobs()).completed, 0);
    });

    it('deleteJobs purges finished jobs by state, queue and age; never active ones', async (t) => {
      const clock = new ManualClock();
      const { client } = await withClient(t, factory, { tasks, clock, maintenance, retention: false });
      await finish(client, ok, 2);
      await finish(client, failing, 1);
      clock.advance(8 * DAY);
      await finish(client, ok, 1);
      const waiting = await client.enqueue(ok, {});
      assert.equal(await client.deleteJobs({ state: 'completed', olderThan: '7d' }), 2);
      assert.equal(await client.deleteJobs({ state: 'completed', queue: 'reports' }), 0);
      assert.equal(await client.deleteJobs(), 2, 'the abandoned one and the recent completed one');
      assert.equal((await client.getJob(waiting.id))?.state, 'pending');
      for (const [filter, field] of [
        [{ state: 'pending' }, 'state'],
        [{ olderThan: '7 days' }, 'olderThan'],
        [{ queue: 'not a queue' }, 'queue'],
        [{ finishedBefore: Number.NaN }, 'finishedBefore'],
      ] as const) {
        await assert.rejects(
          client.deleteJobs(filter as never),
          (err: unknown) => err instanceof InvalidOptionError && err.field === field,
        );
      }
      assert.equal((await client.getJob(waiting.id))?.state, 'pending');
    });

    it("completed: 'immediately' deletes completed rows as they complete; waits, stats and the log still see them", async (t) => {
      const { client, db } = await withClient(t, factory, {
        tasks,
        maintenance,
        retention: { completed: 'immediately', queues: { reports: { completed: '1h' } } },
      });
      const [gone] = await finish(client, ok, 1);
      const [kept] = await finish(client, reports, 1);
      const [failed] = await finish(client, failing, 1);
      assert.equal(await client.getJob(gone!), undefined, 'deleted as it completed');
      assert.equal((await client.getJob(kept!))?.state, 'completed', "the queue's own rule keeps it");
      assert.equal((await client.getJob(failed!))?.state, 'abandoned', 'only completed jobs go');
      assert.equal(await client.waitForJob(gone!), 'done');
      assert.deepEqual(
        (await client.jobEvents(gone!)).map((e) => e.type),
        ['job:queued', 'job:started', 'job:completed'],
      );
      // Another process, which never saw the job run: its result comes from the log.
      const other = await createJobwire({ driver: await db.open(), tasks });
      try {
        assert.equal(await other.waitForJob(gone!, { timeoutMs: 5000 }), 'done');
        const stats = Object.fromEntries((await other.queueStats()).map((s) => [s.queue, s.completed]));
        assert.deepEqual(stats, { default: 1, reports: 1 });
      } finally {
        await other.close();
      }
    });

    it("completed: 'immediately' without the event log: a wait elsewhere says why the job is gone", async (t) => {
      const { client, db } = await withClient(t, factory, {
        tasks,
        maintenance,
        events: { log: false },
        retention: { completed: 'immediately' },
      });
      const [gone] = await finish(client, ok, 1);
      const other = await createJobwire({ driver: await db.open(), tasks, events: { log: false } });
      try {
        await assert.rejects(
          other.waitForJob(gone!, { timeoutMs: 5000 }),
          (err: unknown) => err instanceof JobNotFoundError && /immediately/.test(err.message),
        );
      } finally {
        await other.close();
      }
    });

    it('bad retention options are refused at creation, naming the field', async (t) => {
      const db = await factory.create();
      const driver = await db.open();
      t.after(async () => {
        await driver.close();
        await db.cleanup();
      });
      for (const [retention, field] of [
        [{ completed: '1 week' }, 'retention.completed'],
        [{ abandoned: { maxCount: -1 } }, 'retention.abandoned.maxCount'],
        [
          { queues: { reports: { cancelled: { maxAge: 'soon' } } } },
          'retention.queues.reports.cancelled.maxAge',
        ],
        [{ batchSize: 0 }, 'retention.batchSize'],
        [{ batchTargetMs: 0 }, 'retention.batchTargetMs'],
        [{ batchTargetMs: 2.5 }, 'retention.batchTargetMs'],
        // Only completed jobs may go as they finish: failed ones are kept to be looked at.
        [{ abandoned: 'immediately' }, 'retention.abandoned'],
        [{ queues: { reports: { cancelled: 'immediately' } } }, 'retention.queues.reports.cancelled'],
        [{ completed: 'immediate' }, 'retention.completed'],
      ] as const) {
        assert.throws(
          () => new Jobwire({ driver, retention: retention as never }),
          (err: unknown) => err instanceof InvalidOptionError && err.field === field,
          JSON.stringify(retention),
        );
      }
    });
  });
}
