/**
 * When a pool wakes and when it says it is idle, on every driver: it starts a retry or a snooze
 * at the due time it learnt from its own write rather than at its next poll; `worker:idle` and
 * `whenIdle()` mean "nothing left to take"; a shutdown cut-off keeps the attempt history honest;
 * progress reaches storage soon after the handler reports it, not a heartbeat period later.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SnoozeError } from '../../../core/errors.js';
import type { JobwireEventName } from '../../../core/events.js';
import { STARTS_PER_TURN } from '../../../core/pool/prefetch.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { deferred, nextEvent, recordEvents, testPool, until, withClient } from './harness.js';

/** A poll so slow that a job started within the test's timeout was not found by it. */
const SLOW_POLL = { ...testPool, pollIntervalMs: 60_000 } as const;

export function runPoolWakeupSuite(factory: ConformanceDatabases): void {
  describe(`pool wake-ups and idleness (${factory.name})`, () => {
    it('a pool draining short jobs gives the event loop a turn at least every STARTS_PER_TURN starts', async (t) => {
      // Once its jobs run in under 1 ms a pool claims hundreds at a time (prefetch 'auto'); started
      // one after another in microtasks they would all run in one turn, and timers and I/O wait.
      const JOBS = 3000;
      const CONCURRENCY = 10;
      let turn = 0;
      let ticking = true;
      const tick = () => {
        turn++;
        if (ticking) setImmediate(tick);
      };
      const startsPerTurn = new Map<number, number>();
      let done = 0;
      const drained = deferred();
      const task = defineTask({
        name: 'tiny',
        handler: async () => {
          startsPerTurn.set(turn, (startsPerTurn.get(turn) ?? 0) + 1);
          if (++done === JOBS) drained.resolve();
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      for (let i = 0; i < JOBS; i += 1000) {
        await client.enqueueMany(Array.from({ length: 1000 }, (_, k) => ({ task, payload: { i: i + k } })));
      }
      const pool = client.createPool({ ...testPool, concurrency: CONCURRENCY });
      setImmediate(tick);
      await pool.start();
      await drained.promise;
      ticking = false;
      await pool.stop();
      const most = Math.max(...startsPerTurn.values());
      // Besides the limited starts as attempts end, a turn fills free slots when a claim lands
      // and when the next fill begins: at most `concurrency` each.
      assert.ok(
        most <= STARTS_PER_TURN + 2 * CONCURRENCY,
        `${most} jobs started in one turn of the event loop`,
      );
    });

    it('a retry starts at its backoff due time, not at the next poll', async (t) => {
      let runs = 0;
      const task = defineTask({
        name: 'retry-soon',
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 200 },
        handler: async () => {
          runs++;
          if (runs === 1) throw new Error('first attempt fails');
          return 'second';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const pool = client.createPool(SLOW_POLL);
      await pool.start();
      const job = await client.enqueue(task, {});
      // The poll would come after 60 s; the retry is due after 200 ms.
      assert.equal(await client.waitForJob(job.id, { timeoutMs: 5000 }), 'second');
      assert.equal(runs, 2);
      await pool.stop();
    });

    it('a snoozed job runs again at its due time, not at the next poll', async (t) => {
      let runs = 0;
      const task = defineTask({
        name: 'snooze-soon',
        handler: async () => {
          runs++;
          if (runs === 1) throw new SnoozeError(300);
          return 'awake';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const recorded = recordEvents(client);
      const pool = client.createPool(SLOW_POLL);
      await pool.start();
      const job = await client.enqueue(task, {});
      assert.equal(await client.waitForJob(job.id, { timeoutMs: 5000 }), 'awake');
      assert.equal(recorded.of('job:snoozed').length, 1);
      await pool.stop();
    });

    it('worker:idle comes only once nothing is left to take, not after every job of a backlog', async (t) => {
      const task = defineTask({ name: 'backlog', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const jobs = await client.enqueueMany(Array.from({ length: 5 }, () => ({ task, payload: {} })));
      const order: JobwireEventName[] = [];
      for (const name of ['worker:idle', 'job:started', 'job:completed'] as const) {
        client.events.on(name, () => order.push(name));
      }
      const pool = client.createPool({ ...testPool, concurrency: 1, prefetch: 0 });
      const idle = nextEvent(client, 'worker:idle');
      await pool.start();
      await idle;
      await pool.whenIdle();
      const states = await Promise.all(jobs.map(async (job) => (await client.getJob(job.id))!.state));
      assert.deepEqual(
        states,
        ['completed', 'completed', 'completed', 'completed', 'completed'],
        order.join(', '),
      );
      const firstIdle = order.indexOf('worker:idle');
      assert.equal(
        order.lastIndexOf('job:started') < firstIdle,
        true,
        `idle while jobs waited: ${order.join(', ')}`,
      );
      await pool.stop();
    });

    it('whenIdle() right after start() waits until the pending jobs are done', async (t) => {
      const task = defineTask({ name: 'pending-at-start', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const jobs = await client.enqueueMany(Array.from({ length: 3 }, () => ({ task, payload: {} })));
      const pool = client.createPool({ ...testPool, concurrency: 1, prefetch: 0 });
      const recorded = recordEvents(client);
      await pool.start();
      await pool.whenIdle();
      const states = await Promise.all(jobs.map(async (job) => (await client.getJob(job.id))!.state));
      assert.deepEqual(states, ['completed', 'completed', 'completed'], recorded.names().join(', '));
      await pool.stop();
    });

    it('a cut-off retry attempt is reported, recorded under its number, and run again as that number', async (t) => {
      let runs = 0;
      const task = defineTask({
        name: 'fail-then-hang',
        maxAttempts: 3,
        backoff: { type: 'fixed', delayMs: 0 },
        handler: async () => {
          runs++;
          if (runs === 1) throw new Error('first attempt fails');
          if (runs === 2) return new Promise<never>(() => {});
          return 'third run';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const recorded = recordEvents(client);
      const first = client.createPool({ ...testPool, concurrency: 1 });
      await first.start();
      const secondStart = nextEvent(client, 'job:started', (e) => e.attempt === 2);
      const job = await client.enqueue(task, {});
      await secondStart;
      await first.stop({ graceMs: 20 });

      const [interrupted] = recorded.of('job:interrupted');
      assert.equal(interrupted?.attempt, 2);
      const stored = await client.getJob(job.id);
      assert.equal(stored!.attempt, 1, 'the cut-off attempt is given back');
      assert.deepEqual(
        stored!.errors.map((e) => [e.attempt, e.interrupted === true]),
        [
          [1, false],
          [2, true],
        ],
      );

      const second = client.createPool({ ...testPool, concurrency: 1 });
      await second.start();
      assert.equal(await client.waitForJob(job.id), 'third run');
      assert.deepEqual(
        recorded.of('job:started').map((e) => e.attempt),
        [1, 2, 2],
      );
      await second.stop();
    });

    it('progress reaches storage soon after it is reported, long before the next heartbeat', async (t) => {
      const release = deferred();
      const task = defineTask({
        name: 'reports-progress',
        handler: async (_payload, context) => {
          context.progress({ step: 1 });
          await release.promise;
          return 'done';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const pool = client.createPool({ ...testPool, leaseMs: 600_000, heartbeatIntervalMs: 300_000 });
      const progressed = nextEvent(client, 'job:progress');
      await pool.start();
      const job = await client.enqueue(task, {});
      await progressed;
      try {
        await until(
          async () => JSON.stringify((await client.getJob(job.id))?.progress) === '{"step":1}',
          5000,
          'the progress in storage',
        );
      } finally {
        release.resolve();
      }
      assert.equal(await client.waitForJob(job.id), 'done');
      await pool.stop();
    });
  });
}
