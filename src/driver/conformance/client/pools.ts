/**
 * The pool registry through whole clients, on every driver: several clients ("processes") on one
 * database each list every running pool with its worker and busy counts; a stopped pool's row
 * is gone; a pool whose process vanished (its heartbeats stop, its row stays) is reaped by the
 * leader and reported `pool:lost` exactly once in the cluster.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it, type TestContext } from 'node:test';
import { createJobwire, type Jobwire, type JobwireOptions } from '../../../core/client.js';
import { InvalidOptionError } from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import type { Driver } from '../../driver.js';
import type { ConformanceDatabases } from './databases.js';
import { deferred, nextEvent, recordEvents, testPool, until, watchCalls } from './harness.js';

/** Fast maintenance, so the leader sweeps often. */
const MAINTENANCE = { rescueIntervalMs: 50, leaderTtlMs: 5000 } as const;

/** Clients sharing one fresh database, each on its own driver; all closed when the test ends. */
async function sharedDatabase(t: TestContext, factory: ConformanceDatabases) {
  const db = await factory.create();
  const clients: Jobwire[] = [];
  t.after(async () => {
    for (const client of clients) await client.close();
    await db.cleanup();
  });
  return {
    async client(
      options: Omit<JobwireOptions, 'driver'> = {},
      wrapDriver: (driver: Driver) => Driver = (driver) => driver,
    ) {
      const raw = await db.open();
      const client = await createJobwire({ maintenance: MAINTENANCE, ...options, driver: wrapDriver(raw) });
      clients.push(client);
      return { client, driver: raw };
    },
  };
}

export function runPoolRegistrySuite(factory: ConformanceDatabases): void {
  describe(`pool registry (${factory.name})`, () => {
    it('every client lists the pools of every client, with busy counts; a stopped pool is gone', async (t) => {
      const gate = deferred();
      const started = deferred();
      const task = defineTask({
        name: 'hold',
        handler: async () => {
          started.resolve();
          await gate.promise;
        },
      });
      const shared = await sharedDatabase(t, factory);
      const { client: a } = await shared.client({ tasks: [task] });
      const { client: b } = await shared.client({ tasks: [task] });
      assert.deepEqual(await a.listPools(), []);
      const poolA = a.createPool({ ...testPool, id: 'pool-a', queues: ['mail'], concurrency: 3 });
      // One id names one pool (before: both ran, and the first to stop removed the other's row).
      assert.throws(
        () => a.createPool({ ...testPool, id: 'pool-a' }),
        (error: unknown) => error instanceof InvalidOptionError && error.field === 'id',
      );
      const poolB = b.createPool({ ...testPool, id: 'pool-b', concurrency: 2, heartbeatIntervalMs: 50 });
      await poolA.start();
      await poolB.start();
      for (const client of [a, b]) {
        const pools = await client.listPools();
        assert.deepEqual(
          pools.map((p) => [p.poolId, p.queues, p.concurrency, p.busy, p.state]),
          [
            ['pool-a', ['mail'], 3, 0, 'running'],
            ['pool-b', ['default'], 2, 0, 'running'],
          ],
        );
        for (const pool of pools) {
          assert.equal(pool.host, hostname());
          assert.equal(pool.pid, process.pid);
          assert.ok(pool.lastSeenAt >= pool.startedAt - 1000, 'seen after it started');
        }
      }

      // A busy worker shows at pool-b's next registry heartbeat, in the other client too.
      await a.enqueue(task, {});
      await started.promise;
      await until(
        async () => (await a.listPools()).find((p) => p.poolId === 'pool-b')?.busy === 1,
        5000,
        'busy 1',
      );

      gate.resolve();
      await poolB.stop();
      assert.deepEqual(
        (await a.listPools()).map((p) => p.poolId),
        ['pool-a'],
        'a stopped pool removes its row',
      );
      await poolA.stop();
      assert.deepEqual(await b.listPools(), []);
    });

    it('a pool whose process vanished is reaped by the leader and reported lost once', async (t) => {
      const shared = await sharedDatabase(t, factory);
      let reaps!: ReturnType<typeof watchCalls<'poolReapStale'>>;
      const { client: leader } = await shared.client({}, (driver) => {
        reaps = watchCalls(driver, 'poolReapStale');
        return reaps.driver;
      });
      const { client: survivor } = await shared.client();
      const { client: doomed, driver: doomedDriver } = await shared.client();
      const lost = [recordEvents(leader), recordEvents(survivor), recordEvents(doomed)];

      const elected = nextEvent(leader, 'leader:elected');
      await leader.createPool({ ...testPool, id: 'leader-pool' }).start();
      await elected;
      await survivor.createPool({ ...testPool, id: 'survivor-pool', heartbeatIntervalMs: 50 }).start();
      await doomed.createPool({ ...testPool, id: 'doomed-pool', heartbeatIntervalMs: 50 }).start();
      assert.deepEqual((await survivor.listPools()).map((p) => p.poolId).sort(), [
        'doomed-pool',
        'leader-pool',
        'survivor-pool',
      ]);

      // The process "dies": its connection goes, so its pool neither beats nor removes its row.
      const reported = nextEvent(leader, 'pool:lost');
      await doomedDriver.close();
      const event = await reported;
      assert.equal(event.poolId, 'doomed-pool');
      assert.equal(event.host, hostname());
      assert.equal(event.pid, process.pid);
      assert.ok(event.lastSeenAt <= event.at, 'last seen before it was reported');

      // A whole later sweep finds nothing more to reap.
      assert.deepEqual(await reaps.nextCall(), []);
      assert.deepEqual((await survivor.listPools()).map((p) => p.poolId).sort(), [
        'leader-pool',
        'survivor-pool',
      ]);
      const reports = lost.flatMap((recorded) => recorded.of('pool:lost'));
      assert.deepEqual(
        reports.map((e) => e.poolId),
        ['doomed-pool'],
        'one pool:lost in the whole cluster, from the leader',
      );
    });
  });
}
