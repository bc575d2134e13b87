/**
 * Bad input gets a clear, typed error and loses nothing — on every driver.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire } from '../../../core/client.js';
import {
  InvalidOptionError,
  InvalidPayloadError,
  JobNotFoundError,
  PayloadTooLargeError,
  StorageError,
  UnknownTaskError,
} from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import { runBadInputMatrix } from './bad-input-matrix.js';
import type { ConformanceDatabases } from './databases.js';
import { nextEvent, testPool, until, withClient } from './harness.js';
import { runUnknownOptionsSuite } from './unknown-options.js';

export function runBadInputSuite(factory: ConformanceDatabases): void {
  runBadInputMatrix(factory);
  runUnknownOptionsSuite(factory);
  describe(`bad input (${factory.name})`, () => {
    it('rejects invalid enqueue options with InvalidOptionError naming the field, storing nothing', async (t) => {
      const task = defineTask({ name: 'opts', handler: async () => {} });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const cases: [Record<string, unknown>, string][] = [
        [{ priority: 1.5 }, 'priority'],
        [{ maxAttempts: 0 }, 'maxAttempts'],
        [{ maxAttempts: 'three' }, 'maxAttempts'],
        [{ timeoutMs: -1 }, 'timeoutMs'],
        [{ delayMs: Number.NaN }, 'delayMs'],
        [{ runAt: new Date('not a date') }, 'runAt'],
        [{ queue: 'has spaces' }, 'queue'],
        [{ queue: '' }, 'queue'],
        [{ backoff: { type: 'linear' } }, 'backoff.type'],
        [{ backoff: { type: 'fixed', delayMs: -5 } }, 'backoff.delayMs'],
        [{ backoff: () => 10 }, 'backoff'],
        [{ uniqueKey: '' }, 'uniqueKey'],
        [{ metadata: [1, 2] }, 'metadata'],
        [{ priorty: 3 }, 'priorty'],
      ];
      for (const [options, field] of cases) {
        await assert.rejects(client.enqueue(task, {}, options as never), (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError, `${JSON.stringify(options)} → ${String(error)}`);
          assert.equal(error.field, field);
          assert.equal(error.code, 'JOBWIRE_INVALID_OPTION');
          return true;
        });
      }
      assert.throws(() => client.createPool({ concurrency: 0 }), /concurrency/);
      assert.throws(() => client.createPool({ queues: [] }), /queues/);
      assert.throws(
        () => client.createPool({ directStarts: 'yes' as unknown as boolean }),
        (error: unknown) => error instanceof InvalidOptionError && error.field === 'directStarts',
      );
      assert.throws(
        () => client.createPool({ leaseMs: 1000, heartbeatIntervalMs: 1000 }),
        /heartbeatIntervalMs/,
      );
      assert.throws(() => defineTask({ name: 'bad name!', handler: async () => {} }), InvalidOptionError);
      assert.throws(() => defineTask({ name: 'x', handler: 'nope' as never }), /handler/);
      const counts = await client.countJobs();
      assert.equal(
        Object.values(counts).reduce((a, b) => a + b, 0),
        0,
      );
    });

    it('rejects an unknown task with UnknownTaskError listing the known ones', async (t) => {
      const task = defineTask({ name: 'known', handler: async () => {} });
      const { client } = await withClient(t, factory, { tasks: [task] });
      await assert.rejects(client.enqueue('unknown-task', {}), (error: unknown) => {
        assert.ok(error instanceof UnknownTaskError);
        assert.match(error.message, /unknown-task.*known/);
        return true;
      });
    });

    it('a job for a task this worker does not know fails like any attempt and is kept', async (t) => {
      const { client, db } = await withClient(t, factory, {
        tasks: [defineTask({ name: 'here', handler: async () => {} })],
      });
      const producer = await createJobwire({ driver: await db.open(), strictTasks: false, migrate: false });
      const job = await producer.enqueue('elsewhere', { x: 1 }, { maxAttempts: 1 });
      await producer.close();
      const pool = client.createPool(testPool);
      // Listening before the start: the pool may claim and abandon the job before start() returns.
      const ended = nextEvent(client, 'job:abandoned');
      await pool.start();
      const abandoned = await ended;
      assert.equal(abandoned.jobId, job.id);
      assert.equal(abandoned.error.name, 'UnknownTaskError');
      const stored = await client.getJob(job.id);
      assert.equal(stored!.state, 'abandoned');
      assert.deepEqual(stored!.payload, { x: 1 });
      await pool.stop();
    });

    it('rejects payloads JSON cannot hold and payloads over the size limit', async (t) => {
      const task = defineTask({ name: 'payloads', handler: async () => {} });
      const { client } = await withClient(t, factory, { tasks: [task], maxPayloadBytes: 1024 });
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      await assert.rejects(client.enqueue(task, circular), InvalidPayloadError);
      await assert.rejects(client.enqueue(task, { big: 10n }), InvalidPayloadError);
      await assert.rejects(
        client.enqueue(task, () => 1),
        InvalidPayloadError,
      );
      await assert.rejects(client.enqueue(task, { text: 'x'.repeat(2000) }), (error: unknown) => {
        assert.ok(error instanceof PayloadTooLargeError);
        assert.equal(error.limitBytes, 1024);
        assert.ok(error.bytes > 2000);
        return true;
      });
      // Multi-byte characters count as bytes, not characters.
      await assert.rejects(client.enqueue(task, { text: 'é'.repeat(600) }), PayloadTooLargeError);
      const ok = await client.enqueue(task, { text: 'é'.repeat(400) });
      assert.equal((await client.getJob(ok.id))!.payload && true, true);
      const counts = await client.countJobs();
      assert.equal(counts.pending, 1);
      // The default limit is 1 MiB.
      const { client: defaults } = await withClient(t, factory, { tasks: [task] });
      await assert.rejects(defaults.enqueue(task, { text: 'x'.repeat(1024 * 1024) }), PayloadTooLargeError);
    });

    it('stores whatever a handler throws as a bounded, readable error', async (t) => {
      const circular: Record<string, unknown> = { kind: 'circular' };
      circular.self = circular;
      const hostile = {
        get message() {
          throw new Error('getter');
        },
      };
      const throws: unknown[] = [
        'a plain string',
        undefined,
        null,
        circular,
        new Error('m'.repeat(10 * 1024 * 1024)),
        hostile,
        42,
      ];
      const task = defineTask<{ i: number }>({
        name: 'thrower',
        maxAttempts: 1,
        handler: async ({ i }) => {
          throw throws[i];
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const pool = client.createPool(testPool);
      await pool.start();
      const jobs = await client.enqueueMany(throws.map((_, i) => ({ task, payload: { i } })));
      await until(
        async () => (await client.countJobs()).abandoned === throws.length,
        10_000,
        'all abandoned',
      );
      const stored = await Promise.all(jobs.map(async (j) => (await client.getJob(j.id))!.errors[0]!));
      assert.equal(stored[0]!.message, 'a plain string');
      assert.equal(stored[0]!.name, 'NonError');
      assert.match(stored[1]!.message, /undefined/);
      assert.match(stored[2]!.message, /null/);
      assert.match(stored[3]!.message, /non-Error value/);
      assert.ok(stored[4]!.message.length < 5000, 'a 10 MB message is capped');
      assert.match(stored[4]!.message, /characters cut/);
      assert.equal(stored[4]!.name, 'Error');
      assert.ok(stored[4]!.stack === undefined || stored[4]!.stack.length < 9000);
      assert.equal(typeof stored[5]!.message, 'string');
      assert.match(stored[6]!.message, /42/);
      await pool.stop();
    });

    it('administering a missing job says so', async (t) => {
      const { client } = await withClient(t, factory);
      await assert.rejects(client.retryJob('987654321'), JobNotFoundError);
      await assert.rejects(client.cancelJob('987654321'), JobNotFoundError);
      // Waiting says what may explain it: most often, the enqueue's transaction is still open.
      await assert.rejects(
        client.waitForJob('987654321'),
        (error: unknown) =>
          error instanceof JobNotFoundError && /after that transaction commits/.test(error.message),
      );
      assert.equal(await client.deleteJob('987654321'), false);
      assert.equal(await client.getJob('987654321'), undefined);
    });

    it('a storage outage while finishing jobs: outcomes are kept and written later, claiming resumes', async (t) => {
      const db = await factory.create();
      const real = await db.open();
      let down = true;
      let refused = 0;
      // The same driver, except that finishing jobs fails while the "database" is down.
      const driver = new Proxy(real, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop === 'jobFinalizeMany') {
            return async (params: Parameters<typeof real.jobFinalizeMany>[0]) => {
              if (down) {
                refused++;
                throw new StorageError('simulated outage: the database went away');
              }
              return target.jobFinalizeMany(params);
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const noop = defineTask({ name: 'noop', handler: async () => {} });
      const client = await createJobwire({ driver, tasks: [noop] });
      t.after(async () => {
        await client.close();
        await db.cleanup();
      });
      const total = 4000;
      for (let start = 0; start < total; start += 1000) {
        await client.enqueueMany(
          Array.from({ length: 1000 }, (_, i) => ({ task: noop, payload: { i: start + i } })),
        );
      }
      const errors: string[] = [];
      client.events.on('pool:error', (e) => errors.push(e.operation));
      // No poll within the test: only the pool's own bookkeeping can restart claiming.
      const pool = client.createPool({ ...testPool, pollIntervalMs: 600_000 });
      await pool.start();
      await until(() => refused > 0 && errors.includes('finalize'), 10_000, 'a refused write');
      // The outage lasts through a retry of the refused write before the database is back.
      await until(() => refused >= 2, 10_000, 'a refused retry');
      down = false;
      await until(async () => (await client.countJobs()).completed === total, 20_000, 'every job completed');
      await pool.stop();
      const counts = await client.countJobs();
      assert.equal(counts.completed, total);
      assert.equal(counts.running + counts.pending, 0);
    });
  });
}
