/**
 * The client as a facade over services, on every driver: admin changes are events (`job:retried`,
 * `job:cancelled` with the job's real attempt numbers), error codes have classes, leadership
 * changes are events, a leader service's failure is `service:error` (never `pool:error`), and the
 * client's own inserts raise in-process wake-ups.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire } from '../../../core/client.js';
import {
  InvalidOptionError,
  JobNotRetryableError,
  JobwireError,
  StorageError,
  UnrecoverableError,
  WaitAbortedError,
  WaitTimeoutError,
} from '../../../core/errors.js';
import type { JobwireEvents } from '../../../core/events.js';
import { clientInternals } from '../../../core/internals.js';
import type { Logger } from '../../../core/runtime.js';
import { defineTask } from '../../../core/task.js';
import type { Driver } from '../../driver.js';
import type { ConformanceDatabases } from './databases.js';
import { deferred, nextEvent, recordEvents, testPool, withClient } from './harness.js';

/** A client whose driver is `wrap(driver)`, on a fresh database, closed when the test ends. */
async function withWrappedDriver(
  t: { after(fn: () => Promise<void>): void },
  factory: ConformanceDatabases,
  wrap: (driver: Driver) => Driver,
  options: Omit<Parameters<typeof createJobwire>[0], 'driver'> = {},
) {
  const db = await factory.create();
  const client = await createJobwire({ ...options, driver: wrap(await db.open()) });
  t.after(async () => {
    await client.close();
    await db.cleanup();
  });
  return client;
}

/** Resolves when the signal aborts (a handler that runs until it is told to stop). */
const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

