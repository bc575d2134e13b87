/**
 * Bad outcomes: whatever a handler throws, returns or reports as progress ends in the same typed,
 * stored outcome on every driver, and never holds back the other jobs of its batch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Jobwire } from '../../../core/client.js';
import { InvalidOptionError } from '../../../core/errors.js';
import { clientInternals } from '../../../core/internals.js';
import { Finalizer } from '../../../core/pool/finalizer.js';
import { unstorableTextReason } from '../../../core/storable.js';
import { defineTask } from '../../../core/task.js';
import type { JobRecord } from '../../../core/types.js';
import type { FinalizeItem, FinalizeResult } from '../../driver.js';
import type { ConformanceDatabases } from './databases.js';
import { recordEvents, testPool, until, withClient } from './harness.js';

const NUL = '\u0000';
const CUT_NOTE = /… \[\d+ more characters cut\]$/u;

/** Hostile: every property read throws. */
function hostileError(): Error {
  const error = new Error('hidden');
  for (const key of ['stack', 'message', 'name'] as const) {
    Object.defineProperty(error, key, {
      get() {
        throw new Error(`${key} getter`);
      },
    });
  }
  return error;
}

/** Things handlers throw, each with what must be stored as `{ name, message }`. */
const THROWN: { label: string; make: () => unknown; name: string; message: string | RegExp }[] = [
  { label: 'NUL in the message', make: () => new Error(`a${NUL}b`), name: 'Error', message: 'a\u2400b' },
  {
    label: 'NUL in the name',
    make: () => Object.assign(new Error('named'), { name: `Bad${NUL}` }),
    name: 'Bad\u2400',
    message: 'named',
  },
  { label: 'a lone high surrogate', make: () => new Error('x\ud83dy'), name: 'Error', message: 'x\ufffdy' },
  { label: 'a lone low surrogate', make: () => new Error('\ude00'), name: 'Error', message: '\ufffd' },
  {
    label: 'an emoji string cut at 4,096 in a pair',
    make: () => new Error(`a${'😀'.repeat(3000)}`),
    name: 'Error',
    message: /^a(😀)+… \[\d+ more characters cut\]$/u,
  },
  {
    label: 'a 10 MB message with NUL',
    make: () => new Error(`${NUL}${'m'.repeat(10 * 1024 * 1024)}`),
    name: 'Error',
    message: /^\u2400m+… \[\d+ more characters cut\]$/u,
  },
  { label: 'a string with NUL', make: () => `s${NUL}`, name: 'NonError', message: 's\u2400' },
  {
    label: 'hostile getters',
    make: hostileError,
    name: 'Error',
    message: '(the error message could not be read: its getter threw)',
  },
];

/** Wait until every job is in a final state. */
async function settled(client: Jobwire, jobs: readonly { id: string }[]): Promise<void> {
  await until(
    async () => {
      for (const job of jobs) {
        const state = (await client.getJob(job.id))?.state;
        if (state !== 'completed' && state !== 'abandoned') return false;
      }
      return true;
    },
    60_000,
    `${jobs.length} jobs to finish`,
  );
}

