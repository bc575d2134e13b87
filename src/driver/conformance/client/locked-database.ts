/**
 * A database that another connection keeps locked for a while (a backup, a migration, a shell
 * left inside a transaction): jobwire's calls wait for the lock — up to the driver's limit —
 * without freezing the process that makes them, and nothing is lost or run twice once it is free.
 * On SQLite this is not given: its busy handler waits by sleeping on the calling thread.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabase, ConformanceDatabases } from './databases.js';
import { testPool, until, withClient } from './harness.js';

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

export function runLockedDatabaseSuite(factory: ConformanceDatabases): void {
  describe(`locked database (${factory.name})`, () => {
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
  });
}
