/**
 * The leader-only queue-health monitor, on every driver: thresholds fire and resolve once (with
 * hysteresis), and once per cluster — two clients on one database, both running pools, and a
 * leader hand-over in the middle.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire, type Jobwire } from '../../../core/client.js';
import { InvalidOptionError } from '../../../core/errors.js';
import { clientInternals } from '../../../core/internals.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { nextEvent, recordEvents, testPool, withClient } from './harness.js';

/** A task of queue `mail` that the tests never run (no pool takes `mail` until they drain it). */
const mail = defineTask({ name: 'mail.send', queue: 'mail', handler: async () => 'sent' });
/** A task of another queue: its pools keep the electors running. */
const other = defineTask({ name: 'other.work', queue: 'other', handler: async () => 'done' });

const maintenance = { rescueIntervalMs: 20, leaderTtlMs: 1000, outageGraceMs: 0 };

/** Resolve once `client` emitted `count` more `queue:health` events for `queue`: evaluations ran. */
function evaluations(client: Jobwire, queue: string, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const off = client.events.on('queue:health', (event) => {
      if (event.queue !== queue || ++seen < count) return;
      off();
      resolve();
    });
  });
}

export function runHealthSuite(factory: ConformanceDatabases): void {
  describe(`queue health (${factory.name})`, () => {
    it('a queue past maxPending fires alert:fired once; drained, alert:resolved once', async (t) => {
      const { client } = await withClient(t, factory, {
        tasks: [mail, other],
        maintenance,
        health: { intervalMs: 1000, queues: { mail: { maxPending: 3 } } },
      });
      const recorded = recordEvents(client);
      const { leader } = clientInternals(client);
      const jobs: { id: string }[] = [];
      for (let i = 0; i < 5; i++) jobs.push(await client.enqueue(mail, {}));

      // runOnce: one election and every leader service now, whatever its interval.
      for (let i = 0; i < 3; i++) await leader.runOnce();
      assert.equal(leader.isLeader, true);
      const [fired, ...firedAgain] = recorded.of('alert:fired');
      assert.deepEqual(firedAgain, [], 'fired once while above the threshold');
      assert.ok(fired);
      assert.deepEqual(
        { ...fired, at: 0 },
        {
          alertId: 'queue-backlog:mail',
          queue: 'mail',
          kind: 'queue-backlog',
          value: 5,
          threshold: 3,
          at: 0,
        },
      );
      assert.deepEqual(recorded.of('queue:backlog'), [fired]);
      const health = recorded.of('queue:health').filter((e) => e.queue === 'mail');
      assert.equal(health.length, 3);
      assert.equal(health[0]?.pending, 5);

      // At the threshold (3 waiting) is above 80 % of it: the alert holds.
      await client.cancelJob(jobs[0]!.id);
      await client.cancelJob(jobs[1]!.id);
      await leader.runOnce();
      assert.deepEqual(recorded.of('alert:resolved'), [], 'holds between 80 % and the threshold');

      const pool = client.createPool({ ...testPool, queues: ['mail'] });
      await pool.start();
      const drained = [2, 3, 4].map((i) => client.waitForJob(jobs[i]!.id));
      await Promise.all(drained);
      await pool.stop();
      for (let i = 0; i < 3; i++) await leader.runOnce();

      const [resolved, ...resolvedAgain] = recorded.of('alert:resolved');
      assert.deepEqual(resolvedAgain, [], 'resolved once');
      assert.ok(resolved);
      assert.equal(resolved.alertId, 'queue-backlog:mail');
      assert.equal(resolved.value, 0);
      assert.equal(resolved.firedAt, fired.at);
      assert.equal(recorded.of('alert:fired').length, 1, 'not fired again');
      const stats = await client.queueStats();
      assert.equal(stats.find((entry) => entry.queue === 'mail')?.pending, 0);
      await assert.rejects(client.queueStats({ windowMs: 0 }), InvalidOptionError);
    });

    it('two processes: each alert fires and resolves once per cluster, across a leader hand-over', async (t) => {
      const db = await factory.create();
      const options = {
        tasks: [mail, other],
        maintenance,
        health: { intervalMs: 20, queues: { mail: { maxPending: 2 } } },
      };
      const a = await createJobwire({ ...options, driver: await db.open() });
      const b = await createJobwire({ ...options, driver: await db.open(), migrate: false });
      t.after(async () => {
        await Promise.all([a.close(), b.close()]);
        await db.cleanup();
      });
      const events = { a: recordEvents(a), b: recordEvents(b) };
      const poolA = a.createPool({ ...testPool, queues: ['other'] });
      const poolB = b.createPool({ ...testPool, queues: ['other'] });
      await Promise.all([poolA.start(), poolB.start()]);

      const firedOnEither = Promise.any([nextEvent(a, 'alert:fired'), nextEvent(b, 'alert:fired')]);
      const jobs: { id: string }[] = [];
      for (let i = 0; i < 3; i++) jobs.push(await a.enqueue(mail, {}));
      await firedOnEither;

      // Stop the leader's pool: it resigns and the other process takes over.
      const aLed = clientInternals(a).leader.isLeader;
      const [oldPool, heir] = aLed ? [poolA, b] : [poolB, a];
      const elected = nextEvent(heir, 'leader:elected');
      await oldPool.stop();
      await elected;
      // The heir evaluates the queue, still above its threshold, several times: no second firing.
      await evaluations(heir, 'mail', 3);

      const resolved = nextEvent(heir, 'alert:resolved');
      for (const job of jobs) await a.cancelJob(job.id);
      await resolved;
      await evaluations(heir, 'mail', 3);

      const fired = [...events.a.of('alert:fired'), ...events.b.of('alert:fired')];
      const resolvedAll = [...events.a.of('alert:resolved'), ...events.b.of('alert:resolved')];
      assert.equal(fired.length, 1, 'fired once in the cluster');
      assert.equal(resolvedAll.length, 1, 'resolved once in the cluster');
      assert.equal(fired[0]?.alertId, 'queue-backlog:mail');
      assert.equal(resolvedAll[0]?.firedAt, fired[0]?.at);
      assert.equal(events[aLed ? 'b' : 'a'].of('alert:resolved').length, 1, 'the heir resolved it');
    });

    it('an alert whose threshold is taken out of the configuration resolves once', async (t) => {
      const db = await factory.create();
      const clients: Jobwire[] = [];
      t.after(async () => {
        await Promise.all(clients.map((client) => client.close()));
        await db.cleanup();
      });
      const fire = await createJobwire({
        driver: await db.open(),
        tasks: [mail, other],
        maintenance,
        health: { intervalMs: 1000, queues: { mail: { maxPending: 1, maxOldestPendingMs: 3_600_000 } } },
      });
      clients.push(fire);
      for (let i = 0; i < 3; i++) await fire.enqueue(mail, {});
      const firedEvents = recordEvents(fire);
      for (let i = 0; i < 2; i++) await clientInternals(fire).leader.runOnce();
      assert.deepEqual(
        firedEvents.of('alert:fired').map((e) => e.alertId),
        ['queue-backlog:mail'],
      );
      await fire.close();

      // Redeployed without maxPending: nothing evaluates that alert any more, so it resolves.
      const client = await createJobwire({
        driver: await db.open(),
        tasks: [mail, other],
        maintenance,
        migrate: false,
        health: { intervalMs: 1000, queues: { mail: { maxOldestPendingMs: 3_600_000 } } },
      });
      clients.push(client);
      const recorded = recordEvents(client);
      for (let i = 0; i < 3; i++) await clientInternals(client).leader.runOnce();
      const resolved = recorded.of('alert:resolved');
      assert.deepEqual(
        resolved.map((e) => [e.alertId, e.kind, e.value, e.threshold]),
        [['queue-backlog:mail', 'queue-backlog', 3, 1]],
        'resolved once, with the current value and the threshold it fired on',
      );
      assert.equal(resolved[0]?.firedAt, firedEvents.of('alert:fired')[0]?.at);
      assert.deepEqual(recorded.of('alert:fired'), [], 'the remaining threshold is not exceeded');
    });

    it('an alert resolved after its threshold was raised reports the threshold in force', async (t) => {
      const db = await factory.create();
      const clients: Jobwire[] = [];
      t.after(async () => {
        await Promise.all(clients.map((client) => client.close()));
        await db.cleanup();
      });
      const open = async (maxPending: number) => {
        const client = await createJobwire({
          driver: await db.open(),
          tasks: [mail, other],
          maintenance,
          migrate: clients.length === 0,
          health: { intervalMs: 1000, queues: { mail: { maxPending } } },
        });
        clients.push(client);
        return client;
      };
      const first = await open(1);
      for (let i = 0; i < 3; i++) await first.enqueue(mail, {});
      for (let i = 0; i < 2; i++) await clientInternals(first).leader.runOnce();
      await first.close();
      // Raised to 10: 3 waiting is under the resolve level (80 % of 10), so the alert resolves.
      const raised = await open(10);
      const recorded = recordEvents(raised);
      for (let i = 0; i < 3; i++) await clientInternals(raised).leader.runOnce();
      // Before: threshold 1, beside a value of 3 — "resolved" while over its own threshold.
      assert.deepEqual(
        recorded.of('alert:resolved').map((e) => [e.alertId, e.value, e.threshold]),
        [['queue-backlog:mail', 3, 10]],
      );
    });
  });
}
