/**
 * A job's stored progress is the last value its handler reported, whatever the outcome: heartbeats
 * store progress at most every `PROGRESS_FLUSH_MS`, so a value reported just before the handler
 * returns or throws reaches storage with the outcome. Part of `runClientConformance`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Jobwire } from '../../../core/client.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { testPool, until, withClient } from './harness.js';

/** Reports a first value (stored at once: no flush is pending), then the last one within the throttle. */
async function reportTwice(progress: (value: unknown) => void, last: unknown): Promise<void> {
  progress({ step: 'first' });
  // Long enough for the first flush to be written, well inside the 250 ms throttle.
  await new Promise((r) => setTimeout(r, 40));
  progress(last);
}

async function stateOf(client: Jobwire, id: string, state: string): Promise<unknown> {
  await until(async () => (await client.getJob(id))?.state === state, 10_000, `job ${id} ${state}`);
  return (await client.getJob(id))!.progress;
}

export function runProgressSuite(factory: ConformanceDatabases): void {
  describe(`stored progress (${factory.name})`, () => {
    it('the value reported just before an attempt ends is stored: completed, retried, abandoned', async (t) => {
      const done = defineTask({
        name: 'done',
        handler: async (_: unknown, { progress }) => {
          await reportTwice(progress, { step: 'last', percent: 100 });
          return 'ok';
        },
      });
      const retried = defineTask({
        name: 'retried',
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 60_000 },
        handler: async (_: unknown, { progress }) => {
          await reportTwice(progress, { step: 'failed here' });
          throw new Error('try again later');
        },
      });
      const abandoned = defineTask({
        name: 'abandoned',
        maxAttempts: 1,
        handler: async (_: unknown, { progress }) => {
          await reportTwice(progress, 99);
          throw new Error('for good');
        },
      });
      const { client } = await withClient(t, factory, { tasks: [done, retried, abandoned] });
      const jobs = [
        await client.enqueue(done, {}),
        await client.enqueue(retried, {}),
        await client.enqueue(abandoned, {}),
      ];
      const pool = client.createPool({ ...testPool, concurrency: 3 });
      t.after(() => pool.stop({ graceMs: 0 }));
      await pool.start();
      assert.deepEqual(await stateOf(client, jobs[0]!.id, 'completed'), { step: 'last', percent: 100 });
      assert.deepEqual(await stateOf(client, jobs[1]!.id, 'scheduled'), { step: 'failed here' });
      assert.equal(await stateOf(client, jobs[2]!.id, 'abandoned'), 99);
    });

    it('a job with dependents (the transactional finish) stores its last progress too', async (t) => {
      const parent = defineTask({
        name: 'parent',
        handler: async (_: unknown, { progress }) => {
          await reportTwice(progress, 'parent done');
          return 1;
        },
      });
      const child = defineTask({ name: 'child', handler: async () => 2 });
      const { client } = await withClient(t, factory, { tasks: [parent, child] });
      const flow = await client.enqueueFlow({
        parent: { task: parent, payload: {} },
        child: { task: child, payload: {}, dependsOn: ['parent'] },
      });
      const pool = client.createPool({ ...testPool, concurrency: 2 });
      t.after(() => pool.stop({ graceMs: 0 }));
      await pool.start();
      await stateOf(client, flow.child.id, 'completed');
      assert.equal((await client.getJob(flow.parent.id))!.progress, 'parent done');
    });
  });
}
