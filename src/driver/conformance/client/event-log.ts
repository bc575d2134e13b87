/**
 * The durable event log on every driver, in one process: what a write stores is what the bus
 * emits (same payloads, same order per job), reads page without gaps or repeats, filters,
 * timelines, retention with the typed expiry error, subscriptions that resume from their stored
 * position, a rolled-back transactional enqueue that leaves no event, and the log switched off.
 * (Many writer and reader processes: `event-log-processes.ts`.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Jobwire } from '../../../core/client.js';
import { EventCursorExpiredError, InvalidOptionError, UnrecoverableError } from '../../../core/errors.js';
import type { LoggedEvent } from '../../../core/event-log/types.js';
import type { JobwireEventName } from '../../../core/events.js';
import { clientInternals } from '../../../core/internals.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { nextEvent, recordEvents, testPool, until, withClient } from './harness.js';

/** Completes, fails once then completes, or fails for good, by payload. */
const work = defineTask({
  name: 'log.work',
  maxAttempts: 2,
  backoff: { type: 'fixed', delayMs: 1 },
  handler: async (payload: { kind: 'ok' | 'flaky' | 'bad' }, ctx) => {
    if (payload.kind === 'bad') throw new UnrecoverableError('bad input');
    if (payload.kind === 'flaky' && ctx.job.attempt === 1) throw new Error('first try fails');
    return { done: payload.kind };
  },
});
const idle = defineTask({ name: 'log.idle', queue: 'parked', handler: async () => {} });

/** Every event in the log after `after`, read in pages of `limit`. */
async function readAll(
  client: {
    events: { read: (o: object) => Promise<{ events: LoggedEvent[]; cursor: string; more: boolean }> };
  },
  after: string,
  limit = 1000,
): Promise<{ events: LoggedEvent[]; cursor: string }> {
  const events: LoggedEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await client.events.read({ after: cursor, limit });
    events.push(...page.events);
    cursor = page.cursor;
    if (!page.more) return { events, cursor };
  }
}

const jobIdOf = (event: { data: unknown }): string | undefined => (event.data as { jobId?: string }).jobId;

/** Fields whose value is a time the bus and the database may take at different moments. */
const TIMES = new Set(['at', 'queuedAt', 'startedAt', 'waitMs', 'completedAt', 'failedAt', 'nextRunAt']);
const withoutTimes = (data: unknown): Record<string, unknown> =>
  Object.fromEntries(Object.entries(data as object).filter(([key]) => !TIMES.has(key)));

