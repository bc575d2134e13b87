/**
 * Direct starts on every driver (core/pool/direct-starts.ts): a job enqueued while a pool of the
 * same client has an idle slot is started by the enqueue's own write, with no claim, and reads
 * like any claimed job — `job:queued` (pending) then `job:started` on the bus and in the log; a
 * busy pool, or an older job ahead, leaves it to the claim; a pool that stops while the write is
 * in flight gives the job back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire } from '../../../core/client.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { deferred, recordEvents, testPool, until, watchCalls, withClient } from './harness.js';

/** A poll too slow to start anything within a test: starts come from wake-ups or the insert. */
const SLOW_POLL = { ...testPool, pollIntervalMs: 60_000 } as const;

export function runDirectStartSuite(factory: ConformanceDatabases): void {
  describe(`direct starts (${factory.name})`, () => {
    it('a job enqueued into an idle pool starts without a claim; bus and log read queued → started → completed', async (t) => {
      const task = defineTask({ name: 'direct', handler: async (payload: { n: number }) => payload.n * 2 });
      let claims: ReturnType<typeof watchCalls<'jobClaim'>> | undefined;
      const { client } = await withClient(t, factory, {
        tasks: [task],
        wrapDriver: (driver) => {
          claims = watchCalls(driver, 'jobClaim');
          return claims.driver;
        },
      });
      const pool = client.createPool(SLOW_POLL);
      await pool.start();
      await until(() => pool.runningCount === 0 && claims!.calls() > 0, 5000, 'the first claim');
      await pool.whenIdle();
      const before = claims!.calls();
      const events = recordEvents(client);
      const job = await client.enqueue(task, { n: 21 });
      assert.equal(job.state, 'running', 'the enqueue returns the job as started');
      assert.equal(await client.waitForJob(job.id, { timeoutMs: 5000 }), 42);
      assert.equal(claims!.calls(), before, 'no claim ran for it');
      const mine = events.all.filter(
        (e) => e.name.startsWith('job:') && (e.event as { jobId?: string }).jobId === job.id,
      );
      assert.deepEqual(
        mine.map((e) => e.name),
        ['job:queued', 'job:started', 'job:completed'],
      );
      assert.equal((mine[0]!.event as { state: string }).state, 'pending');
      const stored = await client.jobEvents(job.id);
      assert.deepEqual(
        stored.map((e) => e.type),
        ['job:queued', 'job:started', 'job:completed'],
      );
      await pool.stop();
    });

    it('with every slot busy the job waits for a claim, and runs when a slot frees up', async (t) => {
      const release = deferred();
      const blocker = defineTask({ name: 'blocker', handler: () => release.promise });
      const quick = defineTask({ name: 'quick', handler: async () => 'done' });
      const { client } = await withClient(t, factory, { tasks: [blocker, quick] });
      const pool = client.createPool({ ...SLOW_POLL, concurrency: 1 });
      await pool.start();
      const first = await client.enqueue(blocker, {});
      await until(async () => (await client.getJob(first.id))?.state === 'running', 5000, 'the blocker');
      const second = await client.enqueue(quick, {});
      assert.equal(second.state, 'pending', 'no free slot: stored pending');
      release.resolve();
      assert.equal(await client.waitForJob(second.id, { timeoutMs: 5000 }), 'done');
      await pool.stop();
    });

    it('an older waiting job is not overtaken: jobs run in enqueue order on one slot', async (t) => {
      const order: number[] = [];
      const gate = deferred();
      const task = defineTask({
        name: 'ordered',
        handler: async (payload: { n: number }) => {
          order.push(payload.n);
          if (payload.n === 0) await gate.promise;
        },
      });
      const { client, db } = await withClient(t, factory, { tasks: [task] });
      const pool = client.createPool({ ...SLOW_POLL, concurrency: 2 });
      await pool.start();
      await client.enqueue(task, { n: 0 });
      // Another process (a client without pools) stores n=1 while the second slot is free; on
      // SQLite nothing tells this pool before its (slow) poll.
      const writer = await createJobwire({ driver: await db.open(), tasks: [task] });
      t.after(() => writer.close());
      const older = await writer.enqueue(task, { n: 1 });
      // A direct start of n=2 on the free slot would overtake n=1: the write must see n=1 waiting.
      const newer = await client.enqueue(task, { n: 2 });
      gate.resolve();
      await client.waitForJob(newer.id, { timeoutMs: 5000 });
      await client.waitForJob(older.id, { timeoutMs: 5000 });
      assert.deepEqual(order, [0, 1, 2]);
      await pool.stop();
    });

    it('a pool that stops while the write is in flight gives the started job back', async (t) => {
      const ran: string[] = [];
      const task = defineTask({ name: 'late', handler: async () => void ran.push('ran') });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const pool = client.createPool(SLOW_POLL);
      await pool.start();
      await pool.whenIdle();
      const events = recordEvents(client);
      // The slot is reserved when the enqueue begins; the stop lands before its write answers.
      const enqueued = client.enqueue(task, {});
      const stopped = pool.stop({ graceMs: 1000 });
      const job = await enqueued;
      await stopped;
      if (job.state === 'running') {
        // The write started it for the pool, which was stopping by then: given back, never run.
        await until(async () => (await client.getJob(job.id))?.state === 'pending', 5000, 'the job back');
        assert.deepEqual(
          events.of('job:released').map((e) => e.jobId),
          [job.id],
        );
      } else {
        assert.equal(job.state, 'pending');
      }
      assert.deepEqual(ran, []);
      assert.equal((await client.getJob(job.id))?.state, 'pending');
    });
  });
}
