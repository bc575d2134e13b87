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
import type { ConformanceDatabases } from './databases.js';
import { deferred, recordEvents, testPool } from './harness.js';

export function runEventOrderSuite(factory: ConformanceDatabases): void {
  describe(`event order per job (${factory.name})`, () => {
    it('a retry claimed before the failure reply was read still starts after the failure events', async (t) => {
      const db = await factory.create();
      const real = await db.open();
      // The failure's write commits at once, but its reply is read only once the pool's 20 ms
      // poll has claimed the retry (due at once) — or after 10 s, which fails the test below.
      const retryClaimed = deferred();
      let replyHeld = false;
      let claimedWhileHeld = false;
      const driver = new Proxy(real, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop === 'jobFinalizeMany') {
            return async (params: Parameters<typeof real.jobFinalizeMany>[0]) => {
              const results = await target.jobFinalizeMany(params);
              if (!replyHeld) {
                replyHeld = true;
                const timer = setTimeout(retryClaimed.resolve, 10_000);
                await retryClaimed.promise;
                clearTimeout(timer);
              }
              return results;
            };
          }
          if (prop === 'jobClaim') {
            return async (params: Parameters<typeof real.jobClaim>[0]) => {
              const claimed = await target.jobClaim(params);
              if (replyHeld && claimed.length > 0) {
                claimedWhileHeld = true;
                retryClaimed.resolve();
              }
              return claimed;
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
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
      assert.equal(claimedWhileHeld, true, 'the retry was claimed before the failure reply was read');
      assert.equal(calls, 2);
    });

    it('a job claimed before its enqueue reply was read still starts after job:queued', async (t) => {
      const db = await factory.create();
      const real = await db.open();
      // The insert commits at once, but its reply is read only once a claim has taken the job —
      // as when the pool's poll or another connection's notification beats the insert's reply.
      const jobClaimed = deferred();
      let claimedBeforeReply = false;
      let inserting = false;
      const driver = new Proxy(real, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop === 'jobInsertMany') {
            return async (params: Parameters<typeof real.jobInsertMany>[0]) => {
              inserting = true;
              const result = await target.jobInsertMany(params);
              const timer = setTimeout(jobClaimed.resolve, 10_000);
              await jobClaimed.promise;
              clearTimeout(timer);
              inserting = false;
              return result;
            };
          }
          if (prop === 'jobClaim') {
            return async (params: Parameters<typeof real.jobClaim>[0]) => {
              const claimed = await target.jobClaim(params);
              if (inserting && claimed.length > 0) {
                claimedBeforeReply = true;
                jobClaimed.resolve();
              }
              return claimed;
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const quick = defineTask({ name: 'quick', handler: async () => 'ok' });
      const client = await createJobwire({ driver, tasks: [quick] });
      t.after(async () => {
        await client.close();
        await db.cleanup();
      });
      const recorded = recordEvents(client);
      const pool = client.createPool(testPool);
      await pool.start();
      const job = await client.enqueue(quick, {});
      assert.equal(await client.waitForJob(job.id), 'ok');
      await pool.stop();
      assert.equal(claimedBeforeReply, true, 'the job was claimed before the enqueue reply was read');
      assert.deepEqual(
        recorded.names().filter((n) => n.startsWith('job:')),
        ['job:queued', 'job:started', 'job:completed'],
      );
    });

    it('a job retried by hand and claimed before the retry reply was read still starts after job:retried', async (t) => {
      const db = await factory.create();
      const real = await db.open();
      // The retry commits at once, but its reply is read only once a claim has taken the job.
      const jobClaimed = deferred();
      let claimedBeforeReply = false;
      let retrying = false;
      const driver = new Proxy(real, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop === 'jobRetry') {
            return async (params: Parameters<typeof real.jobRetry>[0]) => {
              retrying = true;
              const result = await target.jobRetry(params);
              const timer = setTimeout(jobClaimed.resolve, 10_000);
              await jobClaimed.promise;
              clearTimeout(timer);
              retrying = false;
              return result;
            };
          }
          if (prop === 'jobClaim') {
            return async (params: Parameters<typeof real.jobClaim>[0]) => {
              const claimed = await target.jobClaim(params);
              if (retrying && claimed.length > 0) {
                claimedBeforeReply = true;
                jobClaimed.resolve();
              }
              return claimed;
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
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
      assert.equal(claimedBeforeReply, true, 'the job was claimed before the retry reply was read');
      assert.deepEqual(
        recorded.names().filter((n) => n.startsWith('job:')),
        ['job:retried', 'job:started', 'job:completed'],
      );
    });
  });
}