export function runClientServicesSuite(factory: ConformanceDatabases): void {
  describe(`client services (${factory.name})`, () => {
    it('retryJob emits job:retried between job:abandoned and the next job:started', async (t) => {
      let runs = 0;
      const task = defineTask({
        name: 'flaky',
        maxAttempts: 2,
        handler: async () => {
          runs++;
          if (runs === 1) throw new UnrecoverableError('first run fails for good');
          return 'ok';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const recorded = recordEvents(client);
      const pool = client.createPool(testPool);
      await pool.start();
      const abandoned = nextEvent(client, 'job:abandoned');
      const job = await client.enqueue(task, {});
      await abandoned;

      const completed = nextEvent(client, 'job:completed', (e) => e.jobId === job.id);
      const retried = await client.retryJob(job.id);
      await completed;
      await pool.stop();

      const [event] = recorded.of('job:retried');
      assert.ok(event, 'job:retried was emitted');
      assert.equal(event.jobId, job.id);
      assert.equal(event.task, 'flaky');
      assert.equal(event.queue, 'default');
      assert.equal(event.correlationId, job.correlationId);
      assert.equal(event.previousState, 'abandoned');
      assert.equal(event.attempt, 0, 'a fresh set of attempts');
      assert.equal(event.maxAttempts, 2);
      assert.equal(event.runAt, retried.runAt.getTime());
      assert.equal(typeof event.at, 'number');
      const forJob = recorded.all
        .filter((e) => (e.event as { jobId?: string }).jobId === job.id && e.name.startsWith('job:'))
        .map((e) => e.name);
      assert.deepEqual(forJob, [
        'job:queued',
        'job:started',
        'job:failed',
        'job:abandoned',
        'job:retried',
        'job:started',
        'job:completed',
      ]);
    });

    it('job:cancelled carries the attempt numbers of the job, waiting or running', async (t) => {
      const gate = deferred();
      const task = defineTask({
        name: 'cancellable',
        maxAttempts: 4,
        handler: async (_payload, context) => {
          gate.resolve();
          await untilAborted(context.signal);
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const recorded = recordEvents(client);

      const waiting = await client.enqueue(task, {}, { delayMs: 60_000 });
      assert.equal(await client.cancelJob(waiting.id), true);

      const pool = client.createPool(testPool);
      await pool.start();
      const running = await client.enqueue(task, {});
      await gate.promise;
      assert.equal(await client.cancelJob(running.id), true);
      await pool.stop();

      const cancelled = recorded.of('job:cancelled');
      const byId = (id: string) => cancelled.find((e) => e.jobId === id);
      assert.deepEqual(
        { ...byId(waiting.id), at: 0 },
        {
          jobId: waiting.id,
          task: 'cancellable',
          queue: 'default',
          correlationId: waiting.correlationId,
          attempt: 0,
          maxAttempts: 4,
          previousState: 'scheduled',
          at: 0,
        },
      );
      assert.equal(byId(running.id)?.attempt, 1, 'the running attempt');
      assert.equal(byId(running.id)?.maxAttempts, 4);
      assert.equal(byId(running.id)?.previousState, 'running');
    });

    it('NOT_RETRYABLE, WAIT_TIMEOUT and WAIT_ABORTED are thrown as their own JobwireError classes', async (t) => {
      const task = defineTask({ name: 'idle', handler: async () => {} });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const job = await client.enqueue(task, {});

      await assert.rejects(client.retryJob(job.id), (error: unknown) => {
        assert.ok(error instanceof JobNotRetryableError, String(error));
        assert.ok(error instanceof JobwireError);
        assert.equal(error.code, 'JOBWIRE_NOT_RETRYABLE');
        assert.match(error.message, /is pending/);
        return true;
      });
      await assert.rejects(client.waitForJob(job.id, { timeoutMs: 1 }), (error: unknown) => {
        assert.ok(error instanceof WaitTimeoutError, String(error));
        assert.ok(error instanceof JobwireError);
        assert.equal(error.code, 'JOBWIRE_WAIT_TIMEOUT');
        return true;
      });
      await assert.rejects(client.waitForJob(job.id, { signal: AbortSignal.abort() }), (error: unknown) => {
        assert.ok(error instanceof WaitAbortedError, String(error));
        assert.ok(error instanceof JobwireError);
        assert.equal(error.code, 'JOBWIRE_WAIT_ABORTED');
        return true;
      });
      const controller = new AbortController();
      const waiting = client.waitForJob(job.id, { signal: controller.signal });
      controller.abort();
      await assert.rejects(waiting, WaitAbortedError);
    });

    it('leadership changes are events: elected with the first pool, lost to another process, resigned when stopped', async (t) => {
      let mayLead = true;
      const client = await withWrappedDriver(
        t,
        factory,
        (driver) => ({
          ...driver,
          // Another process takes leadership while mayLead is false.
          leaderAttemptElect: async (params) => mayLead && driver.leaderAttemptElect(params),
        }),
        { maintenance: { rescueIntervalMs: 20, leaderTtlMs: 1000 } },
      );
      const recorded = recordEvents(client);
      const elected = nextEvent(client, 'leader:elected');
      const pool = client.createPool(testPool);
      await pool.start();
      const first = await elected;
      assert.match(first.ownerId, /^maintenance:/);

      const lost = nextEvent(client, 'leader:resigned');
      mayLead = false;
      assert.deepEqual({ ...(await lost), at: 0 }, { ownerId: first.ownerId, reason: 'lost', at: 0 });

      const again = nextEvent(client, 'leader:elected');
      mayLead = true;
      assert.equal((await again).ownerId, first.ownerId);
      const stopped = nextEvent(client, 'leader:resigned');
      await pool.stop();
      assert.deepEqual({ ...(await stopped), at: 0 }, { ownerId: first.ownerId, reason: 'stopped', at: 0 });
      assert.deepEqual(
        recorded.names().filter((name) => name.startsWith('leader:')),
        ['leader:elected', 'leader:resigned', 'leader:elected', 'leader:resigned'],
      );
    });

    it('a leader whose elections fail or hang past the TTL reports leadership lost, and leads again once storage answers', async (t) => {
      let mode: 'up' | 'failing' | 'hanging' = 'up';
      const hung: (() => void)[] = [];
      const client = await withWrappedDriver(
        t,
        factory,
        (driver) => ({
          ...driver,
          leaderAttemptElect: async (params) => {
            if (mode === 'failing') throw new StorageError('simulated outage', { kind: 'unavailable' });
            // A connection that no longer answers: the call neither resolves nor fails until it is back.
            if (mode === 'hanging') await new Promise<void>((resolve) => hung.push(resolve));
            return driver.leaderAttemptElect(params);
          },
        }),
        { maintenance: { rescueIntervalMs: 20, leaderTtlMs: 500 } },
      );
      t.after(() => {
        for (const resolve of hung) resolve();
      });
      const elected = nextEvent(client, 'leader:elected');
      const pool = client.createPool(testPool);
      t.after(() => pool.stop({ graceMs: 0 }));
      await pool.start();
      const { ownerId } = await elected;
      for (const outage of ['failing', 'hanging'] as const) {
        const lost = nextEvent(client, 'leader:resigned', undefined, 5000);
        mode = outage;
        assert.deepEqual({ ...(await lost), at: 0 }, { ownerId, reason: 'lost', at: 0 }, outage);
        const again = nextEvent(client, 'leader:elected', undefined, 5000);
        mode = 'up';
        for (const resolve of hung.splice(0)) resolve();
        assert.equal((await again).ownerId, ownerId, outage);
      }
    });

    it('a failing rescue is service:error (and a warning in the log), never pool:error', async (t) => {
      const warnings: { fields: object; message?: string }[] = [];
      const logger: Logger = {
        debug() {},
        info() {},
        warn: (fields, message) => void warnings.push({ fields, message }),
        error() {},
      };
      const client = await withWrappedDriver(
        t,
        factory,
        (driver) => ({
          ...driver,
          jobRescueExpired: async () => {
            throw new Error('rescue storage is down');
          },
        }),
        { logger, maintenance: { rescueIntervalMs: 20, leaderTtlMs: 1000, outageGraceMs: 0 } },
      );
      const recorded = recordEvents(client);
      const failed = nextEvent(client, 'service:error');
      const pool = client.createPool(testPool);
      await pool.start();
      const event: JobwireEvents['service:error'] = await failed;
      await pool.stop();

      assert.equal(event.service, 'rescuer');
      assert.equal(event.operation, 'rescue');
      assert.equal(event.error.message, 'rescue storage is down');
      assert.equal(event.retryInMs, 20);
      assert.deepEqual(recorded.of('pool:error'), [], 'no pool:error for a leader service');
      assert.ok(
        warnings.some((w) => (w.fields as { service?: string }).service === 'rescuer'),
        'the failure is logged at warn',
      );
    });

    it('the logger option gets pool errors at warn and throwing listeners at error; a non-logger is refused', async (t) => {
      const lines: { level: string; fields: Record<string, unknown>; message?: string }[] = [];
      const record =
        (level: string) =>
        (fields: object, message?: string): void =>
          void lines.push({ level, fields: fields as Record<string, unknown>, message });
      const logger: Logger = {
        debug: record('debug'),
        info: record('info'),
        warn: record('warn'),
        error: record('error'),
      };
      let failClaims = 1;
      const client = await withWrappedDriver(
        t,
        factory,
        (driver) => ({
          ...driver,
          jobClaim: async (params) => {
            if (failClaims-- > 0) throw new Error('claim storage is down');
            return driver.jobClaim(params);
          },
        }),
        { logger },
      );
      client.events.on('job:queued', () => {
        throw new Error('listener bug');
      });
      const task = defineTask({ name: 'logged', handler: async () => 'ok' });
      client.registerTask(task);
      const failed = nextEvent(client, 'pool:error');
      const pool = client.createPool(testPool);
      await pool.start();
      const error = await failed;
      const job = await client.enqueue(task, {});
      await client.waitForJob(job.id);
      await pool.stop();

      const warning = lines.find((line) => line.level === 'warn' && line.fields.event === 'pool:error');
      assert.ok(warning, 'the pool error is logged at warn');
      assert.equal(warning.fields.poolId, error.poolId);
      assert.match(warning.message ?? '', /claim storage is down/);
      const listener = lines.find((line) => line.level === 'error' && line.fields.event === 'job:queued');
      assert.ok(listener, 'the throwing listener is logged at error');
      assert.equal((listener.fields.err as Error).message, 'listener bug');
      assert.ok(!lines.some((line) => line.level === 'info' || line.level === 'debug'), 'no chatter');
      const db = await factory.create();
      const driver = await db.open();
      try {
        await assert.rejects(
          createJobwire({ driver, logger: { info() {} } as never }),
          (e: unknown) =>
            e instanceof InvalidOptionError && /logger/.test(e.message) && /warn/.test(e.message),
        );
      } finally {
        await driver.close();
        await db.cleanup();
      }
    });

    it("the client's own inserts wake this process's pools: now for pending jobs, at the earliest due time for scheduled ones", async (t) => {
      const task = defineTask({ name: 'noted', handler: async () => {} });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const wakeups: [string, number | undefined][] = [];
      clientInternals(client).runtime.wakeups.subscribe((queue, dueAt) => wakeups.push([queue, dueAt]));

      await client.enqueue(task, {}, { queue: 'now' });
      const later = await client.enqueueMany([
        { task, payload: {}, options: { queue: 'later', delayMs: 60_000 } },
        { task, payload: {}, options: { queue: 'later', delayMs: 30_000 } },
      ]);
      const earliest = Math.min(...later.map((job) => job.runAt.getTime()));
      assert.deepEqual(wakeups, [
        ['now', undefined],
        ['later', earliest],
      ]);
    });

    it('enqueue joins the caller transaction given as `transaction` or its deprecated alias `executor`', async (t) => {
      const task = defineTask({ name: 'in-tx', handler: async () => {} });
      const { client, db } = await withClient(t, factory, { tasks: [task] });
      const isField = (field: string) => (error: unknown) =>
        error instanceof InvalidOptionError && error.field === field;
      await assert.rejects(
        client.enqueue(task, {}, { transaction: { a: 1 }, executor: { b: 2 } }),
        isField('transaction'),
      );
      const { runtime } = clientInternals(client);
      if (!runtime.driver.capabilities.callerTransactions) {
        await assert.rejects(client.enqueue(task, {}, { transaction: {} }), isField('transaction'));
        await assert.rejects(client.enqueue(task, {}, { executor: {} }), isField('transaction'));
        await assert.rejects(
          client.enqueueMany([{ task, payload: {} }], { transaction: {} }),
          isField('transaction'),
        );
        return;
      }
      // A value that is no transaction handle of this driver: the same typed refusal, by the
      // option's name (not the driver's parameter), through either spelling.
      for (const key of ['transaction', 'executor'] as const) {
        await assert.rejects(
          client.enqueue(task, {}, { [key]: { notAHandle: true } }),
          isField('transaction'),
        );
      }
      assert.ok(db.connect, 'a driver with callerTransactions gives its databases a connect()');
      const wakeups: string[] = [];
      runtime.wakeups.subscribe((queue) => wakeups.push(queue));
      const connection = await db.connect();
      try {
        for (const key of ['transaction', 'executor'] as const) {
          await connection.query('BEGIN');
          const rolledBack = await client.enqueue(task, {}, { [key]: connection.transaction });
          await connection.query('ROLLBACK');
          assert.equal(await client.getJob(rolledBack.id), undefined, `${key}: gone with the rollback`);
          await connection.query('BEGIN');
          const [committed] = await client.enqueueMany([{ task, payload: {} }], {
            [key]: connection.transaction,
          });
          await connection.query('COMMIT');
          assert.equal((await client.getJob(committed!.id))?.state, 'pending', `${key}: stored at commit`);
        }
      } finally {
        await connection.release();
      }
      assert.deepEqual(wakeups, [], 'no in-process wake-up for jobs a caller transaction may roll back');
    });
  });
}
