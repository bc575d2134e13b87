/**
 * Flow-control holds through the client and a pool: a key at its concurrency limit is reported
 * held once however many claim rounds pass over it (`flow:held`), let go with how long it was
 * held when its next job starts (`flow:unheld`), on the claiming process's bus and in the
 * durable log (`jobwire.events.read`) with the same payloads; and a pool claims again when a
 * rate limit allows the next start, not at its next poll. Part of `runClientConformance`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { deferred, recordEvents, testPool, until, watchCalls, withClient } from './harness.js';

export function runFlowHoldSuite(factory: ConformanceDatabases): void {
  describe(`flow-control holds through a pool (${factory.name})`, () => {
    it('a key at its limit is held once across claim rounds, let go at its next start, in the bus and the log', async (t) => {
      const gates = [deferred(), deferred(), deferred()];
      const task = defineTask<{ n: number }>({
        name: 'held-task',
        handler: async ({ n }) => gates[n]!.promise,
      });
      let claims!: ReturnType<typeof watchCalls<'jobClaim'>>;
      const { client } = await withClient(t, factory, {
        tasks: [task],
        flow: [{ queue: 'default', key: '*', concurrency: 1 }],
        wrapDriver: (driver) => {
          claims = watchCalls(driver, 'jobClaim');
          return claims.driver;
        },
      });
      const recorded = recordEvents(client);
      const jobs: { id: string }[] = [];
      for (const n of [0, 1, 2]) jobs.push(await client.enqueue(task, { n }, { concurrencyKey: 'tenant:a' }));
      await client.enqueue(task, { n: 0 }); // unkeyed: never held
      const pool = client.createPool({ ...testPool, concurrency: 4 });
      await pool.start();
      t.after(() => pool.stop());
      await until(() => recorded.of('flow:held').length === 1, 10_000, 'flow:held');
      // Several more claim rounds pass over the held key (the pool polls every 20 ms).
      const rounds = claims.calls();
      await until(() => claims.calls() >= rounds + 5, 10_000, 'five more claim rounds');
      assert.equal(recorded.of('flow:held').length, 1, 'held once, not once per claim round');
      const [held] = recorded.of('flow:held');
      assert.deepEqual(
        { ...held!, at: 0 },
        {
          queue: 'default',
          key: 'tenant:a',
          scope: 'key',
          limit: 'concurrency',
          running: 1,
          max: 1,
          intervalMs: null,
          at: 0,
        },
      );

      gates[0]!.resolve();
      await until(() => recorded.of('flow:unheld').length === 1, 10_000, 'flow:unheld');
      const [unheld] = recorded.of('flow:unheld');
      assert.equal(unheld!.key, 'tenant:a');
      assert.equal(unheld!.reason, 'started');
      assert.equal(unheld!.heldSince, held!.at);
      assert.equal(unheld!.heldMs, unheld!.at - held!.at);
      assert.ok(unheld!.heldMs >= 0);
      // The hold ended with the start of the key's next job, in the same claim (the log's
      // job:started carries the claim's time; the bus's is the worker's own).
      const secondStart = await client.events.read({
        filter: { types: ['job:started'], jobIds: [jobs[1]!.id] },
      });
      assert.equal(secondStart.events.length, 1, 'the second job started once');
      assert.equal((secondStart.events[0]!.data as { startedAt: number }).startedAt, unheld!.at);

      // The third job now waits behind the second: a new hold, before the second ends.
      await until(() => recorded.of('flow:held').length === 2, 10_000, 'the second flow:held');
      gates[1]!.resolve();
      gates[2]!.resolve();
      await client.waitForJob(jobs[2]!.id, { timeoutMs: 10_000 });
      await pool.stop();

      const bus = recorded.all
        .filter((e) => e.name === 'flow:held' || e.name === 'flow:unheld')
        .map((e) => ({ type: e.name, data: e.event }));
      const page = await client.events.read({ filter: { types: ['flow:held', 'flow:unheld'] }, limit: 100 });
      assert.deepEqual(
        page.events.map((e) => ({ type: e.type, data: e.data })),
        bus,
      );
      // Job 1 and job 2 each waited behind the one before: two holds, each ended by a start.
      assert.deepEqual(
        bus.map((e) => e.type),
        ['flow:held', 'flow:unheld', 'flow:held', 'flow:unheld'],
      );
      assert.ok(bus.every((e) => (e.data as { key: string | null }).key === 'tenant:a'));
    });

    it('a rate-limited key runs at its rate, not one start per poll', async (t) => {
      // 20 per second, burst 1: a start every 50 ms. The pool polls once a minute, so only a
      // wake-up at the rate's next start can keep the jobs going (before, one ran per poll).
      const task = defineTask({ name: 'rated-task', handler: async () => {} });
      const { client } = await withClient(t, factory, {
        tasks: [task],
        flow: [{ queue: 'default', key: '*', rate: { limit: 20, interval: 1000 } }],
      });
      const jobs = await client.enqueueMany(
        Array.from({ length: 6 }, () => ({ task, payload: {}, options: { concurrencyKey: 'api' } })),
      );
      const pool = client.createPool({ ...testPool, pollIntervalMs: 60_000, concurrency: 4 });
      await pool.start();
      t.after(() => pool.stop());
      for (const job of jobs) await client.waitForJob(job.id, { timeoutMs: 15_000 });
      await pool.stop();
      // The limit still holds: n starts span at least (n - 1) emission intervals (GCRA, burst 1),
      // with a little slack for the clock's resolution.
      const starts: number[] = [];
      for (const job of jobs) starts.push((await client.getJob(job.id))!.startedAt!.getTime());
      starts.sort((a, b) => a - b);
      assert.ok(starts.at(-1)! - starts[0]! >= 5 * 50 - 10, `starts too close: ${starts.join(', ')}`);
    });
  });
}
