/**
 * A job's events read in order in the process that caused them, even when a pool claims the job
 * before the write that made it runnable has read its reply (a pool's poll, or a notification on
 * another connection, can beat that reply): queued → started, retried → started, and a retry's
 * failed → retrying → started. Part of `runClientConformance`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire } from '../../../core/client.js';
import { JobFailedError } from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import type { Driver } from '../../driver.js';
import type { ConformanceDatabases } from './databases.js';
import { deferred, recordEvents, testPool } from './harness.js';

/** Driver writes whose reply the suite can hold back. */
type HeldWrite = 'jobFinalizeMany' | 'jobInsertMany' | 'jobRetry';

/**
 * A view of `real` whose first `method` call commits at once but returns only once a claim has
 * returned a job (a claim that returns while the call is still in flight counts too) — as when a pool's poll, or a notification on another connection, beats the
 * write's reply — or after 10 s, which fails the calling test. `claimedWhileHeld()` says whether
 * a claim took a job while the reply was held.
 */
function holdFirstReplyUntilClaimed(real: Driver, method: HeldWrite) {
  const claimed = deferred();
  let held = false;
  let done = false;
  let claimedWhileHeld = false;
  const driver = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === method) {
        return async (params: unknown) => {
          // Held from the call on, not from the reply: under load the committing server can be
          // slower to answer than a listener's notification plus a whole claim round trip, and a
          // claim that wins that race is just as much "before the reply was read".
          const first = !done;
          done = true;
          if (first) held = true;
          const result: unknown = await Reflect.apply(value as (p: unknown) => Promise<unknown>, target, [
            params,
          ]);
          if (first) {
            const timer = setTimeout(claimed.resolve, 10_000);
            await claimed.promise;
            clearTimeout(timer);
            held = false;
          }
          return result;
        };
      }
      if (prop === 'jobClaim') {
        return async (params: Parameters<Driver['jobClaim']>[0]) => {
          const jobs = await target.jobClaim(params);
          if (held && jobs.length > 0) {
            claimedWhileHeld = true;
            claimed.resolve();
          }
          return jobs;
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { driver, claimedWhileHeld: () => claimedWhileHeld };
}

export function runEventOrderSuite(factory: ConformanceDatabases): void {
  describe(`event order per job (${factory.name})`, () => {
    it('a retry claimed before the failure reply was read still starts after the failure events', async (t) => {
      const db = await factory.create();
      const real = await db.open();
      // The failure's write commits at once; its reply is read once the retry was claimed.
      const { driver, claimedWhileHeld } = holdFirstReplyUntilClaimed(real, 'jobFinalizeMany');
      let calls = 0;
      const once = defineTask({
        name: 'fails-once',
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 0 },
        handler: async () => {
          if (++calls === 1) throw new Error('first try fails');
          return 'ok';
        },
      });
      const client = await createJobwire({ driver, tasks: [once] });
      t.after(async () => {
        await client.close();
        await db.cleanup();
      });
      const recorded = recordEvents(client);
      const pool = client.createPool(testPool);
      await pool.start();
      const job = await client.enqueue(once, {});
      assert.equal(await client.waitForJob(job.id), 'ok');
      await pool.stop();
      assert.deepEqual(
        recorded.names().filter((n) => n.startsWith('job:')),
        ['job:queued', 'job:started', 'job:failed', 'job:retrying', 'job:started', 'job:completed'],
      );
      assert.equal(claimedWhileHeld(), true, 'the retry was claimed before the failure reply was read');
      assert.equal(calls, 2);
    });

    it('a job claimed before its enqueue reply was read still starts after job:queued', async (t) => {
      const db = await factory.create();
      const real = await db.open();
      // The insert commits at once; its reply is read once a claim has taken the job.
      const { driver, claimedWhileHeld } = holdFirstReplyUntilClaimed(real, 'jobInsertMany');
      const quick = defineTask({ name: 'quick', handler: async () => 'ok' });
      const client = await createJobwire({ driver, tasks: [quick] });
      t.after(async () => {
        await client.close();
        await db.cleanup();
      });
      const recorded = recordEvents(client);
      // Through a claim: a direct start (its write starts the job) has no claim to race.
      const pool = client.createPool({ ...testPool, directStarts: false });
      await pool.start();
      const job = await client.enqueue(quick, {});
      assert.equal(await client.waitForJob(job.id), 'ok');
      await pool.stop();
      assert.equal(claimedWhileHeld(), true, 'the job was claimed before the enqueue reply was read');
      assert.deepEqual(
        recorded.names().filter((n) => n.startsWith('job:')),
        ['job:queued', 'job:started', 'job:completed'],
      );
    });

    it('a job retried by hand and claimed before the retry reply was read still starts after job:retried', async (t) => {
      const db = await factory.create();
      const real = await db.open();
      // The retry commits at once; its reply is read once a claim has taken the job.
      const { driver, claimedWhileHeld } = holdFirstReplyUntilClaimed(real, 'jobRetry');
      let runs = 0;
      const once = defineTask({
        name: 'fails-first-time',
        maxAttempts: 1,
        handler: async () => {
          if (++runs === 1) throw new Error('first run fails');
          return 'ok';
        },
      });
      const client = await createJobwire({ driver, tasks: [once] });
      t.after(async () => {
        await client.close();
        await db.cleanup();
      });
      const pool = client.createPool(testPool);
      await pool.start();
      const job = await client.enqueue(once, {});
      await assert.rejects(client.waitForJob(job.id), JobFailedError);
      const recorded = recordEvents(client);
      await client.retryJob(job.id);
      assert.equal(await client.waitForJob(job.id), 'ok');
      await pool.stop();
      assert.equal(claimedWhileHeld(), true, 'the job was claimed before the retry reply was read');
      assert.deepEqual(
        recorded.names().filter((n) => n.startsWith('job:')),
        ['job:retried', 'job:started', 'job:completed'],
      );
    });
  });
}
