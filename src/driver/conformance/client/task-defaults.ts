/**
 * Task contracts across processes: a worker publishes the defaults of the tasks it registers,
 * and a client without the task's code — a producer service — enqueues it by name with those
 * defaults, so the job lands in the queue the task's workers serve. Also the typed contract
 * (`declareTask`) a producer can hold instead of the handler. Part of
 * `runClientConformance`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire } from '../../../core/client.js';
import { InvalidPayloadError, UnknownTaskError } from '../../../core/errors.js';
import { declareTask, defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { isEmail, nextEvent, objectSchema, testPool, until, withClient } from './harness.js';

const REPORT_DEFAULTS = {
  queue: 'reports',
  priority: 4,
  maxAttempts: 7,
  timeoutMs: 45_000,
  backoff: { type: 'fixed', delayMs: 25 },
} as const;

/** The worker side of `report`: runs in queue `reports` with non-default options. */
const reportTask = () =>
  defineTask<{ n: number }, { doubled: number }>({
    name: 'report',
    ...REPORT_DEFAULTS,
    handler: async ({ n }) => ({ doubled: n * 2 }),
  });

export function runTaskDefaultsSuite(factory: ConformanceDatabases): void {
  describe(`task defaults published by workers (${factory.name})`, () => {
    it('a producer without the task enqueues it by name with the worker’s defaults, and the worker runs it', async (t) => {
      const { client: worker, db } = await withClient(t, factory, { tasks: [reportTask()] });
      const producer = await createJobwire({ driver: await db.open(), strictTasks: false, migrate: false });
      t.after(() => producer.close());

      const job = await producer.enqueue('report', { n: 21 });
      const stored = await worker.getJob(job.id);
      assert.ok(stored);
      assert.equal(stored.queue, 'reports');
      assert.equal(stored.priority, 4);
      assert.equal(stored.maxAttempts, 7);
      assert.equal(stored.timeoutMs, 45_000);
      assert.deepEqual(stored.backoff, { type: 'fixed', delayMs: 25 });

      const pool = worker.createPool({ ...testPool, queues: ['reports'] });
      await pool.start();
      assert.deepEqual(await producer.waitForJob(job.id, { timeoutMs: 10_000 }), { doubled: 42 });
      await pool.stop();
    });

    it('explicit enqueue options win over published defaults', async (t) => {
      const { db } = await withClient(t, factory, { tasks: [reportTask()] });
      const producer = await createJobwire({ driver: await db.open(), migrate: false });
      t.after(() => producer.close());
      const job = await producer.enqueue(
        'report',
        { n: 1 },
        { queue: 'urgent', maxAttempts: 2, priority: 0 },
      );
      assert.equal(job.queue, 'urgent');
      assert.equal(job.maxAttempts, 2);
      assert.equal(job.priority, 0);
      assert.equal(job.timeoutMs, 45_000, 'what the call did not set still comes from the task');
      assert.deepEqual(job.backoff, { type: 'fixed', delayMs: 25 });
    });

    it('with strictTasks a published name is known; an unknown one says how to make it known', async (t) => {
      const { db } = await withClient(t, factory, { tasks: [reportTask()] });
      const producer = await createJobwire({ driver: await db.open(), migrate: false });
      t.after(() => producer.close());
      const job = await producer.enqueue('report', { n: 1 });
      assert.equal(job.queue, 'reports');
      await assert.rejects(producer.enqueue('never-published', {}), (error: unknown) => {
        assert.ok(error instanceof UnknownTaskError);
        assert.equal(error.code, 'JOBWIRE_UNKNOWN_TASK');
        assert.match(error.message, /never-published/);
        assert.match(error.message, /published by a worker/);
        assert.match(error.message, /strictTasks: false/);
        return true;
      });
      // Every item of a batch by name gets the defaults; an unknown one refuses the whole batch.
      const jobs = await producer.enqueueMany([
        { task: 'report', payload: { n: 2 } },
        { task: 'report', payload: { n: 3 }, options: { queue: 'other' } },
      ]);
      assert.deepEqual(
        jobs.map((j) => j.queue),
        ['reports', 'other'],
      );
      await assert.rejects(
        producer.enqueueMany([
          { task: 'report', payload: {} },
          { task: 'missing', payload: {} },
        ]),
        UnknownTaskError,
      );
      assert.equal((await producer.listJobs()).jobs.length, 3);
    });

    it('a task registered after the client was created is published when a pool starts', async (t) => {
      const { client: worker, db } = await withClient(t, factory);
      worker.registerTask(reportTask());
      const pool = worker.createPool({ ...testPool, queues: ['reports'] });
      await pool.start();
      const driver = await db.open();
      t.after(() => driver.close());
      await until(
        async () => (await driver.taskGet({ name: 'report' })) !== undefined,
        10_000,
        'publication',
      );
      const stored = await driver.taskGet({ name: 'report' });
      assert.equal(stored?.queue, 'reports');
      assert.equal(stored?.maxAttempts, 7);
      await pool.stop();
    });
  });

  describe(`task contracts without handlers (${factory.name})`, () => {
    const contract = declareTask<{ n: number }, { doubled: number }>({ name: 'report', ...REPORT_DEFAULTS });

    it('a producer enqueues a contract with its defaults; a worker implements and runs it', async (t) => {
      const { client: producer, db } = await withClient(t, factory, { tasks: [contract] });
      const job = await producer.enqueue(contract, { n: 5 });
      assert.equal(job.queue, 'reports');
      assert.equal(job.maxAttempts, 7);
      assert.equal(job.timeoutMs, 45_000);
      // By name too: the contract is registered here.
      assert.equal((await producer.enqueue('report', { n: 6 })).queue, 'reports');

      const worker = await createJobwire({
        driver: await db.open(),
        migrate: false,
        tasks: [contract.implement(async ({ n }) => ({ doubled: n * 2 }))],
      });
      t.after(() => worker.close());
      const pool = worker.createPool({ ...testPool, queues: ['reports'] });
      await pool.start();
      assert.deepEqual(await producer.waitForJob(job.id, { timeoutMs: 10_000 }), { doubled: 10 });
      await pool.stop();
    });

    it('a contract is not run by its holder: its pool treats it as a task it has no handler for', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [contract] });
      const job = await client.enqueue(contract, { n: 1 }, { maxAttempts: 1 });
      const pool = client.createPool({ ...testPool, queues: ['reports'] });
      // Listening before the start: the pool may claim and abandon the job before start() returns.
      const abandoned = nextEvent(client, 'job:abandoned', (e) => e.jobId === job.id);
      await pool.start();
      assert.equal((await abandoned).error.name, 'UnknownTaskError');
      await pool.stop();
      assert.equal(client.getTask('report'), undefined);
      assert.deepEqual(client.taskNames, []);
    });

    it('a contract with a schema validates at enqueue', async (t) => {
      const typed = declareTask({ name: 'typed', schema: objectSchema({ email: isEmail }) });
      const { client } = await withClient(t, factory, { tasks: [typed] });
      await assert.rejects(client.enqueue(typed, { email: 'nope' }), InvalidPayloadError);
      const job = await client.enqueue(typed, { email: 'a@example.com' });
      assert.deepEqual(job.payload, { email: 'a@example.com' });
    });
  });
}
