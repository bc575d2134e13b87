/**
 * Interruptions through the whole client, on every driver: an attempt cut off at the end of a
 * shutdown's grace period, or whose lease expired, does not use up an attempt, is reported
 * (`job:interrupted`, `job:rescued`) and recorded in the job's history, and a job interrupted
 * `maxInterruptions` times is abandoned — so a handler that never settles and has no timeout
 * cannot hold a job forever.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire } from '../../../core/client.js';
import { InvalidOptionError } from '../../../core/errors.js';
import { clientInternals } from '../../../core/internals.js';
import { defineTask } from '../../../core/task.js';
import { SUSPECT_INTERRUPTIONS } from '../../records.js';
import type { ConformanceDatabases } from './databases.js';
import { ManualClock, nextEvent, recordEvents, testPool, until, withClient } from './harness.js';

/** A handler that ignores its signal and never settles. */
const forever = () => new Promise<never>(() => {});

export function runInterruptionSuite(factory: ConformanceDatabases): void {
  describe(`interruptions (${factory.name})`, () => {
    it('a pool runs at most one job interrupted twice at a time, so such jobs never share its process', async (t) => {
      // Three jobs cut off by two shutdowns are suspects (SUSPECT_INTERRUPTIONS): any of them
      // could be a job that crashes its process, so a pool takes them one at a time.
      let trap = true;
      let running = 0;
      let most = 0;
      const task = defineTask({
        name: 'suspect',
        handler: async () => {
          if (trap) return forever();
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 60));
          running--;
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task], maxInterruptions: 5 });
      const jobs = await client.enqueueMany([
        { task, payload: {} },
        { task, payload: {} },
        { task, payload: {} },
      ]);
      for (let round = 1; round <= SUSPECT_INTERRUPTIONS; round++) {
        const pool = client.createPool({ ...testPool, concurrency: 10, shutdownGraceMs: 50 });
        const started = recordEvents(client);
        await pool.start();
        await until(
          () => started.of('job:started').length === jobs.length,
          10_000,
          `round ${round}: all started`,
        );
        await pool.stop();
        for (const job of jobs) assert.equal((await client.getJob(job.id))?.interruptions, round);
      }
      trap = false;
      const pool = client.createPool({ ...testPool, concurrency: 10 });
      await pool.start();
      await until(
        async () => (await client.countJobs({ state: 'completed' })).completed === jobs.length,
        10_000,
      );
      await pool.stop();
      assert.equal(most, 1, 'suspects ran one at a time');
    });

    it('leases of jobs still running in a grace period longer than the lease stay renewed', async (t) => {
      // The stopping pool must keep heart-beating: else the leader rescues a job that is about to
      // finish well inside the grace period, runs it again elsewhere and fences this run's result off.
      let runs = 0;
      let finish: () => void = () => {};
      const task = defineTask({
        name: 'finishes-in-grace',
        handler: async () => {
          runs++;
          await new Promise<void>((resolve) => {
            finish = resolve;
          });
          return 'done';
        },
      });
      const { client } = await withClient(t, factory, {
        tasks: [task],
        maintenance: { rescueIntervalMs: 20, leaderTtlMs: 5000 },
      });
      const recorded = recordEvents(client);
      const pool = client.createPool({
        ...testPool,
        concurrency: 1,
        leaseMs: 600,
        heartbeatIntervalMs: 100,
        shutdownGraceMs: 10_000,
      });
      await pool.start();
      const started = nextEvent(client, 'job:started');
      const job = await client.enqueue(task, {});
      await started;
      const stopped = pool.stop();
      // Several leases' worth of time inside the grace period, with the rescuer sweeping every 20 ms.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      finish();
      await stopped;

      assert.equal(recorded.of('job:rescued').length, 0, 'no rescue while the job ran in the grace period');
      assert.equal(recorded.of('job:lease-lost').length, 0);
      assert.equal(runs, 1);
      const stored = await client.getJob(job.id);
      assert.equal(stored!.state, 'completed');
      assert.equal(stored!.result, 'done');
    });

    it('a shutdown cut-off emits job:interrupted, is recorded, and the next run has the same attempt number', async (t) => {
      let runs = 0;
      const task = defineTask({
        name: 'cut-off',
        maxAttempts: 1,
        handler: async () => {
          runs++;
          if (runs === 1) return forever();
          return 'second run';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const recorded = recordEvents(client);
      const first = client.createPool({ ...testPool, concurrency: 1 });
      await first.start();
      const started = nextEvent(client, 'job:started');
      const job = await client.enqueue(task, {});
      await started;
      await first.stop({ graceMs: 20 });

      const interrupted = recorded.of('job:interrupted');
      assert.equal(interrupted.length, 1, 'the cut-off attempt is reported');
      const [event] = interrupted;
      assert.equal(event!.jobId, job.id);
      assert.equal(event!.attempt, 1);
      assert.equal(event!.interruptions, 1);
      assert.equal(event!.willRunAgain, true);
      assert.equal(event!.error.name, 'ShutdownInterruptedError');
      assert.equal(event!.error.interrupted, true);
      assert.equal(recorded.of('job:failed').length, 0);
      assert.equal(recorded.of('job:abandoned').length, 0);

      const stored = await client.getJob(job.id);
      assert.equal(stored!.state, 'pending');
      assert.equal(stored!.attempt, 0, 'the interrupted attempt is given back');
      assert.equal(stored!.interruptions, 1);
      assert.deepEqual(
        stored!.errors.map((e) => [e.name, e.attempt, e.interrupted]),
        [['ShutdownInterruptedError', 1, true]],
      );

      // The next run is attempt 1 again, and its history still shows the interruption.
      const second = client.createPool({ ...testPool, concurrency: 1 });
      await second.start();
      assert.equal(await client.waitForJob(job.id), 'second run');
      const starts = recorded.of('job:started').filter((e) => e.jobId === job.id);
      assert.deepEqual(
        starts.map((e) => e.attempt),
        [1, 1],
      );
      const done = await client.getJob(job.id);
      assert.equal(done!.attempt, 1);
      assert.equal(done!.interruptions, 1);
      assert.equal(done!.errors.length, 1);
      await second.stop();
    });

    it('a handler that never settles and has no timeout is abandoned after maxInterruptions stops', async (t) => {
      const task = defineTask({ name: 'never-settles', maxAttempts: 3, handler: forever });
      const { client } = await withClient(t, factory, { tasks: [task], maxInterruptions: 2 });
      const recorded = recordEvents(client);
      const job = await client.enqueue(task, {});
      for (let stop = 1; stop <= 2; stop++) {
        const pool = client.createPool({ ...testPool, concurrency: 1 });
        const started = nextEvent(client, 'job:started');
        await pool.start();
        await started;
        await pool.stop({ graceMs: 20 });
      }
      assert.deepEqual(
        recorded.of('job:interrupted').map((e) => [e.attempt, e.interruptions, e.willRunAgain]),
        [
          [1, 1, true],
          [1, 2, false],
        ],
      );
      const abandoned = recorded.of('job:abandoned');
      assert.equal(abandoned.length, 1);
      assert.equal(abandoned[0]!.jobId, job.id);
      assert.equal(abandoned[0]!.reason, 'interrupted');
      const stored = await client.getJob(job.id);
      assert.equal(stored!.state, 'abandoned');
      assert.equal(stored!.interruptions, 2);
      assert.equal(stored!.attempt, 1);
      assert.deepEqual(
        stored!.errors.map((e) => e.name),
        ['ShutdownInterruptedError', 'ShutdownInterruptedError'],
      );
      await assert.rejects(client.waitForJob(job.id), /abandoned/);
    });

    it("rescue counts an interruption and abandons at the client's maxInterruptions", async (t) => {
      const clock = new ManualClock();
      const task = defineTask({ name: 'frozen', maxAttempts: 3, handler: forever });
      // The sweep runs only when the test asks (its interval is longer than the test).
      const { client, db } = await withClient(t, factory, {
        tasks: [task],
        clock,
        maxInterruptions: 2,
        maintenance: { rescueIntervalMs: 100_000, leaderTtlMs: 100_001 },
      });
      // Whichever client is leader rescues (on SQLite leadership passes only after its renewals
      // were watched unchanged for a ttl), so listen to every client.
      const recorders = [recordEvents(client)];
      const job = await client.enqueue(task, {});
      // Two "frozen processes" in turn: each claims the job and never heartbeats again.
      for (let round = 1; round <= 2; round++) {
        // maxInterruptions is a cluster setting: whichever process rescues applies its own.
        const other = await createJobwire({
          driver: await db.open(),
          migrate: false,
          clock,
          tasks: [task],
          maxInterruptions: 2,
        });
        t.after(() => other.close());
        recorders.push(recordEvents(other));
        const pool = other.createPool({ ...testPool, leaseMs: 30_000, concurrency: 1, prefetch: 0 });
        const started = nextEvent(other, 'job:started');
        await pool.start();
        await started;
        clock.advance(60_000);
        await until(
          async () => {
            await clientInternals(client).leader.runOnce();
            return (await client.getJob(job.id))!.state !== 'running';
          },
          10_000,
          `rescue ${round}`,
        );
        // Its late abort finds the lease gone: nothing is written for it.
        await pool.stop({ graceMs: 0 });
      }
      // The rescuer reports after its write commits: wait for the report, not just the state.
      await until(() => recorders.some((r) => r.of('job:abandoned').length > 0), 10_000, 'job:abandoned');
      const [rescued] = recorders.flatMap((r) => r.of('job:rescued'));
      assert.equal(rescued!.jobId, job.id);
      assert.equal(rescued!.attempt, 1);
      assert.equal(rescued!.interruptions, 1);
      const abandoned = recorders.flatMap((r) => r.of('job:abandoned'));
      assert.deepEqual(
        abandoned.map((e) => [e.jobId, e.reason, e.attempt]),
        [[job.id, 'lease-expired', 1]],
      );
      const stored = await client.getJob(job.id);
      assert.equal(stored!.state, 'abandoned');
      assert.equal(stored!.attempt, 1, 'neither expiry used up one of the 3 attempts');
      assert.equal(stored!.interruptions, 2);
      // Events carry the lease-expiry errors exactly as the job's history stores them.
      assert.deepEqual(rescued!.error, stored!.errors[0]);
      assert.deepEqual(abandoned[0]!.error, stored!.errors[1]);
    });

    it('maxInterruptions must be an integer from 1 to 1000', async () => {
      const db = await factory.create();
      const driver = await db.open();
      try {
        for (const bad of [0, -1, 1.5, 1001, Number.NaN, '3']) {
          await assert.rejects(
            createJobwire({ driver, migrate: false, maxInterruptions: bad as number }),
            (error: unknown) =>
              error instanceof InvalidOptionError && /maxInterruptions/.test((error as Error).message),
          );
        }
      } finally {
        await driver.close();
        await db.cleanup();
      }
    });
  });
}
