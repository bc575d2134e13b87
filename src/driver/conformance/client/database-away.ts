/**
 * A database that is out of reach for a while. Locked by another connection (a backup, a
 * migration, a shell left inside a transaction): jobwire's calls wait for the lock — up to the
 * driver's limit — without freezing the process that makes them (on SQLite not a given: its busy
 * handler waits by sleeping on the calling thread), and nothing is lost or run twice once it is
 * free. Unreachable: once it answers again, a pool claims at once rather than at the end of its
 * claims' backoff.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createJobwire } from '../../../core/client.js';
import { StorageError } from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import type { Driver } from '../../driver.js';
import type { ConformanceDatabase, ConformanceDatabases } from './databases.js';
import { deferred, testPool, until, withClient } from './harness.js';

/** How long a test keeps the database locked. */
const LOCK_MS = 1500;
/**
 * The longest the event loop may go without running a timer while the lock is held. Half the
 * lock: a call that waited for the lock on the loop's thread would stall it for the whole lock.
 */
const MAX_STALL_MS = LOCK_MS / 2;

/** Watch the event loop: the longest gap between two 10 ms ticks, until `stop()`. */
function watchEventLoop() {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

/** The database locked by another connection; the returned function unlocks it (once). */
async function lockWrites(t: TestContext, db: ConformanceDatabase): Promise<() => Promise<void>> {
  assert.ok(db.lockWrites, 'the conformance databases must implement lockWrites() (see ConformanceDatabase)');
  const unlock = await db.lockWrites();
  let unlocked = false;
  const once = async () => {
    if (unlocked) return;
    unlocked = true;
    await unlock();
  };
  t.after(once);
  return once;
}

export function runDatabaseAwaySuite(factory: ConformanceDatabases): void {
  describe(`database away (${factory.name})`, () => {
    it('an enqueue waits for another connection to release its lock without freezing the process, then stores the job', async (t) => {
      const task = defineTask({ name: 'report', handler: async () => {} });
      const { client, db } = await withClient(t, factory, { tasks: [task] });
      const unlock = await lockWrites(t, db);
      const loop = watchEventLoop();
      let settled = false;
      const enqueued = client.enqueue(task, { month: 11 });
      void enqueued.then(
        () => (settled = true),
        () => (settled = true),
      );
      await sleep(LOCK_MS);
      const stalled = loop.stop();
      assert.equal(settled, false, 'the enqueue settled while the database was locked');
      await unlock();
      const job = await enqueued;
      assert.equal((await client.getJob(job.id))?.state, 'pending');
      assert.ok(stalled < MAX_STALL_MS, `the event loop stalled for ${Math.round(stalled)} ms`);
    });

    it('a pool whose database is locked for a while finishes every job once, and its process stays responsive', async (t) => {
      const runs = new Map<number, number>();
      const task = defineTask({
        name: 'resize',
        handler: async ({ n }: { n: number }) => {
          await sleep(5);
          runs.set(n, (runs.get(n) ?? 0) + 1);
        },
      });
      const { client, db } = await withClient(t, factory, { tasks: [task] });
      const jobs = await client.enqueueMany(Array.from({ length: 40 }, (_, n) => ({ task, payload: { n } })));
      const pool = client.createPool({ ...testPool, concurrency: 4 });
      t.after(() => pool.stop({ graceMs: 0 }));
      await pool.start();
      await until(() => runs.size >= 5, 10_000, 'the first runs');
      const unlock = await lockWrites(t, db);
      const loop = watchEventLoop();
      await sleep(LOCK_MS);
      const stalled = loop.stop();
      await unlock();
      await until(
        async () => (await client.countJobs({ state: 'completed' })).completed === jobs.length,
        20_000,
        'every job to complete',
      );
      assert.deepEqual(
        [...runs.entries()].filter(([, count]) => count !== 1),
        [],
        'jobs that ran other than once',
      );
      assert.equal(runs.size, jobs.length);
      assert.ok(stalled < MAX_STALL_MS, `the event loop stalled for ${Math.round(stalled)} ms`);
    });

    it('a lock held longer than the lease re-runs no job: leases count from when the database answered', async (t) => {
      const runs = new Map<number, number>();
      const task = defineTask({
        name: 'encode',
        handler: async ({ n }: { n: number }) => {
          runs.set(n, (runs.get(n) ?? 0) + 1);
          await sleep(300);
        },
      });
      const { client, db } = await withClient(t, factory, {
        tasks: [task],
        maintenance: { rescueIntervalMs: 50, leaderTtlMs: 5000, outageGraceMs: 0 },
      });
      const rescued: string[] = [];
      client.events.on('job:rescued', (e) => void rescued.push(e.jobId));
      const jobs = await client.enqueueMany(Array.from({ length: 16 }, (_, n) => ({ task, payload: { n } })));
      // A lease of 400 ms: the lock below (1.5 s) stops heartbeats, claims and outcome writes
      // for three leases' worth of time, though every process is alive.
      const pool = client.createPool({ ...testPool, concurrency: 4, leaseMs: 400 });
      t.after(() => pool.stop({ graceMs: 0 }));
      await pool.start();
      await until(() => runs.size >= 4, 10_000, 'the first runs');
      const unlock = await lockWrites(t, db);
      await sleep(LOCK_MS);
      await unlock();
      await until(
        async () => (await client.countJobs({ state: 'completed' })).completed === jobs.length,
        20_000,
        'every job to complete',
      );
      // Before (PostgreSQL): leases that ran out while the statements waited for the lock were
      // rescued the moment it was released, and jobs that had finished ran again.
      assert.deepEqual(rescued, [], 'jobs rescued from live workers');
      assert.deepEqual(
        [...runs.entries()].filter(([, count]) => count !== 1),
        [],
        'jobs that ran other than once',
      );
    });

    it("once the database answers again, a pool claims at once, not at the end of its claims' backoff", async (t) => {
      const db = await factory.create();
      const real = await db.open();
      let down = false;
      // The same driver, except that claims, outcome writes and heartbeats fail while it is "down".
      const failing = new Set(['jobClaim', 'jobFinalizeMany', 'jobHeartbeatMany']);
      const driver = new Proxy(real, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (typeof value !== 'function') return value;
          if (!failing.has(String(prop))) return value.bind(target);
          return async (...args: unknown[]) => {
            if (down)
              throw new StorageError('simulated outage: the database went away', { kind: 'unavailable' });
            return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          };
        },
      }) as Driver;
      const gate = deferred();
      const startedAt = new Map<number, number>();
      const task = defineTask({
        name: 'import',
        handler: async ({ n, gated }: { n: number; gated: boolean }) => {
          startedAt.set(n, Date.now());
          if (gated) await gate.promise;
        },
      });
      const client = await createJobwire({ driver, tasks: [task] });
      t.after(async () => {
        gate.resolve();
        await client.close();
        await db.cleanup();
      });
      // Two slots held by running jobs (whose leases are heart-beaten every 500 ms), one free. The
      // leases outlast the outage: expired, the held jobs would be rescued and, older than the
      // job enqueued below, take the free slot first.
      await client.enqueueMany([0, 1].map((n) => ({ task, payload: { n, gated: true } })));
      const pool = client.createPool({
        ...testPool,
        concurrency: 3,
        leaseMs: 30_000,
        heartbeatIntervalMs: 500,
        pollIntervalMs: 600_000,
      });
      t.after(() => pool.stop({ graceMs: 0 }));
      await pool.start();
      await until(() => startedAt.size === 2, 10_000, 'the held jobs to start');
      down = true;
      const claimFailures: { at: number; retryInMs: number }[] = [];
      client.events.on('pool:error', (e) => {
        if (e.operation === 'claim') claimFailures.push({ at: Date.now(), retryInMs: e.retryInMs });
      });
      // Enqueues still pass. Due a moment later (not started directly by this process's pool):
      // the pool claims at its due time, and its claims fail, backing off.
      await client.enqueue(task, { n: 2, gated: false }, { delayMs: 20 });
      await until(() => (claimFailures.at(-1)?.retryInMs ?? 0) >= 3200, 15_000, 'a claim backoff of 3.2 s');
      const last = claimFailures.at(-1)!;
      down = false;
      await until(() => startedAt.has(2), 15_000, 'the job enqueued during the outage to start');
      const waited = startedAt.get(2)! - last.at;
      assert.ok(
        waited < last.retryInMs,
        `claimed ${waited} ms after the last failed claim: at the end of its ${last.retryInMs} ms backoff, not when storage answered`,
      );
    });
  });
}