export function runEventLogSuite(factory: ConformanceDatabases): void {
  describe(`event log (${factory.name})`, () => {
    it('stores what the bus emits: every stored event, same payloads, each job in order', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work, idle] });
      const start = await client.events.head();
      const recorded = recordEvents(client);
      const jobs = [
        await client.enqueue(work, { kind: 'ok' }, { metadata: { videoId: 'v42' } }),
        // A correlation id JSON must escape: drivers that build entries in SQL escape it too.
        await client.enqueue(work, { kind: 'flaky' }, { correlationId: 'quote " slash \\ tab \t snow ☃ 😀' }),
        await client.enqueue(work, { kind: 'bad' }),
      ];
      const pool = client.createPool({ ...testPool, concurrency: 2 });
      await pool.start();
      await until(async () => {
        const states = await Promise.all(jobs.map(async (j) => (await client.getJob(j.id))?.state));
        return states.every((s) => s === 'completed' || s === 'abandoned');
      });
      await pool.stop();
      const parked = await client.enqueue(idle, {});
      await client.cancelJob(parked.id);
      await client.retryJob(parked.id);
      await client.pauseQueue('parked');
      await client.resumeQueue('parked');

      const { events } = await readAll(client, start);
      const stored = new Set<JobwireEventName>([
        'job:queued',
        'job:started',
        'job:completed',
        'job:failed',
        'job:retrying',
        'job:abandoned',
        'job:cancelled',
        'job:retried',
        'queue:paused',
        'queue:resumed',
      ]);
      const fromBus = recorded.all.filter((e) => stored.has(e.name));
      const fromLog = events.filter((e) => stored.has(e.type as JobwireEventName));
      // Per job (and per queue for queue events) the same sequence of types…
      const key = (_type: string, data: unknown) => jobIdOf({ data }) ?? (data as { queue: string }).queue;
      const sequences = (list: { type: string; data: unknown }[]) => {
        const map = new Map<string, string[]>();
        for (const e of list) map.set(key(e.type, e.data), [...(map.get(key(e.type, e.data)) ?? []), e.type]);
        return map;
      };
      assert.deepEqual(
        sequences(fromLog),
        sequences(fromBus.map((e) => ({ type: e.name, data: e.event }))),
        'the log holds exactly the stored events the bus emitted, in the same order per job',
      );
      // Attempt events carry the job's metadata, so consumers need no lookup.
      for (const type of ['job:started', 'job:completed'] as const) {
        const logged = fromLog.find((e) => e.type === type && jobIdOf(e) === jobs[0]!.id);
        assert.deepEqual(
          (logged?.data as { metadata?: unknown } | undefined)?.metadata,
          { videoId: 'v42' },
          type,
        );
      }
      assert.deepEqual(sequences(fromLog).get(jobs[1]!.id), [
        'job:queued',
        'job:started',
        'job:failed',
        'job:retrying',
        'job:started',
        'job:completed',
      ]);
      // …and the same payloads, except times taken on different clocks and the worker slot
      // (chosen after the claim that stores job:started).
      for (const [index, logged] of fromLog.entries()) {
        const bus = fromBus.filter(
          (e) => e.name === logged.type && key(e.name, e.event) === key(logged.type, logged.data),
        );
        const sameKind = fromLog.filter(
          (e) => e.type === logged.type && key(e.type, e.data) === key(logged.type, logged.data),
        );
        const nth = sameKind.indexOf(logged);
        const expected = withoutTimes(bus[nth]!.event);
        if (logged.type === 'job:started') delete expected.workerId;
        assert.deepEqual(withoutTimes(logged.data), expected, `payload of ${logged.type} #${index}`);
        assert.equal(typeof logged.at, 'number');
      }
    });

    it('reads page by page without a gap or a repeat, and filters by type, queue and job', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work, idle] });
      const start = await client.events.head();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await client.enqueue(work, { kind: 'ok' })).id);
      ids.push(
        ...(await client.enqueueMany([1, 2, 3].map(() => ({ task: idle, payload: {} })))).map((j) => j.id),
      );
      const all = await readAll(client, start);
      const onePerPage = await readAll(client, start, 1);
      assert.deepEqual(
        onePerPage.events.map((e) => [e.type, jobIdOf(e)]),
        all.events.map((e) => [e.type, jobIdOf(e)]),
      );
      assert.deepEqual(
        all.events.filter((e) => e.type === 'job:queued').map(jobIdOf),
        ids,
        'every enqueue, in commit order',
      );
      const parked = await client.events.read({ after: start, filter: { queues: ['parked'] } });
      assert.deepEqual(parked.events.map(jobIdOf), ids.slice(5));
      const one = await client.events.read({
        after: start,
        filter: { jobIds: [ids[2]!], types: ['job:queued'] },
      });
      assert.deepEqual(one.events.map(jobIdOf), [ids[2]]);
      const none = await client.events.read({ after: start, filter: { types: ['job:completed'] } });
      assert.deepEqual(none.events, []);
      // A read after the last cursor returns nothing new, and the cursor stays usable.
      const after = await client.events.read({ after: all.cursor });
      assert.deepEqual(after.events, []);
      const later = await client.enqueue(work, { kind: 'ok' });
      const next = await client.events.read({ after: after.cursor });
      assert.deepEqual(next.events.map(jobIdOf), [later.id]);
    });

    /** A job that failed once and then completed: its timeline, oldest first, and only its own. */
    const assertFlakyTimeline = async (client: Jobwire, jobId: string) => {
      const timeline = await client.jobEvents(jobId);
      assert.deepEqual(
        timeline.map((e) => e.type),
        ['job:queued', 'job:started', 'job:failed', 'job:retrying', 'job:started', 'job:completed'],
      );
      assert.ok(timeline.every((e) => jobIdOf(e) === jobId));
    };

    it('a job timeline lists its events oldest first', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work] });
      const job = await client.enqueue(work, { kind: 'flaky' });
      await client.enqueue(work, { kind: 'ok' });
      const pool = client.createPool({ ...testPool, concurrency: 1 });
      await pool.start();
      await client.waitForJob(job.id, { timeoutMs: 10_000 });
      await pool.stop();
      await assertFlakyTimeline(client, job.id);
      assert.deepEqual(await client.jobEvents('999999'), []);
    });

    it('a job timeline gathers events stored with other jobs and events stored alone', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work] });
      // Enqueued in one batch: one stored row of job:queued entries for three jobs.
      const batch = await client.enqueueMany([
        { task: work, payload: { kind: 'ok' } },
        { task: work, payload: { kind: 'flaky' } },
        { task: work, payload: { kind: 'ok' } },
      ]);
      const job = batch[1]!;
      // Claimed and finished by a pool that takes them together, then retried on its own.
      const pool = client.createPool({ ...testPool, concurrency: 3 });
      await pool.start();
      await client.waitForJob(job.id, { timeoutMs: 10_000 });
      for (const other of batch) await client.waitForJob(other.id, { timeoutMs: 10_000 });
      await pool.stop();
      await assertFlakyTimeline(client, job.id);
      const first = await client.jobEvents(batch[0]!.id);
      assert.deepEqual(
        first.map((e) => e.type),
        ['job:queued', 'job:started', 'job:completed'],
      );
    });

    it('a cursor into pruned events is refused with EventCursorExpiredError; start reads what is kept', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work] });
      const first = await client.events.head();
      await client.enqueue(work, { kind: 'ok' });
      const { cursor: middle } = await readAll(client, first);
      await client.enqueue(work, { kind: 'ok' });
      const { runtime } = clientInternals(client);
      // Everything written before an hour from now goes.
      while ((await runtime.driver.eventPrune({ before: Date.now() + 3_600_000, limit: 1 })) > 0) {}
      await assert.rejects(client.events.read({ after: first }), EventCursorExpiredError);
      await assert.rejects(client.events.read({ after: middle }), EventCursorExpiredError);
      const kept = await client.events.read({ after: 'start' });
      const third = await client.enqueue(work, { kind: 'ok' });
      const next = await client.events.read({ after: kept.cursor });
      assert.deepEqual(next.events.map(jobIdOf), [third.id], 'events after the pruning point are all kept');
    });

    it('after every event is pruned, head() is still a cursor to read on from', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work] });
      await client.enqueue(work, { kind: 'ok' });
      const { runtime } = clientInternals(client);
      while ((await runtime.driver.eventPrune({ before: Date.now() + 3_600_000, limit: 1 })) > 0) {}
      const head = await client.events.head();
      assert.deepEqual((await client.events.read({ after: head })).events, []);
      const next = await client.enqueue(work, { kind: 'ok' });
      const page = await client.events.read({ after: head });
      assert.deepEqual(page.events.map(jobIdOf), [next.id]);
    });

    it("a cursor past the end of the log (another database's) is refused, never waited on", async (t) => {
      const { client: other } = await withClient(t, factory, { tasks: [work] });
      let ahead = 'start';
      // Each write and read moves the log on (rows on SQLite, snapshot ticks on PostgreSQL).
      for (let i = 0; i < 10; i++) {
        await other.enqueue(work, { kind: 'ok' });
        ({ cursor: ahead } = await readAll(other, ahead));
      }
      // A fresh database: its log is shorter than `ahead` points. Waiting for it to get there
      // would skip its first events without a word.
      const { client } = await withClient(t, factory, { tasks: [work] });
      const isAhead = (error: unknown) =>
        error instanceof InvalidOptionError && error.field === 'after' && /past the end/.test(error.message);
      await assert.rejects(client.events.read({ after: ahead }), isAhead);
      await assert.rejects(client.events.tail({ after: ahead }).next(), isAhead);
      const job = await client.enqueue(work, { kind: 'ok' });
      const page = await client.events.read({ after: 'start' });
      assert.deepEqual(page.events.map(jobIdOf), [job.id], 'its own events read from the start');
      // Its own head is never "ahead", with events or after they are all pruned.
      assert.deepEqual((await client.events.read({ after: await client.events.head() })).events, []);
    });

    it('bad read options and foreign cursors are typed errors', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work] });
      const isField = (field: string) => (error: unknown) =>
        error instanceof InvalidOptionError && error.field === field;
      await assert.rejects(client.events.read({ limit: 0 }), isField('limit'));
      await assert.rejects(client.events.read({ after: 'not-a-cursor' }), isField('after'));
      await assert.rejects(client.events.read({ after: 'p1.x' }), isField('after'));
      await assert.rejects(client.events.read({ after: 's1.-4' }), isField('after'));
      await assert.rejects(
        client.events.read({ filter: { types: 'job:queued' as never } }),
        isField('filter.types'),
      );
      assert.throws(() => client.events.subscribe('bad name!', () => {}), isField('name'));
    });

    it('a subscription gets every matching event once per delivery and resumes from its stored position', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work] });
      const seen: string[] = [];
      const transactions: unknown[] = [];
      const options = { filter: { types: ['job:queued' as const] }, pollMs: 10 };
      const first = client.events.subscribe(
        'audit',
        (event, context) => {
          seen.push(jobIdOf(event)!);
          transactions.push(context.transaction);
        },
        options,
      );
      const a = await client.enqueue(work, { kind: 'ok' });
      await until(() => seen.length === 1, 10_000, 'first delivery');
      await first.stop();
      const b = await client.enqueue(work, { kind: 'ok' });
      const c = await client.enqueue(work, { kind: 'ok' });
      const second = client.events.subscribe('audit', (event) => void seen.push(jobIdOf(event)!), options);
      await until(() => seen.length === 3, 10_000, 'resumed deliveries');
      await second.stop();
      assert.deepEqual(seen, [a.id, b.id, c.id], 'resumed after the last stored position, nothing twice');
      const { runtime } = clientInternals(client);
      assert.equal(
        transactions[0] !== undefined,
        runtime.driver.capabilities.callerTransactions,
        'the handler gets the transaction its position is stored in where the driver has one',
      );
      assert.equal(await client.events.deleteSubscription('audit'), true);
    });

    it('an idle subscription keeps no listener per poll (no MaxListenersExceededWarning)', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work] });
      const warnings: string[] = [];
      const onWarning = (warning: Error) => void warnings.push(`${warning.name}: ${warning.message}`);
      process.on('warning', onWarning);
      t.after(() => void process.off('warning', onWarning));
      // Caught up at once: every read finds nothing and sleeps 5 ms, about a hundred times here.
      const sub = client.events.subscribe('idle', () => {}, { pollMs: 5 });
      await new Promise((resolve) => setTimeout(resolve, 600));
      await sub.stop();
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
        [],
        'before: one abort listener per 5 ms sleep, over the limit of 10 within 60 ms',
      );
    });

    it('a handler that throws is retried: the event is not skipped', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work] });
      let calls = 0;
      const delivered: string[] = [];
      const failures = recordEvents(client);
      const sub = client.events.subscribe(
        'flaky-handler',
        (event) => {
          if (++calls === 1) throw new Error('handler down');
          delivered.push(jobIdOf(event)!);
        },
        { filter: { types: ['job:queued'] }, pollMs: 10 },
      );
      const job = await client.enqueue(work, { kind: 'ok' });
      await until(() => delivered.length === 1, 10_000, 'redelivery');
      await sub.stop();
      assert.deepEqual(delivered, [job.id]);
      assert.equal(failures.of('service:error')[0]?.service, 'subscription:flaky-handler');
    });

    it('a rolled-back transactional enqueue leaves no event; a committed one is announced after its commit', async (t) => {
      const { client, db } = await withClient(t, factory, { tasks: [work] });
      const { runtime } = clientInternals(client);
      if (!runtime.driver.capabilities.callerTransactions) return;
      const start = await client.events.head();
      const recorded = recordEvents(client);
      const connection = await db.connect!();
      try {
        await connection.query('BEGIN');
        const rolledBack = await client.enqueue(
          work,
          { kind: 'ok' },
          { transaction: connection.transaction },
        );
        assert.deepEqual(recorded.of('job:queued'), [], 'nothing is announced before the commit');
        await connection.query('ROLLBACK');
        await connection.query('BEGIN');
        const committed = await client.enqueue(work, { kind: 'ok' }, { transaction: connection.transaction });
        assert.deepEqual(recorded.of('job:queued'), []);
        const announced = nextEvent(client, 'job:queued');
        await connection.query('COMMIT');
        assert.equal((await announced).jobId, committed.id);
        const { events } = await readAll(client, start);
        assert.deepEqual(events.map(jobIdOf), [committed.id], 'the rolled-back insert stored no event');
        assert.ok(!recorded.of('job:queued').some((e) => e.jobId === rolledBack.id));
      } finally {
        await connection.release();
      }
    });

    it('deleteJob stores job:deleted with the delete and emits it once, with the state it was in', async (t) => {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = false;
      const hold = defineTask({
        name: 'log.hold',
        queue: 'held',
        handler: async () => {
          started = true;
          await released;
          return 'late';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [work, idle, hold] });
      const recorded = recordEvents(client);
      const pending = await client.enqueue(idle, {});
      const completed = await client.enqueue(work, { kind: 'ok' });
      const running = await client.enqueue(hold, {});
      const pool = client.createPool({ ...testPool, queues: ['default', 'held'], concurrency: 2 });
      await pool.start();
      await client.waitForJob(completed.id, { timeoutMs: 10_000 });
      await until(() => started, 10_000, 'the held job to start');
      const start = await client.events.head();

      const expected = new Map<string, string>([
        [pending.id, 'pending'],
        [running.id, 'running'],
        [completed.id, 'completed'],
      ]);
      for (const id of expected.keys()) assert.equal(await client.deleteJob(id), true, `delete ${id}`);
      release();
      await pool.stop();
      for (const [id, previousState] of expected) {
        const emitted = recorded.of('job:deleted').filter((e) => e.jobId === id);
        assert.equal(emitted.length, 1, `one job:deleted for ${previousState}`);
        assert.equal(emitted[0]!.previousState, previousState);
        assert.equal(typeof emitted[0]!.at, 'number');
        const logged = (await client.jobEvents(id)).filter((e) => e.type === 'job:deleted');
        assert.equal(logged.length, 1, `one stored job:deleted for ${previousState}`);
        assert.deepEqual(logged[0]!.data, emitted[0], 'the log holds what the bus emitted');
        assert.equal(await client.getJob(id), undefined);
      }
      const deletedRunning = recorded.of('job:deleted').find((e) => e.jobId === running.id)!;
      assert.deepEqual(
        { task: deletedRunning.task, queue: deletedRunning.queue, attempt: deletedRunning.attempt },
        { task: 'log.hold', queue: 'held', attempt: 1 },
      );
      assert.equal(
        recorded.of('job:completed').filter((e) => e.jobId === running.id).length,
        0,
        "the deleted running job's worker is fenced off",
      );
      const { events } = await readAll(client, start);
      assert.deepEqual(
        events.filter((e) => e.type === 'job:deleted').map(jobIdOf),
        [...expected.keys()],
        'stored in delete order',
      );
    });

    it("deleting a dependency stores and emits its dependents' changes after its job:deleted", async (t) => {
      const { client } = await withClient(t, factory, { tasks: [idle] });
      const dependency = await client.enqueue(idle, {}, { delayMs: 3_600_000 });
      const cancelled = await client.enqueue(
        idle,
        {},
        { dependsOn: [{ id: dependency.id, onFailure: 'cancel' }] },
      );
      const below = await client.enqueue(
        idle,
        {},
        { dependsOn: [{ id: cancelled.id, onFailure: 'cancel' }] },
      );
      const ran = await client.enqueue(idle, {}, { dependsOn: [{ id: dependency.id, onFailure: 'run' }] });
      const stuck = await client.enqueue(
        idle,
        {},
        { dependsOn: [{ id: dependency.id, onFailure: 'block' }] },
      );
      const start = await client.events.head();
      const recorded = recordEvents(client);
      assert.equal(await client.deleteJob(dependency.id), true);

      const bus = recorded.all
        .filter((e) => e.name.startsWith('job:'))
        .map((e) => ({ type: e.name as string, data: e.event as unknown }));
      const { events } = await readAll(client, start);
      assert.deepEqual(
        events.map((e) => ({ type: e.type, data: e.data })),
        bus,
        'the log holds exactly what the bus emitted, in the same order',
      );
      assert.equal(bus[0]!.type, 'job:deleted');
      assert.deepEqual(
        { jobId: jobIdOf(bus[0]!), previousState: (bus[0]!.data as { previousState: string }).previousState },
        { jobId: dependency.id, previousState: 'scheduled' },
      );
      const byJob = new Map(
        bus.slice(1).map((e) => [jobIdOf(e), [e.type, (e.data as { dependencyId?: string }).dependencyId]]),
      );
      assert.deepEqual(byJob.get(cancelled.id), ['job:cancelled', dependency.id]);
      assert.deepEqual(byJob.get(below.id), ['job:cancelled', cancelled.id]);
      assert.deepEqual(byJob.get(ran.id), ['job:unblocked', dependency.id]);
      assert.deepEqual(byJob.get(stuck.id), ['job:blocked', undefined]);
      assert.deepEqual(
        (bus.find((e) => jobIdOf(e) === stuck.id)!.data as { dependencyIds?: string[] }).dependencyIds,
        [dependency.id],
      );
      assert.equal(bus.length, 5);
      assert.equal((await client.getJob(cancelled.id))?.state, 'cancelled');
      assert.equal((await client.getJob(ran.id))?.state, 'pending');
    });

    it('a delete that fails or finds no job emits and stores nothing', async (t) => {
      let failCommit = false;
      const { client } = await withClient(t, factory, {
        tasks: [idle],
        wrapDriver: (driver) => {
          // The write's own transaction fails (as a lost commit would): nothing may be reported.
          const jobDelete = driver.jobDelete.bind(driver);
          driver.jobDelete = (params) =>
            jobDelete(
              failCommit && params.log
                ? {
                    ...params,
                    log: () => {
                      throw new Error('commit failed');
                    },
                  }
                : params,
            );
          return driver;
        },
      });
      const dependency = await client.enqueue(idle, {}, { delayMs: 3_600_000 });
      const dependent = await client.enqueue(idle, {}, { dependsOn: [dependency.id] });
      const start = await client.events.head();
      const recorded = recordEvents(client);
      assert.equal(await client.deleteJob('987654321'), false);
      failCommit = true;
      await assert.rejects(client.deleteJob(dependency.id), /commit failed/);
      assert.deepEqual(recorded.all, []);
      assert.deepEqual((await readAll(client, start)).events, []);
      assert.equal((await client.getJob(dependency.id))?.state, 'scheduled');
      assert.equal((await client.getJob(dependent.id))?.state, 'blocked');
    });

    it('the bulk purge of finished jobs (deleteJobs) emits and stores no per-job events', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [idle] });
      const jobs = await client.enqueueMany([1, 2, 3].map(() => ({ task: idle, payload: {} })));
      assert.equal((await client.cancelJobs({ queue: 'parked' })).count, 3);
      const start = await client.events.head();
      const recorded = recordEvents(client);
      assert.equal(await client.deleteJobs({ state: 'cancelled' }), 3);
      for (const job of jobs) assert.equal(await client.getJob(job.id), undefined);
      assert.deepEqual(recorded.all, []);
      assert.deepEqual((await readAll(client, start)).events, []);
    });

    it('with events.log false deleteJob still emits job:deleted in process', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [idle], events: { log: false } });
      const job = await client.enqueue(idle, {});
      const recorded = recordEvents(client);
      assert.equal(await client.deleteJob(job.id), true);
      assert.deepEqual(
        recorded.of('job:deleted').map((e) => [e.jobId, e.previousState]),
        [[job.id, 'pending']],
      );
    });

    it('with events.log false nothing is stored, and the bus still emits', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [work], events: { log: false } });
      const start = await client.events.head();
      const recorded = recordEvents(client);
      const pool = client.createPool({ ...testPool, concurrency: 1 });
      await pool.start();
      const job = await client.enqueue(work, { kind: 'ok' });
      await client.waitForJob(job.id, { timeoutMs: 10_000 });
      await pool.stop();
      assert.deepEqual((await client.events.read({ after: start })).events, []);
      assert.deepEqual(
        recorded.names().filter((n) => n.startsWith('job:')),
        ['job:queued', 'job:started', 'job:completed'],
      );
    });
  });
}
