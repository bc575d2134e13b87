/**
 * `whenIdle()` means "everything this pool ran is in storage": with the outcome write held
 * back (the real SQLite driver underneath, its finalize reply delayed), an empty claim alone
 * must not resolve it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire, type Driver, defineTask } from '../src/index.js';
import { deferred, nextEvent, testPool } from './support/harness.js';
import { sqliteDatabases } from './support/sqlite.js';

describe('whenIdle with an outcome write in flight', () => {
  it('waits for the write, not just for a claim that found nothing', async (t) => {
    const db = await sqliteDatabases.create();
    const real = await db.open();
    const gate = deferred();
    const writeStarted = deferred();
    let emptyClaims = 0;
    let emptyClaimSeen = deferred();
    const driver = new Proxy(real, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === 'jobFinalizeMany') {
          return async (params: Parameters<Driver['jobFinalizeMany']>[0]) => {
            writeStarted.resolve();
            await gate.promise;
            return target.jobFinalizeMany(params);
          };
        }
        if (prop === 'jobClaim') {
          return async (params: Parameters<Driver['jobClaim']>[0]) => {
            const jobs = await target.jobClaim(params);
            if (jobs.length === 0) {
              emptyClaims++;
              emptyClaimSeen.resolve();
            }
            return jobs;
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const task = defineTask({ name: 'quick', handler: async () => 'ok' });
    const client = await createJobwire({ driver, tasks: [task] });
    t.after(async () => {
      gate.resolve();
      await client.close();
      await db.cleanup();
    });
    const job = await client.enqueue(task, {});
    const pool = client.createPool({ ...testPool, concurrency: 1 });
    const busy = nextEvent(client, 'worker:busy');
    await pool.start();
    let idle = false;
    const whenIdle = pool.whenIdle().then(() => {
      idle = true;
    });
    await busy;
    await writeStarted.promise;
    // Claims after the attempt find nothing while its outcome is still being written.
    const claimsBefore = emptyClaims;
    emptyClaimSeen = deferred();
    await emptyClaimSeen.promise;
    assert.ok(emptyClaims > claimsBefore);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idle, false, 'whenIdle() resolved while the outcome was still being written');
    gate.resolve();
    await whenIdle;
    assert.equal((await client.getJob(job.id))!.state, 'completed');
    await pool.stop();
  });
});