export function runBadOutcomeSuite(factory: ConformanceDatabases): void {
  describe(`bad outcomes (${factory.name})`, () => {
    it('errors with NUL, lone surrogates, cut emoji, 10 MB and hostile getters are stored; neighbours complete', async (t) => {
      const thrower = defineTask<{ i: number }>({
        name: 'bad-thrower',
        maxAttempts: 1,
        handler: async ({ i }) => {
          throw THROWN[i]!.make();
        },
      });
      const fine = defineTask({ name: 'fine', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [thrower, fine] });
      const bad = await client.enqueueMany(THROWN.map((_, i) => ({ task: thrower, payload: { i } })));
      const good = await client.enqueueMany(THROWN.map(() => ({ task: fine, payload: {} })));
      // All start together and end in the same turn, so bad and good outcomes share batches.
      const pool = client.createPool({ ...testPool, concurrency: THROWN.length * 2 });
      t.after(() => pool.stop({ graceMs: 0 }));
      await pool.start();
      await settled(client, [...bad, ...good]);
      for (const job of good) assert.equal((await client.getJob(job.id))!.state, 'completed');
      for (const [i, job] of bad.entries()) {
        const stored = (await client.getJob(job.id)) as JobRecord;
        const { label, name, message } = THROWN[i]!;
        assert.equal(stored.state, 'abandoned', label);
        assert.equal(stored.errors.length, 1, label);
        const [error] = stored.errors;
        assert.equal(error!.name, name, label);
        if (typeof message === 'string') assert.equal(error!.message, message, label);
        else assert.ok(message.test(error!.message), `${label}: ${error!.message.slice(-80)}`);
        assert.ok(error!.message.length < 4200, `${label}: ${error!.message.length} characters`);
        if (error!.stack !== undefined)
          assert.equal(unstorableTextReason(error!.stack), undefined, `${label}: stack`);
      }
    });

    it('results: NUL and lone surrogates read back exactly; BigInt and cycles are described; one over maxResultBytes is a stored ResultTooLargeError', async (t) => {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      const RESULTS: unknown[] = [
        { text: `a${NUL}b\ud800` },
        { big: 10n },
        cycle,
        { huge: 'x'.repeat(5000) },
        { multiByte: 'é'.repeat(1500) },
        {
          toJSON() {
            throw new Error(`bad${NUL}`);
          },
        },
      ];
      const returner = defineTask<{ i: number }>({
        name: 'returner',
        maxAttempts: 3,
        handler: async ({ i }) => RESULTS[i],
      });
      const fine = defineTask({ name: 'fine', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [returner, fine], maxResultBytes: 2048 });
      const events = recordEvents(client);
      const jobs = await client.enqueueMany(RESULTS.map((_, i) => ({ task: returner, payload: { i } })));
      const neighbour = await client.enqueue(fine, {});
      const pool = client.createPool({ ...testPool, concurrency: 10 });
      t.after(() => pool.stop({ graceMs: 0 }));
      await pool.start();
      await settled(client, [...jobs, neighbour]);
      const stored = await Promise.all(jobs.map(async (job) => (await client.getJob(job.id))!));
      assert.equal((await client.getJob(neighbour.id))!.state, 'completed');
      assert.equal(stored[0]!.state, 'completed');
      assert.deepEqual(stored[0]!.result, RESULTS[0]);
      for (const i of [1, 2, 5]) {
        assert.equal(stored[i]!.state, 'completed');
        assert.match(
          (stored[i]!.result as { unserializableResult: string }).unserializableResult,
          /could not be encoded as JSON/,
        );
      }
      for (const i of [3, 4]) {
        const job = stored[i]!;
        assert.equal(job.state, 'abandoned', `result ${i} is over the cap`);
        assert.equal(job.result, null);
        assert.equal(job.attempt, 1, 'not retried by itself: its work is done');
        assert.equal(job.errors[0]!.name, 'ResultTooLargeError');
        assert.match(job.errors[0]!.message, /over the 2048-byte limit.*maxResultBytes/);
        const abandoned = events.of('job:abandoned').find((e) => e.jobId === job.id);
        assert.equal(abandoned?.reason, 'unrecoverable');
      }
      assert.equal(events.of('job:completed').filter((e) => e.task === 'returner').length, 4);
      // The durable log holds each result as storage does (described where it is not JSON).
      for (const i of [0, 1, 2, 5]) {
        const [completed] = (await client.jobEvents(jobs[i]!.id)).filter((e) => e.type === 'job:completed');
        assert.ok(completed, `result ${i}: job:completed in the log`);
        assert.deepEqual(
          (completed.data as { result: unknown }).result,
          stored[i]!.result,
          `result ${i} in the log`,
        );
      }
    });

    it('progress with NUL or lone surrogates is stored; progress JSON cannot hold or over the cap is ignored', async (t) => {
      const good = { step: `a${NUL}\udc00` };
      let storedSeen = false;
      const reporter = defineTask({
        name: 'reporter',
        handler: async (_payload, { progress, job }) => {
          progress(good);
          progress({ big: 10n });
          progress('x'.repeat(5000));
          await until(() => storedSeen, 20_000, `progress of ${job.id} stored`);
          return 'done';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [reporter], maxResultBytes: 2048 });
      const job = await client.enqueue(reporter, {});
      const pool = client.createPool({ ...testPool, leaseMs: 600 });
      t.after(() => pool.stop({ graceMs: 0 }));
      await pool.start();
      await until(async () => (await client.getJob(job.id))!.progress !== null, 20_000, 'a heartbeat');
      storedSeen = true;
      assert.deepEqual((await client.getJob(job.id))!.progress, good);
      await settled(client, [job]);
      const done = (await client.getJob(job.id))!;
      assert.equal(done.state, 'completed');
      assert.deepEqual(done.progress, good);
    });

    it('the finalizer writes a batch around an outcome the driver refuses: a replacement error, or a drop whose lease is no longer kept', async (t) => {
      const task = defineTask({ name: 'held', handler: async () => {} });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const jobs = await client.enqueueMany([0, 1, 2, 3].map(() => ({ task, payload: {} })));
      const claimed = await clientInternals(client).runtime.driver.jobClaim({
        queues: ['default'],
        limit: 4,
        leaseMs: 60_000,
        poolId: 'w',
      });
      const lease = (i: number) => {
        const job = claimed.find((c) => c.id === jobs[i]!.id)!;
        return { id: job.id, leaseToken: job.leaseToken };
      };
      const errors: unknown[] = [];
      const finalizer = new Finalizer(
        clientInternals(client).runtime.driver,
        () => clientInternals(client).runtime.dbNow(),
        (error) => errors.push(error),
      );
      t.after(() => finalizer.abandonPending());
      // A BigInt cannot be encoded by any driver: a TypeError specific to this item's values.
      const items: FinalizeItem[] = [
        { ...lease(0), outcome: 'completed', resultJson: '"a"' },
        {
          ...lease(1),
          outcome: 'abandoned',
          error: { name: 'E', message: 'm', attempt: 1, at: 5n as unknown as number },
        },
        { ...lease(2), outcome: 'snoozed', delayMs: 5n as unknown as number },
        { ...lease(3), outcome: 'completed', resultJson: '"d"' },
      ];
      const done: { result: FinalizeResult; written: FinalizeItem }[] = [];
      for (const item of items) finalizer.add(item, (result, written) => done.push({ result, written }));
      assert.equal(await finalizer.drain(20_000), true, 'every outcome settled');
      const byId = new Map(done.map((d) => [d.result.id, d]));
      assert.equal(done.length, 4);
      assert.equal((await client.getJob(jobs[0]!.id))!.state, 'completed');
      assert.equal((await client.getJob(jobs[3]!.id))!.state, 'completed');
      const replaced = (await client.getJob(jobs[1]!.id))!;
      assert.equal(replaced.state, 'abandoned');
      assert.equal(replaced.errors[0]!.name, 'UnstorableOutcomeError');
      assert.match(replaced.errors[0]!.message, /could not be stored/);
      assert.equal(byId.get(jobs[1]!.id)!.written.outcome, 'abandoned');
      // The snooze cannot be written or replaced: dropped, its lease left to expire.
      assert.equal(byId.get(jobs[2]!.id)!.result.applied, false);
      assert.equal((await client.getJob(jobs[2]!.id))!.state, 'running');
      assert.deepEqual([...finalizer.leases()], []);
      assert.ok(errors.length >= 2);
      assert.ok(!CUT_NOTE.test(replaced.errors[0]!.message));
    });
    it('a pool id a database could not store is refused with InvalidOptionError', async (t) => {
      const { client } = await withClient(t, factory);
      for (const id of ['pool\u0000a', 'half \ud800', '', 'x'.repeat(201)]) {
        assert.throws(
          () => client.createPool({ ...testPool, id }),
          (error: unknown) => {
            assert.ok(error instanceof InvalidOptionError, String(error));
            assert.equal(error.field, 'id');
            return true;
          },
        );
      }
      assert.equal(client.createPool({ ...testPool, id: 'host-1:worker 😀' }).id, 'host-1:worker 😀');
    });

    it('outcome writes that keep failing (not an outage) stop heart-beating the job, so it is rescued and runs again', async (t) => {
      let runs = 0;
      const task = defineTask({
        name: 'stuck',
        handler: async () => {
          runs++;
          return runs;
        },
      });
      const { client, db } = await withClient(t, factory, { tasks: [task] });
      assert.ok(
        db.refuseCompletions,
        'the conformance databases must implement refuseCompletions() (see ConformanceDatabase)',
      );
      const lift = await db.refuseCompletions();
      let lifted = false;
      t.after(async () => {
        if (!lifted) await lift();
      });
      const events = recordEvents(client);
      const job = await client.enqueue(task, {});
      const pool = client.createPool({ ...testPool, leaseMs: 600 });
      t.after(() => pool.stop({ graceMs: 0 }));
      await pool.start();
      await until(() => runs === 1, 20_000, 'the first run');
      // Heartbeats succeed; the completion keeps failing. Once the finalizer gives up on keeping
      // its lease, the lease expires and the client's rescuer takes the job back.
      await until(
        () => events.of('job:rescued').some((e) => e.jobId === job.id),
        30_000,
        'the lease of the stuck outcome to expire and the job to be rescued',
      );
      assert.ok(events.of('pool:error').some((e) => e.operation === 'finalize'));
      await lift();
      lifted = true;
      await settled(client, [job]);
      const stored = (await client.getJob(job.id))!;
      assert.equal(stored.state, 'completed');
      // The rescue was an interruption: counted apart, not as a used-up attempt.
      assert.ok(stored.interruptions >= 1, `interruptions ${stored.interruptions}`);
      assert.ok(runs >= 2, `runs ${runs}`);
      assert.equal(stored.result, runs);
    });
  });
}
