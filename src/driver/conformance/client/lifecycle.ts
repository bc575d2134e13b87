/**
 * Client + pool behaviour that every driver must show: the event sequence, retries with
 * backoff on an injected clock, correlation ids, waitForJob, unrecoverable errors and snoozing,
 * listeners that throw. Part of `runClientConformance`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobFailedError, SnoozeError, UnrecoverableError } from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { ManualClock, nextEvent, recordEvents, testPool, until, watchCalls, withClient } from './harness.js';

export function runLifecycleSuite(factory: ConformanceDatabases): void {
  describe(`client and pool lifecycle (${factory.name})`, () => {
    it('emits the exact event sequence for a job that fails once, then completes', async (t) => {
      let calls = 0;
      const flaky = defineTask<{ n: number }, { doubled: number }>({
        name: 'flaky',
        maxAttempts: 3,
        backoff: { type: 'fixed', delayMs: 0 },
        handler: async ({ n }) => {
          calls++;
          if (calls === 1) throw new Error('first attempt fails');
          return { doubled: n * 2 };
        },
      });
      const { client } = await withClient(t, factory, { tasks: [flaky] });
      const recorded = recordEvents(client);
      const pool = client.createPool({ ...testPool, concurrency: 1, id: 'p1' });
      const job = await client.enqueue(
        flaky,
        { n: 21 },
        { correlationId: 'corr-1', metadata: { who: 'test' } },
      );
      await pool.start();
      assert.deepEqual(await client.waitForJob(job.id, { timeoutMs: 10_000 }), { doubled: 42 });
      await pool.stop();

      const jobEvents = recorded.all.filter((e) => e.name.startsWith('job:')).map((e) => e.name);
      assert.deepEqual(jobEvents, [
        'job:queued',
        'job:started',
        'job:failed',
        'job:retrying',
        'job:started',
        'job:completed',
      ]);
      const poolEvents = recorded.names().filter((n) => n.startsWith('pool:'));
      assert.deepEqual(poolEvents, ['pool:created', 'pool:started', 'pool:stopping', 'pool:stopped']);
      // worker:busy before each start; worker:idle once nothing is left to take. The retry is due
      // at once, so the pool may claim it before a claim of its comes back empty: then the
      // worker goes from one attempt to the next without being idle in between.
      const workerEvents = recorded.names().filter((n) => n === 'worker:busy' || n === 'worker:idle');
      assert.ok(
        [
          ['worker:busy', 'worker:idle', 'worker:busy', 'worker:idle'],
          ['worker:busy', 'worker:busy', 'worker:idle'],
        ].some((expected) => expected.join() === workerEvents.join()),
        `worker events: ${workerEvents.join(', ')}`,
      );

      const [queued] = recorded.of('job:queued');
      assert.equal(queued!.jobId, job.id);
      assert.equal(queued!.task, 'flaky');
      assert.equal(queued!.queue, 'default');
      assert.equal(queued!.correlationId, 'corr-1');
      assert.equal(queued!.state, 'pending');
      assert.deepEqual(queued!.metadata, { who: 'test' });

      const [started1, started2] = recorded.of('job:started');
      assert.equal(started1!.attempt, 1);
      assert.equal(started2!.attempt, 2);
      assert.equal(started1!.maxAttempts, 3);
      assert.equal(started1!.poolId, 'p1');
      assert.equal(started1!.workerId, 'p1/0');
      assert.ok(started1!.waitMs >= 0);

      const [failed] = recorded.of('job:failed');
      assert.equal(failed!.error.message, 'first attempt fails');
      assert.equal(failed!.error.name, 'Error');
      assert.equal(failed!.error.attempt, 1);
      assert.equal(failed!.willRetry, true);
      assert.ok(failed!.durationMs >= 0);

      const [retrying] = recorded.of('job:retrying');
      assert.equal(retrying!.delayMs, 0);
      assert.ok(retrying!.nextRunAt >= failed!.failedAt - 1000);

      const [completed] = recorded.of('job:completed');
      assert.deepEqual(completed!.result, { doubled: 42 });
      assert.equal(completed!.attempt, 2);
      assert.equal(completed!.correlationId, 'corr-1');
      assert.ok(completed!.completedAt >= completed!.startedAt);

      const stored = await client.getJob(job.id);
      assert.equal(stored!.state, 'completed');
      assert.equal(stored!.attempt, 2);
      assert.equal(stored!.errors.length, 1);
      assert.deepEqual(stored!.result, { doubled: 42 });
    });

    it('retries with backoff on an injected clock, then abandons; a hand retry runs it again', async (t) => {
      const clock = new ManualClock();
      let calls = 0;
      const failing = defineTask({
        name: 'always-fails',
        maxAttempts: 3,
        backoff: { type: 'fixed', delayMs: 3_600_000 },
        handler: async () => {
          calls++;
          throw new Error(`failure ${calls}`);
        },
      });
      let claims!: ReturnType<typeof watchCalls<'jobClaim'>>;
      const { client } = await withClient(t, factory, {
        tasks: [failing],
        clock,
        wrapDriver: (driver) => {
          claims = watchCalls(driver, 'jobClaim');
          return claims.driver;
        },
      });
      const recorded = recordEvents(client);
      const pool = client.createPool({ ...testPool, concurrency: 2 });
      await pool.start();
      const job = await client.enqueue(failing, {});
      await until(() => recorded.of('job:retrying').length === 1, 5000, 'first retry');
      const retrying = recorded.of('job:retrying')[0]!;
      assert.equal(retrying.delayMs, 3_600_000);
      assert.equal(retrying.nextRunAt, clock.now() + 3_600_000);
      const afterFirst = await client.getJob(job.id);
      assert.equal(afterFirst!.state, 'scheduled');
      assert.equal(afterFirst!.runAt.getTime(), clock.now() + 3_600_000);

      // Not due yet: a claim round that began after the retry was scheduled finds nothing.
      assert.deepEqual(await claims.nextCall(), []);
      assert.equal(calls, 1);

      clock.advance(3_600_000);
      await until(() => recorded.of('job:retrying').length === 2, 5000, 'second retry');
      clock.advance(3_600_000);
      await until(() => recorded.of('job:abandoned').length === 1, 5000, 'abandonment');
      const abandoned = recorded.of('job:abandoned')[0]!;
      assert.equal(calls, 3);
      assert.equal(abandoned.reason, 'attempts-exhausted');
      assert.equal(abandoned.error.message, 'failure 3');
      const dead = await client.getJob(job.id);
      assert.equal(dead!.state, 'abandoned');
      assert.deepEqual(
        dead!.errors.map((e) => e.message),
        ['failure 1', 'failure 2', 'failure 3'],
      );
      await assert.rejects(client.waitForJob(job.id), (error: unknown) => {
        assert.ok(error instanceof JobFailedError);
        assert.equal(error.state, 'abandoned');
        assert.equal(error.lastError?.message, 'failure 3');
        return true;
      });
      assert.equal(recorded.of('job:failed').length, 3);
      assert.deepEqual(
        recorded.of('job:failed').map((e) => e.willRetry),
        [true, true, false],
      );

      // Retry by hand: a fresh set of attempts.
      const retried = await client.retryJob(job.id);
      assert.equal(retried.state, 'pending');
      assert.equal(retried.attempt, 0);
      await until(() => calls === 4, 5000, 'hand retry');
      await pool.stop();
    });

    it('exponential backoff grows per attempt (custom function on the task wins)', async (t) => {
      const clock = new ManualClock();
      const delays: number[] = [];
      const task = defineTask({
        name: 'custom-backoff',
        maxAttempts: 4,
        backoffFn: (attempt) => attempt * 1000,
        handler: async () => {
          throw new Error('nope');
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task], clock });
      client.events.on('job:retrying', (e) => {
        delays.push(e.delayMs);
      });
      const pool = client.createPool(testPool);
      await pool.start();
      await client.enqueue(task, null);
      for (const step of [1000, 2000, 3000]) {
        await until(() => delays.length === step / 1000, 5000, `retry ${step}`);
        clock.advance(step);
      }
      await nextEvent(client, 'job:abandoned');
      assert.deepEqual(delays, [1000, 2000, 3000]);
      await pool.stop();
    });

    it('jobs enqueued from inside a handler inherit the correlation id', async (t) => {
      const child = defineTask({ name: 'child', handler: async () => 'child done' });
      const parent = defineTask({
        name: 'parent',
        handler: async () => {
          const job = await client.enqueue(child, {});
          return job.id;
        },
      });
      const { client } = await withClient(t, factory, { tasks: [parent, child] });
      const pool = client.createPool(testPool);
      await pool.start();
      const job = await client.enqueue(parent, {}, { correlationId: 'trace-abc' });
      const childId = await client.waitForJob<string>(job.id);
      await client.waitForJob(childId);
      const stored = await client.getJob(childId);
      assert.equal(stored!.correlationId, 'trace-abc');
      const other = await client.enqueue(child, {});
      assert.notEqual(other.correlationId, 'trace-abc');
      await pool.stop();
    });

    it('UnrecoverableError abandons at once; SnoozeError runs again without using an attempt', async (t) => {
      const clock = new ManualClock();
      let snoozes = 0;
      const snoozy = defineTask({
        name: 'snoozy',
        maxAttempts: 1,
        handler: async () => {
          if (snoozes++ < 2) throw new SnoozeError(60_000);
          return 'woke up';
        },
      });
      const fatal = defineTask({
        name: 'fatal',
        maxAttempts: 5,
        handler: async () => {
          throw new UnrecoverableError('account deleted');
        },
      });
      const { client } = await withClient(t, factory, { tasks: [snoozy, fatal], clock });
      const recorded = recordEvents(client);
      const pool = client.createPool(testPool);
      await pool.start();
      const f = await client.enqueue(fatal, {});
      const abandoned = await nextEvent(client, 'job:abandoned');
      assert.equal(abandoned.jobId, f.id);
      assert.equal(abandoned.reason, 'unrecoverable');
      assert.equal((await client.getJob(f.id))!.attempt, 1);

      const s = await client.enqueue(snoozy, {});
      await nextEvent(client, 'job:snoozed');
      const snoozed = await client.getJob(s.id);
      assert.equal(snoozed!.state, 'scheduled');
      assert.equal(snoozed!.attempt, 0);
      clock.advance(60_000);
      await nextEvent(client, 'job:snoozed');
      clock.advance(60_000);
      assert.equal(await client.waitForJob(s.id), 'woke up');
      assert.equal((await client.getJob(s.id))!.attempt, 1);
      assert.equal(recorded.of('job:failed').filter((e) => e.jobId === s.id).length, 0);
      await pool.stop();
    });

    it('a throwing or rejecting listener never breaks the pool', async (t) => {
      const errors: unknown[] = [];
      const task = defineTask({ name: 'noop', handler: async () => 1 });
      const { client } = await withClient(t, factory, {
        tasks: [task],
        onListenerError: (error) => {
          errors.push(error);
        },
      });
      client.events.on('job:started', () => {
        throw new Error('listener bug');
      });
      client.events.on('job:completed', async () => {
        throw new Error('async listener bug');
      });
      client.events.onAny(() => {
        throw 'string thrown by onAny';
      });
      const pool = client.createPool(testPool);
      await pool.start();
      const jobs = await client.enqueueMany(Array.from({ length: 20 }, (_, i) => ({ task, payload: { i } })));
      for (const job of jobs) assert.equal(await client.waitForJob(job.id), 1);
      await pool.stop();
      assert.ok(errors.some((e) => e instanceof Error && e.message === 'listener bug'));
      assert.ok(errors.some((e) => e instanceof Error && e.message === 'async listener bug'));
      assert.ok(errors.includes('string thrown by onAny'));
    });
  });
}
