/**
 * Stopping work that is under way, on every driver: timeouts, cancellation of a running job,
 * graceful shutdown, and the lease fence after a rescue (the River #1302 race).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire } from '../../../core/client.js';
import {
  JobCancelledError,
  JobTimeoutError,
  LeaseLostError,
  ShutdownAbortError,
} from '../../../core/errors.js';
import { clientInternals } from '../../../core/internals.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import {
  deferred,
  ManualClock,
  nextEvent,
  recordEvents,
  testPool,
  until,
  watchCalls,
  withClient,
} from './harness.js';

/** Resolves when the signal aborts; never otherwise (a handler that only stops when told to). */
const abortedReason = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );

export function runAbortSuite(factory: ConformanceDatabases): void {
  describe(`stopping work under way (${factory.name})`, () => {
    it('a timeout aborts the handler signal and frees the worker after abortGraceMs even if the handler never settles', async (t) => {
      const reasons: unknown[] = [];
      const hang = defineTask({
        name: 'hang',
        timeoutMs: 100,
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 0 },
        handler: (_payload, { signal }) => {
          void abortedReason(signal).then((reason) => reasons.push(reason));
          return new Promise(() => {}); // never settles
        },
      });
      const { client } = await withClient(t, factory, { tasks: [hang] });
      const pool = client.createPool({ ...testPool, concurrency: 1, abortGraceMs: 200 });
      await pool.start();
      const job = await client.enqueue(hang, {});
      const abandoned = await nextEvent(client, 'job:abandoned');
      assert.equal(abandoned.jobId, job.id);
      assert.equal(abandoned.error.name, 'JobTimeoutError');
      assert.match(abandoned.error.message, /timed out after 100 ms/);
      assert.equal(reasons.length, 2);
      assert.ok(reasons.every((r) => r instanceof JobTimeoutError));
      const stored = await client.getJob(job.id);
      assert.equal(stored!.state, 'abandoned');
      assert.equal(stored!.attempt, 2);
      await pool.stop({ graceMs: 0 });
    });

    it('a handler that ignores its abort keeps its slot until it settles: no job starts beside it', async (t) => {
      let running = 0;
      let most = 0;
      const stubborn = defineTask({
        name: 'stubborn',
        timeoutMs: 50,
        maxAttempts: 1,
        // Ignores its signal (a fetch without it): goes on for 300 ms after its timeout.
        handler: async () => {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 350));
          running--;
        },
      });
      const { client } = await withClient(t, factory, { tasks: [stubborn] });
      const recorded = recordEvents(client);
      const pool = client.createPool({ ...testPool, concurrency: 1 });
      await pool.start();
      const jobs = await client.enqueueMany([0, 1, 2].map((i) => ({ task: stubborn, payload: { i } })));
      await until(() => recorded.of('job:abandoned').length === 3 && running === 0, 10_000, 'three timeouts');
      await pool.stop();
      // Before: the slot was freed at the timeout, and all three handlers ran at once.
      assert.equal(most, 1, 'a pool of concurrency 1 never ran two handlers at once');
      for (const job of jobs) {
        const stored = await client.getJob(job.id);
        assert.equal(stored?.state, 'abandoned', 'each attempt ended at its timeout');
        assert.equal(stored?.errors.at(-1)?.name, 'JobTimeoutError');
      }
    });

    it('cancelling a running job fires its AbortSignal and discards its result', async (t) => {
      const started = deferred();
      let reason: unknown;
      const slow = defineTask({
        name: 'slow',
        handler: async (_payload, { signal }) => {
          started.resolve();
          reason = await abortedReason(signal);
          return 'finished anyway';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [slow] });
      const recorded = recordEvents(client);
      const pool = client.createPool(testPool);
      await pool.start();
      const job = await client.enqueue(slow, {});
      await started.promise;
      assert.equal(await client.cancelJob(job.id), true);
      await until(() => reason !== undefined, 5000, 'abort to reach the handler');
      assert.ok(reason instanceof JobCancelledError);
      await until(() => pool.runningCount === 0);
      const stored = await client.getJob(job.id);
      assert.equal(stored!.state, 'cancelled');
      assert.equal(stored!.result, null);
      await assert.rejects(client.waitForJob(job.id), /cancelled/);
      assert.equal(recorded.of('job:completed').length, 0);
      const [cancelled] = recorded.of('job:cancelled');
      assert.equal(cancelled!.previousState, 'running');
      // A finished job cannot be cancelled.
      assert.equal(await client.cancelJob(job.id), false);
      await pool.stop();
    });

    it('a cancellation from another process reaches the running handler as JobCancelledError', async (t) => {
      const started = deferred();
      const reason = deferred<unknown>();
      const task = defineTask({
        name: 'remote-cancel',
        handler: async (_p, { signal }) => {
          started.resolve();
          reason.resolve(await abortedReason(signal));
        },
      });
      const { client, db } = await withClient(t, factory, { tasks: [task] });
      const pool = client.createPool({ ...testPool, leaseMs: 600, heartbeatIntervalMs: 50 });
      await pool.start();
      const job = await client.enqueue(task, {});
      await started.promise;
      // Another "process": its own driver instance, so no in-process notification is shared.
      const other = await createJobwire({ driver: await db.open(), migrate: false, strictTasks: false });
      t.after(() => other.close());
      assert.equal(await other.cancelJob(job.id), true);
      assert.ok((await reason.promise) instanceof JobCancelledError);
      await until(() => pool.runningCount === 0);
      assert.equal((await client.getJob(job.id))!.state, 'cancelled');
      await pool.stop();
    });

    it('graceful stop lets running jobs finish within the grace period', async (t) => {
      const release = deferred();
      const started: string[] = [];
      const task = defineTask({
        name: 'graceful',
        handler: async (_p, { job }) => {
          started.push(job.id);
          await release.promise;
          return 'done';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const recorded = recordEvents(client);
      const pool = client.createPool({ ...testPool, concurrency: 2 });
      await pool.start();
      const jobs = await client.enqueueMany([0, 1, 2].map((i) => ({ task, payload: { i } })));
      await until(() => started.length === 2);
      const stopped = pool.stop({ graceMs: 10_000 });
      assert.equal(recorded.of('pool:stopping').length, 1);
      await new Promise((r) => setTimeout(r, 50));
      release.resolve();
      await stopped;
      const states = await Promise.all(jobs.map(async (j) => (await client.getJob(j.id))!.state));
      assert.deepEqual(states.filter((s) => s === 'completed').length, 2);
      assert.deepEqual(
        states.filter((s) => s === 'pending').length,
        1,
        'the unstarted job waits for the next pool',
      );
      const [stopEvent] = recorded.of('pool:stopped');
      assert.equal(stopEvent!.aborted, 0);
    });

    it('past the grace period, running jobs are aborted and released without losing an attempt', async (t) => {
      const reasons: unknown[] = [];
      const task = defineTask({
        name: 'stubborn',
        maxAttempts: 1,
        handler: async (_p, { signal }) => {
          reasons.push(await abortedReason(signal));
          return new Promise(() => {});
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const recorded = recordEvents(client);
      const pool = client.createPool({ ...testPool, concurrency: 2 });
      await pool.start();
      // Listen first: the start may be read before the enqueue's own reply.
      const started = nextEvent(client, 'job:started');
      const job = await client.enqueue(task, {});
      await started;
      await pool.stop({ graceMs: 50 });
      assert.ok(reasons[0] instanceof ShutdownAbortError);
      const stored = await client.getJob(job.id);
      assert.equal(stored!.state, 'pending');
      assert.equal(stored!.attempt, 0, 'the interrupted attempt is given back');
      const [stopEvent] = recorded.of('pool:stopped');
      assert.equal(stopEvent!.aborted, 1);
      assert.equal(stopEvent!.released, 1);
      assert.equal(recorded.of('job:failed').length, 0);
      // Another pool picks it up and it runs again as attempt 1.
      let ran = 0;
      const second = await createJobwire({
        driver: clientInternals(client).runtime.driver,
        migrate: false,
        tasks: [defineTask({ name: 'stubborn', handler: async () => ++ran })],
      });
      const pool2 = second.createPool(testPool);
      await pool2.start();
      await until(() => ran === 1);
      await pool2.stop();
    });

    it('a rescued job cannot be completed by its old worker: the fence rejects the late write', async (t) => {
      const clock = new ManualClock();
      const oldWorkerGate = deferred<string>();
      const oldStarted = deferred();
      const slowVersion = defineTask({
        name: 'contested',
        maxAttempts: 5,
        handler: async () => {
          oldStarted.resolve();
          return oldWorkerGate.promise;
        },
      });
      // A's own maintenance must not rescue first: its sweep interval is longer than the test.
      const { client: a, db } = await withClient(t, factory, {
        tasks: [slowVersion],
        clock,
        maintenance: { rescueIntervalMs: 100_000, leaderTtlMs: 100_001 },
      });
      const eventsA = recordEvents(a);
      // One busy worker and no prefetch: like a frozen process, A claims nothing more.
      const poolA = a.createPool({ ...testPool, id: 'A', leaseMs: 30_000, concurrency: 1, prefetch: 0 });
      await poolA.start();
      const job = await a.enqueue(slowVersion, {});
      await oldStarted.promise;

      // Worker A hangs past its lease (a frozen process): move the clock beyond the lease
      // (and beyond A's maintenance leadership).
      clock.advance(200_000);
      const b = await createJobwire({
        driver: await db.open(),
        clock,
        tasks: [defineTask({ name: 'contested', handler: async () => 'result from B' })],
      });
      t.after(() => b.close());
      const eventsB = recordEvents(b);
      // B is another process. A driver that measures silence on the rescuer's own clock (SQLite)
      // must first watch A's leadership, then the lease, stay unchanged for longer than their
      // length: each further sweep comes after the clock moved past both again.
      for (let sweep = 0; sweep < 3 && eventsB.of('job:rescued').length === 0; sweep++) {
        if (sweep > 0) clock.advance(200_000);
        await clientInternals(b).leader.runOnce();
      }
      const [rescued] = eventsB.of('job:rescued');
      assert.equal(rescued?.jobId, job.id);
      assert.equal(rescued?.previousPoolId, 'A');

      const poolB = b.createPool({ ...testPool, id: 'B' });
      await poolB.start();
      assert.equal(await b.waitForJob(job.id), 'result from B');

      // Now the old worker finishes: its completion must be rejected.
      oldWorkerGate.resolve('late result from A');
      const lost = await nextEvent(a, 'job:lease-lost');
      assert.equal(lost.jobId, job.id);
      assert.equal(lost.workerId, 'A/0');
      const stored = await a.getJob(job.id);
      assert.equal(stored!.state, 'completed');
      assert.equal(stored!.result, 'result from B');
      // A's expired lease was an interruption, not a failure: B ran the same attempt number again.
      assert.equal(stored!.attempt, 1);
      assert.equal(stored!.interruptions, 1);
      assert.equal(stored!.errors[0]?.name, 'LeaseExpiredError');
      assert.equal(eventsA.of('job:completed').length, 0);
      await poolB.stop();
      await poolA.stop();
    });

    it('a heartbeat that finds its lease taken aborts the handler with LeaseLostError', async (t) => {
      const reason = deferred<unknown>();
      const task = defineTask({
        name: 'hb',
        handler: async (_p, { signal }) => {
          reason.resolve(await abortedReason(signal));
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const pool = client.createPool({ ...testPool, leaseMs: 600, heartbeatIntervalMs: 50 });
      await pool.start();
      // Listen first: the start may be read before the enqueue's own reply.
      const started = nextEvent(client, 'job:started');
      const job = await client.enqueue(task, {});
      await started;
      // Another process deletes the job: no notification reaches this pool, the heartbeat finds out.
      await clientInternals(client).runtime.driver.jobDelete({ ids: [job.id] });
      assert.ok((await reason.promise) instanceof LeaseLostError);
      await pool.stop();
    });

    it('heartbeats keep a long job leased past its lease duration', async (t) => {
      const clock = new ManualClock();
      const gate = deferred();
      const task = defineTask({ name: 'long', handler: () => gate.promise.then(() => 'ok') });
      let heartbeats!: ReturnType<typeof watchCalls<'jobHeartbeatMany'>>;
      const { client } = await withClient(t, factory, {
        tasks: [task],
        clock,
        wrapDriver: (driver) => {
          heartbeats = watchCalls(driver, 'jobHeartbeatMany');
          return heartbeats.driver;
        },
      });
      const pool = client.createPool({ ...testPool, leaseMs: 300, heartbeatIntervalMs: 50 });
      await pool.start();
      // Listen first: the start may be read before the enqueue's own reply.
      const started = nextEvent(client, 'job:started');
      const job = await client.enqueue(task, {});
      await started;
      for (let i = 0; i < 5; i++) {
        clock.advance(200); // more than the lease in total, less than it between heartbeats
        // A heartbeat that began after the clock moved renews the lease from the new time.
        await heartbeats.nextCall();
        await clientInternals(client).leader.runOnce();
      }
      assert.equal((await client.getJob(job.id))!.state, 'running');
      gate.resolve();
      assert.equal(await client.waitForJob(job.id), 'ok');
      await pool.stop();
    });
  });
}
