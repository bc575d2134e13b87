/**
 * Enqueue and queue behaviour every driver must show through the whole client: unique keys,
 * backpressure, atomic batches, schema validation, queue selection with priorities and pauses,
 * and job listing with filters and cursors. Part of `runClientConformance`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire } from '../../../core/client.js';
import { InvalidPayloadError, QueueFullError } from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import {
  coercesToNumber,
  deferred,
  isEmail,
  isNumber,
  nextEvent,
  objectSchema,
  recordEvents,
  testPool,
  until,
  watchCalls,
  withClient,
} from './harness.js';

export function runEnqueueAndQueuesSuite(factory: ConformanceDatabases): void {
  describe(`enqueue, queues and listing (${factory.name})`, () => {
    it('enqueue returns a handle: wait() gives the result; the record serialises as before', async (t) => {
      const double = defineTask({ name: 'double', handler: async ({ n }: { n: number }) => n * 2 });
      const { client } = await withClient(t, factory, { tasks: [double] });
      const job = await client.enqueue(double, { n: 2 });
      const [byTask, byName] = await client.enqueueMany([
        { task: double, payload: { n: 3 } },
        { task: 'double', payload: { n: 4 } },
      ]);
      // `wait` is not part of the record: keys, JSON and spreads are what they were.
      assert.ok(!Object.keys(job).includes('wait'));
      assert.ok(!('wait' in JSON.parse(JSON.stringify(byTask))));
      assert.ok(!('wait' in { ...job }));
      const pool = client.createPool({ ...testPool, concurrency: 2 });
      await pool.start();
      assert.equal(await job.wait({ timeoutMs: 10_000 }), 4);
      assert.equal(await byTask.wait({ timeoutMs: 10_000 }), 6);
      assert.equal(await client.waitForJob(byName, { timeoutMs: 10_000 }), 8);
      await pool.stop();
    });

    it('unique keys: no duplicate while scheduled, pending or running; free again once done', async (t) => {
      const gate = deferred();
      const task = defineTask({ name: 'unique', handler: () => gate.promise });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const recorded = recordEvents(client);
      const first = await client.enqueue(task, { a: 1 }, { uniqueKey: 'report:42' });
      const second = await client.enqueue(task, { a: 2 }, { uniqueKey: 'report:42' });
      assert.equal(first.duplicate, false);
      assert.equal(second.duplicate, true);
      assert.equal(second.id, first.id);
      assert.deepEqual(second.payload, { a: 1 });
      const pool = client.createPool(testPool);
      const started = nextEvent(client, 'job:started');
      await pool.start();
      await started;
      const whileRunning = await client.enqueue(task, { a: 3 }, { uniqueKey: 'report:42' });
      assert.equal(whileRunning.id, first.id);
      gate.resolve();
      await client.waitForJob(first.id);
      const after = await client.enqueue(task, { a: 4 }, { uniqueKey: 'report:42' });
      assert.notEqual(after.id, first.id);
      assert.equal(after.duplicate, false);
      assert.equal(recorded.of('job:queued').length, 2);
      await pool.stop();
    });

    it('backpressure: enqueue beyond maxPending fails with QueueFullError and queue:full; queued jobs are untouched', async (t) => {
      const task = defineTask({ name: 'bp', queue: 'limited', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, {
        tasks: [task],
        queues: { limited: { maxPending: 3 } },
      });
      const full = recordEvents(client);
      for (let i = 0; i < 3; i++) await client.enqueue(task, { i });
      await assert.rejects(client.enqueue(task, { i: 3 }), (error: unknown) => {
        assert.ok(error instanceof QueueFullError);
        assert.equal(error.queue, 'limited');
        assert.equal(error.maxPending, 3);
        assert.equal(error.pending, 3);
        assert.match(error.message, /limited.*full/);
        return true;
      });
      // A batch that would overfill is refused whole.
      await assert.rejects(
        client.enqueueMany([{ task, payload: { i: 4 } }]),
        (error: unknown) => error instanceof QueueFullError,
      );
      const [event] = full.of('queue:full');
      assert.deepEqual(
        { ...event, at: 0 },
        { queue: 'limited', task: 'bp', maxPending: 3, pending: 3, at: 0 },
      );
      const counts = await client.countJobs({ queue: 'limited' });
      assert.equal(counts.pending, 3);
      // Other queues are not limited.
      await client.enqueue(task, { i: 5 }, { queue: 'elsewhere' });
      // Draining makes room again.
      const pool = client.createPool({ ...testPool, queues: ['limited'] });
      await pool.start();
      await until(async () => (await client.countJobs({ queue: 'limited' })).completed === 3);
      await client.enqueue(task, { i: 6 });
      await pool.stop();
    });

    it('enqueueMany is atomic: one invalid item stores nothing', async (t) => {
      const task = defineTask({
        name: 'many',
        schema: objectSchema({ n: isNumber }),
        handler: async () => {},
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const jobs = await client.enqueueMany([
        { task, payload: { n: 1 } },
        { task: 'many', payload: { n: 2 }, options: { priority: 5 } },
      ]);
      assert.equal(jobs.length, 2);
      await assert.rejects(
        client.enqueueMany([
          { task, payload: { n: 3 } },
          // @ts-expect-error the types refuse it too; this checks the run-time validation.
          { task, payload: { n: 'not a number' } },
        ]),
        InvalidPayloadError,
      );
      const counts = await client.countJobs();
      assert.equal(counts.pending, 2);
    });

    it('countJobs({ state }) answers with the states asked for only, as the full count has them', async (t) => {
      const task = defineTask({ name: 'counted', handler: async () => {} });
      const { client } = await withClient(t, factory, { tasks: [task] });
      await client.enqueueMany([
        { task, payload: {} },
        { task, payload: {}, options: { queue: 'other' } },
        { task, payload: {}, options: { delayMs: 60_000 } },
      ]);
      const all = await client.countJobs();
      const some = await client.countJobs({ state: ['pending', 'scheduled', 'running'] });
      assert.deepEqual(some, { pending: all.pending, scheduled: all.scheduled, running: 0 });
      assert.deepEqual(some, { pending: 2, scheduled: 1, running: 0 });
      assert.deepEqual(await client.countJobs({ state: 'pending', queue: 'other' }), { pending: 1 });
    });

    it('validates payloads with a Standard Schema at enqueue and before the run', async (t) => {
      const seen: unknown[] = [];
      const task = defineTask({
        name: 'typed',
        schema: objectSchema({ email: isEmail, count: coercesToNumber }),
        handler: async (payload) => {
          seen.push(payload);
        },
      });
      const { client, db } = await withClient(t, factory, { tasks: [task] });
      await assert.rejects(client.enqueue(task, { email: 'nope', count: 1 }), (error: unknown) => {
        assert.ok(error instanceof InvalidPayloadError);
        assert.match(error.message, /email/);
        assert.ok(error.issues && error.issues.length >= 1);
        return true;
      });
      const job = await client.enqueue(task, { email: 'a@example.com', count: '7' as unknown as number });
      const pool = client.createPool(testPool);
      await pool.start();
      await client.waitForJob(job.id);
      assert.deepEqual(seen, [{ email: 'a@example.com', count: 7 }]);
      // A job stored by a producer without the schema is validated before the run: abandoned, not retried.
      const producer = await createJobwire({ driver: await db.open(), strictTasks: false });
      t.after(() => producer.close());
      const bad = await producer.enqueue('typed', { email: 'not-an-email', count: 1 });
      const abandoned = await nextEvent(client, 'job:abandoned', (e) => e.jobId === bad.id);
      assert.equal(abandoned.reason, 'unrecoverable');
      assert.match(abandoned.error.message, /payload rejected before the run/);
      assert.equal(seen.length, 1);
      await pool.stop();
    });

    it('serves only its queues, highest priority first, and skips paused queues', async (t) => {
      const order: number[] = [];
      const task = defineTask<{ p: number }>({
        name: 'prio',
        handler: async ({ p }) => {
          order.push(p);
        },
      });
      let claims!: ReturnType<typeof watchCalls<'jobClaim'>>;
      const { client } = await withClient(t, factory, {
        tasks: [task],
        wrapDriver: (driver) => {
          claims = watchCalls(driver, 'jobClaim');
          return claims.driver;
        },
      });
      const recorded = recordEvents(client);
      for (const p of [1, 5, 3]) await client.enqueue(task, { p }, { priority: p, queue: 'a' });
      await client.enqueue(task, { p: 100 }, { queue: 'b', priority: 100 });
      assert.equal(await client.pauseQueue('a'), true);
      assert.equal(await client.pauseQueue('a'), false);
      const pool = client.createPool({ ...testPool, queues: ['a'], concurrency: 1 });
      const firstRound = claims.nextCall();
      await pool.start();
      // A claim round of the started pool ran and took nothing from the paused queue.
      assert.deepEqual(await firstRound, []);
      assert.deepEqual(order, []);
      assert.equal(await client.resumeQueue('a'), true);
      await until(() => order.length === 3);
      assert.deepEqual(order, [5, 3, 1]);
      const queues = await client.listQueues();
      assert.equal(queues.find((q) => q.name === 'b')!.counts.pending, 1);
      assert.deepEqual(
        recorded.names().filter((n) => n.startsWith('queue:')),
        ['queue:paused', 'queue:resumed'],
      );
      await pool.stop();
    });

    it('lists jobs with filters and cursors, newest first', async (t) => {
      const task = defineTask({ name: 'listed', handler: async () => {} });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const jobs = await client.enqueueMany(
        Array.from({ length: 25 }, (_, i) => ({
          task,
          payload: { i },
          options: { queue: i % 2 ? 'odd' : 'even' },
        })),
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof client.listJobs>> = await client.listJobs({
          queue: 'odd',
          limit: 5,
          cursor,
        });
        seen.push(...page.jobs.map((j) => j.id));
        cursor = page.nextCursor;
      } while (cursor);
      const odd = jobs
        .filter((_, i) => i % 2)
        .map((j) => j.id)
        .reverse();
      assert.deepEqual(seen, odd);
      const cancelled = await client.cancelJob(jobs[0]!.id);
      assert.equal(cancelled, true);
      const { jobs: cancelledJobs } = await client.listJobs({ state: 'cancelled' });
      assert.deepEqual(
        cancelledJobs.map((j) => j.id),
        [jobs[0]!.id],
      );
      assert.equal(await client.deleteJob(jobs[1]!.id), true);
      assert.equal(await client.getJob(jobs[1]!.id), undefined);
    });
  });
}
