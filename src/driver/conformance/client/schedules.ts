/**
 * Schedules on every driver, on a manual clock: exactly one job per tick across several
 * clients whose schedulers run at once (overlapping leaders) over a thousand-plus ticks; each
 * missed-run policy after the whole cluster was down for hours; an edit while a tick's job is
 * enqueued; pause and resume; overlap skip; trigger, remove and bad input.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createJobwire, type Jobwire } from '../../../core/client.js';
import {
  ClosedError,
  InvalidOptionError,
  ScheduleNotFoundError,
  UnknownTaskError,
} from '../../../core/errors.js';
import { clientInternals } from '../../../core/internals.js';
import type { ScheduleDefinition } from '../../../core/schedule-definition.js';
import { defineTask } from '../../../core/task.js';
import type { JobRecord } from '../../../core/types.js';
import type { ConformanceDatabases } from './databases.js';
import { ManualClock, recordEvents, testPool, withClient } from './harness.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const report = defineTask({ name: 'schedules.report', handler: async () => 'ok' });
const tasks = [report];
/** Timers of the elector never fire during a test: the test runs every scheduler pass itself. */
const maintenance = { rescueIntervalMs: 60_000, leaderTtlMs: 120_000, outageGraceMs: 0 };

/** Run the client's scheduler once, whether or not it leads (an overlapping leader does that). */
async function schedule(client: Jobwire): Promise<void> {
  const scheduler = clientInternals(client).leader.services.find((s) => s.name === 'scheduler');
  assert.ok(scheduler, 'the leader runs a scheduler');
  await scheduler.runOnce();
}

/** Every job of schedule `id`, oldest first. */
async function jobsOf(client: Jobwire, id: string): Promise<JobRecord[]> {
  const all: JobRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await client.listJobs({ task: report.name, limit: 1000, cursor });
    all.push(...page.jobs);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return all.filter((job) => job.metadata.schedule === id).reverse();
}

const tickOf = (job: JobRecord) => job.metadata.scheduleTick as number;

/** `waiting` for a job that will run (scheduled or pending: drivers promote due jobs at different moments). */
const stateOf = (job: JobRecord) =>
  job.state === 'scheduled' || job.state === 'pending' ? 'waiting' : job.state;

async function clientWith(t: TestContext, factory: ConformanceDatabases, clock: ManualClock) {
  return (await withClient(t, factory, { tasks, clock, maintenance, retention: false })).client;
}

export function runScheduleSuite(factory: ConformanceDatabases): void {
  describe(`schedules (${factory.name})`, () => {
    it('exactly one job per tick across overlapping schedulers and leader changes (1000+ ticks)', async (t) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const db = await factory.create();
      const clients: Jobwire[] = [];
      t.after(async () => {
        for (const client of clients) await client.close();
        await db.cleanup();
      });
      const definitions: ScheduleDefinition[] = [
        { id: 'every-second', every: '1s', task: report },
        { id: 'cron-seconds', cron: '*/3 * * * * *', task: report, jitter: '500ms' },
      ];
      for (let i = 0; i < 3; i++) {
        clients.push(
          await createJobwire({
            driver: await db.open(),
            tasks,
            clock,
            maintenance: { rescueIntervalMs: 1000, leaderTtlMs: 2000, outageGraceMs: 0 },
            retention: false,
            schedules: definitions,
          }),
        );
      }
      const start = clock.now();
      // Every schedule:fired of every client: each tick must be announced once in the cluster.
      const fired = new Map<string, number>();
      for (const client of clients) {
        client.events.on('schedule:fired', (e) => {
          const key = `${e.scheduleId} ${e.tick}`;
          fired.set(key, (fired.get(key) ?? 0) + 1);
        });
      }
      // A fixed pseudo-random walk, so a failure replays the same way.
      let seed = 42;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      let leaderChanges = 0;
      let lastLeader = -1;
      for (let step = 0; step < 150; step++) {
        clock.advance(1000 + Math.floor(random() * 12_000));
        // Leadership moves as the TTL (2 s) lapses between the clients' elections (every other
        // step: an election also runs every other leader service)...
        if (step % 2 === 0) {
          const elector = Math.floor(random() * clients.length);
          const { leader } = clientInternals(clients[elector]!);
          await leader.runOnce();
          if (leader.isLeader && elector !== lastLeader) {
            leaderChanges++;
            lastLeader = elector;
          }
        }
        // ...and a deposed leader that has not noticed yet runs its scheduler alongside the new one.
        const running = clients.filter(() => random() < 0.6);
        await Promise.all(running.map((client) => schedule(client)));
      }
      const end = clock.now();
      await schedule(clients[0]!);
      assert.ok(leaderChanges >= 15, `leadership changed hands ${leaderChanges} times`);
      const twice = [...fired].filter(([, n]) => n > 1);
      assert.deepEqual(twice, [], 'a tick was fired by two schedulers');
      assert.ok(fired.size >= 1300);
      for (const definition of definitions) {
        const jobs = await jobsOf(clients[0]!, definition.id);
        const ticks = jobs.map(tickOf).sort((a, b) => a - b);
        assert.equal(new Set(ticks).size, ticks.length, `${definition.id}: a tick got two jobs`);
        const step = definition.id === 'every-second' ? 1000 : 3000;
        const expected: number[] = [];
        for (let tick = Math.floor(start / step) * step + step; tick <= end; tick += step)
          expected.push(tick);
        // Every tick up to the end, plus the next one enqueued ahead.
        assert.deepEqual(
          ticks.slice(0, expected.length),
          expected,
          `${definition.id}: every tick has its job`,
        );
        assert.equal(ticks.length, expected.length + 1);
        assert.ok(
          expected.length >= (definition.id === 'every-second' ? 1000 : 300),
          `${expected.length} ticks`,
        );
        for (const job of jobs) {
          assert.equal(job.uniqueKey, `schedule:${definition.id}:${tickOf(job)}`);
          const delay = job.runAt.getTime() - tickOf(job);
          assert.ok(delay >= 0 && delay <= (definition.jitter ? 500 : 0), `jitter within bounds: ${delay}`);
        }
      }
    });

    it('a tick fires once: schedule:fired from one client only, the job enqueued ahead', async (t) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1, 7, 59));
      const db = await factory.create();
      const open = async () =>
        createJobwire({ driver: await db.open(), tasks, clock, maintenance, retention: false });
      const a = await open();
      const b = await open();
      t.after(async () => {
        await a.close();
        await b.close();
        await db.cleanup();
      });
      const info = await a.schedules.upsert({
        id: 'nine',
        cron: '0 9 * * *',
        timezone: 'Europe/Paris',
        task: report,
        payload: { day: 'today' },
        options: { priority: 5, metadata: { owner: 'ops' } },
      });
      assert.equal(info.nextRunAt?.toISOString(), '2030-01-01T08:00:00.000Z', '09:00 in Paris is 08:00 UTC');
      const [ahead] = await jobsOf(a, 'nine');
      assert.equal(ahead?.state, 'scheduled');
      assert.deepEqual(ahead?.payload, { day: 'today' });
      assert.equal(ahead?.priority, 5);
      assert.deepEqual(ahead?.metadata, {
        owner: 'ops',
        schedule: 'nine',
        scheduleTick: Date.UTC(2030, 0, 1, 8),
      });
      // The same definition again (another process starting) writes nothing.
      const again = await b.schedules.upsert({
        id: 'nine',
        cron: '0 9 * * *',
        timezone: 'Europe/Paris',
        task: report,
        payload: { day: 'today' },
        options: { priority: 5, metadata: { owner: 'ops' } },
      });
      assert.deepEqual(again.updatedAt, info.updatedAt);
      assert.equal((await jobsOf(a, 'nine')).length, 1);

      const seenA = recordEvents(a);
      const seenB = recordEvents(b);
      clock.advance(90_000);
      await Promise.all([schedule(a), schedule(b), schedule(a)]);
      const fired = [...seenA.of('schedule:fired'), ...seenB.of('schedule:fired')];
      assert.equal(fired.length, 1, 'one schedule:fired for the tick in the whole cluster');
      assert.equal(fired[0]?.jobId, ahead?.id);
      assert.equal(fired[0]?.late, false);
      const jobs = await jobsOf(a, 'nine');
      assert.deepEqual(
        jobs.map((job) => job.runAt.toISOString()),
        ['2030-01-01T08:00:00.000Z', '2030-01-02T08:00:00.000Z'],
      );
      const [listed] = await a.schedules.list();
      assert.equal(listed?.lastJobId, ahead?.id);
      assert.equal(listed?.lastRunAt?.toISOString(), '2030-01-01T08:00:00.000Z');
      assert.equal(listed?.nextJobId, jobs[1]?.id);
    });

    it('after hours with the whole cluster down, each missed-run policy does what it says', async (t) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const client = await clientWith(t, factory, clock);
      const recorded = recordEvents(client);
      const base = { every: '10m', task: report } as const;
      await client.schedules.upsert({ ...base, id: 'skip', missed: 'skip' });
      await client.schedules.upsert({ ...base, id: 'once', missed: 'run-once' });
      await client.schedules.upsert({ ...base, id: 'fill', missed: { backfill: { window: '1h', max: 4 } } });
      // Down from 00:00 to 05:05: ticks 00:10 … 05:00 (30) passed with nobody to handle them.
      clock.advance(5 * HOUR + 5 * MINUTE);
      await schedule(client);
      const states = async (id: string) =>
        (await jobsOf(client, id)).map(
          (job) => `${new Date(tickOf(job)).toISOString().slice(11, 16)} ${stateOf(job)}`,
        );
      assert.deepEqual(await states('skip'), ['00:10 cancelled', '05:10 waiting'], 'skip: none run');
      assert.deepEqual(await states('once'), ['00:10 waiting', '05:10 waiting'], 'run-once: one job for all');
      assert.deepEqual(
        await states('fill'),
        [
          '00:10 cancelled',
          '04:30 waiting',
          '04:40 waiting',
          '04:50 waiting',
          '05:00 waiting',
          '05:10 waiting',
        ],
        'backfill: the last 4 within the hour',
      );
      const missed = Object.fromEntries(recorded.of('schedule:missed').map((e) => [e.scheduleId, e.count]));
      assert.deepEqual(missed, { skip: 30, once: 29, fill: 26 });
      assert.deepEqual(
        recorded.of('schedule:backfilled').map((e) => e.ticks.length),
        [4],
      );
      assert.ok(recorded.of('schedule:fired').every((e) => e.late));
    });

    it("a pool back before the leader started the late tick's job: the log says it fired late, not missed", async (t) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const client = await clientWith(t, factory, clock);
      const recorded = recordEvents(client);
      const base = { every: '10m', task: report } as const;
      await client.schedules.upsert({ ...base, id: 'skip', missed: 'skip' });
      await client.schedules.upsert({ ...base, id: 'fill', missed: { backfill: { window: '1h', max: 4 } } });
      clock.advance(5 * HOUR + 5 * MINUTE);
      // The whole cluster was down; a pool comes back first and starts the two jobs enqueued ahead
      // for 00:10 before any leader's scheduler pass.
      const started = await clientInternals(client).runtime.driver.jobClaim({
        queues: ['default'],
        limit: 10,
        leaseMs: 60_000,
        poolId: 'early',
        now: clock.now(),
      });
      assert.equal(started.length, 2);
      await schedule(client);
      const states = async (id: string) =>
        (await jobsOf(client, id)).map(
          (job) => `${new Date(tickOf(job)).toISOString().slice(11, 16)} ${stateOf(job)}`,
        );
      assert.deepEqual(await states('skip'), ['00:10 running', '05:10 waiting']);
      assert.deepEqual(await states('fill'), [
        '00:10 running',
        '04:30 waiting',
        '04:40 waiting',
        '04:50 waiting',
        '05:00 waiting',
        '05:10 waiting',
      ]);
      // Before, both reported the 00:10 tick missed (30 and 26) while its job ran.
      const missed = Object.fromEntries(
        recorded.of('schedule:missed').map((e) => [e.scheduleId, [e.count, e.firstTick]]),
      );
      const at = (hhmm: string) => Date.parse(`2030-01-01T${hhmm}:00Z`);
      assert.deepEqual(missed, { skip: [29, at('00:20')], fill: [25, at('00:20')] });
      const fired = recorded
        .of('schedule:fired')
        .filter((e) => e.tick === at('00:10'))
        .map((e) => [e.scheduleId, e.jobId, e.late]);
      const ran = (id: string) => started.find((job) => job.metadataJson.includes(`"${id}"`))!.id;
      assert.deepEqual(fired.sort(), [
        ['fill', ran('fill'), true],
        ['skip', ran('skip'), true],
      ]);
    });

    it('editing a schedule replaces the job enqueued for its next tick; no tick runs twice', async (t) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const client = await clientWith(t, factory, clock);
      await client.schedules.upsert({ id: 'edit', every: '1h', task: report, payload: { v: 1 } });
      const [first] = await jobsOf(client, 'edit');
      clock.advance(10 * MINUTE);
      await client.schedules.upsert({ id: 'edit', every: '1h', task: report, payload: { v: 2 } });
      const jobs = await jobsOf(client, 'edit');
      assert.deepEqual(
        jobs.map((job) => [job.id === first?.id, job.state, job.payload]),
        [
          [true, 'cancelled', { v: 1 }],
          [false, 'scheduled', { v: 2 }],
        ],
      );
      assert.equal(tickOf(jobs[1]!), tickOf(first!), 'the same tick, now with the new payload');
      // After its tick, the edit keeps the job that is due and records it as fired.
      clock.advance(HOUR);
      await client.schedules.upsert({ id: 'edit', every: '30m', task: report, payload: { v: 3 } });
      const after = await jobsOf(client, 'edit');
      assert.equal(stateOf(after[1]!), 'waiting', 'the due job was not cancelled');
      assert.equal((await client.schedules.get('edit'))?.lastJobId, after[1]?.id);
      await schedule(client);
      const ticks = (await jobsOf(client, 'edit')).filter((j) => j.state !== 'cancelled').map(tickOf);
      assert.equal(new Set(ticks).size, ticks.length);
    });

    it('pause cancels the job enqueued ahead; resume plans from now without the paused ticks', async (t) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const client = await clientWith(t, factory, clock);
      await client.schedules.upsert({ id: 'p', every: '10m', task: report });
      assert.equal(await client.schedules.pause('p'), true);
      assert.equal(await client.schedules.pause('p'), false);
      assert.deepEqual(
        (await jobsOf(client, 'p')).map((j) => j.state),
        ['cancelled'],
      );
      clock.advance(HOUR);
      await schedule(client);
      assert.equal((await jobsOf(client, 'p')).length, 1, 'nothing fires while paused');
      assert.equal((await client.schedules.get('p'))?.nextRunAt, null);
      assert.equal(await client.schedules.resume('p'), true);
      const jobs = await jobsOf(client, 'p');
      assert.deepEqual(
        jobs.map((j) => [j.state, tickOf(j) - clock.now()]),
        [
          ['cancelled', -HOUR + 10 * MINUTE],
          ['scheduled', 10 * MINUTE],
        ],
      );
      await assert.rejects(client.schedules.pause('nope'), ScheduleNotFoundError);
    });

    it('overlap skip: a tick is skipped while the previous job is pending or running', async (t) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const client = await clientWith(t, factory, clock);
      const recorded = recordEvents(client);
      await client.schedules.upsert({ id: 'solo', every: '1m', task: report, overlap: 'skip' });
      assert.deepEqual(await jobsOf(client, 'solo'), [], 'nothing is enqueued ahead');
      clock.advance(MINUTE);
      await schedule(client);
      const [first] = await jobsOf(client, 'solo');
      assert.equal(stateOf(first!), 'waiting');
      clock.advance(MINUTE);
      await schedule(client);
      assert.equal((await jobsOf(client, 'solo')).length, 1);
      assert.deepEqual(
        recorded.of('schedule:skipped').map((e) => [e.tick - clock.now(), e.activeJobId]),
        [[0, first?.id]],
      );
      const pool = client.createPool({ ...testPool });
      await pool.start();
      await client.waitForJob(first!.id);
      await pool.stop();
      clock.advance(MINUTE);
      await schedule(client);
      assert.deepEqual((await jobsOf(client, 'solo')).map(stateOf), ['completed', 'waiting']);
      // Three ticks due at once (the scheduler was away) with nothing active: the latest runs, and
      // the two before it are skipped for that job (before: activeJobId null, naming no job).
      const pool2 = client.createPool({ ...testPool });
      await pool2.start();
      await client.waitForJob((await jobsOf(client, 'solo')).at(-1)!.id);
      await pool2.stop();
      const before = recorded.of('schedule:skipped').length;
      clock.advance(3 * MINUTE);
      await schedule(client);
      const latest = (await jobsOf(client, 'solo')).at(-1)!;
      assert.deepEqual(
        recorded
          .of('schedule:skipped')
          .slice(before)
          .map((e) => e.activeJobId),
        [latest.id, latest.id],
      );
    });

    it('trigger enqueues one job now; remove cancels the job ahead and forgets the schedule', async (t) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const client = await clientWith(t, factory, clock);
      await client.schedules.upsert({ id: 'r', cron: '@daily', task: report });
      const manual = await client.schedules.trigger('r');
      assert.equal(manual.state, 'pending');
      assert.deepEqual(manual.metadata, { schedule: 'r', scheduleTick: null, trigger: 'manual' });
      assert.equal(await client.schedules.remove('r'), true);
      assert.equal(await client.schedules.remove('r'), false);
      assert.deepEqual((await jobsOf(client, 'r')).map(stateOf), ['cancelled', 'waiting']);
      // Defined again: a fresh plan, and the old tick's cancelled job cannot run (pg-boss #592).
      await client.schedules.upsert({ id: 'r', cron: '@daily', task: report });
      clock.advance(25 * HOUR);
      await schedule(client);
      const waiting = (await jobsOf(client, 'r')).filter(
        (j) => stateOf(j) === 'waiting' && j.metadata.trigger === undefined,
      );
      // The tick after the new upsert (handled late: run-once keeps its job) and the next one ahead.
      assert.deepEqual(
        waiting.map((j) => new Date(tickOf(j)).toISOString().slice(0, 10)),
        ['2030-01-02', '2030-01-03'],
      );
      await assert.rejects(client.schedules.trigger('gone'), ScheduleNotFoundError);
    });

    it('bad definitions are refused with a typed error naming the field, storing nothing', async (t) => {
      const clock = new ManualClock();
      const client = await clientWith(t, factory, clock);
      const refused: [Partial<ScheduleDefinition>, string][] = [
        [{ cron: 'not a pattern' }, 'cron'],
        [{ cron: '* * * * *', every: '1m' }, 'cron'],
        [{ every: '500ms' }, 'every'],
        [{ every: '1 minute' }, 'every'],
        [{ every: '1m', timezone: 'Mars/Olympus' }, 'timezone'],
        [{ every: '1m', id: '' }, 'id'],
        [{ every: '1m', missed: { backfill: { max: 0 } } }, 'missed.backfill.max'],
        [{ every: '1m', overlap: 'sometimes' as 'skip' }, 'overlap'],
        [{ every: '1m', startAt: 10, endAt: 5 }, 'endAt'],
        // Before: a tick past the last representable date, refused as `runAt`.
        [{ every: 1e300 }, 'every'],
        // Before: accepted; a later tick's job could run before an earlier one's.
        [{ every: '1m', jitter: '10d' }, 'jitter'],
      ];
      for (const [overrides, field] of refused) {
        await assert.rejects(
          client.schedules.upsert({ id: 'bad', task: report, ...overrides } as ScheduleDefinition),
          (err: unknown) => err instanceof InvalidOptionError && err.field === field,
          JSON.stringify(overrides),
        );
      }
      await assert.rejects(
        client.schedules.upsert({ id: 'bad', every: '1m', task: 'no.such.task' }),
        UnknownTaskError,
      );
      assert.deepEqual(await client.schedules.list(), []);
      // A zone is stored as its canonical spelling, so differently spelt definitions agree.
      await client.schedules.upsert({
        id: 'zoned',
        cron: '0 9 * * *',
        timezone: 'europe/paris',
        task: report,
      });
      assert.equal((await client.schedules.get('zoned'))?.definition.timezone, 'Europe/Paris');
      await client.schedules.remove('zoned');
      // Refused in createJobwire's schedules: the client closes (its driver too) before rejecting.
      const db = await factory.create();
      t.after(() => db.cleanup());
      const driver = await db.open();
      await assert.rejects(
        createJobwire({ driver, tasks, schedules: [{ id: 'bad', cron: 'nope', task: report }] }),
        (err: unknown) => err instanceof InvalidOptionError && err.field === 'cron',
      );
      await assert.rejects(driver.jobGet({ id: '1' }), ClosedError);
    });
  });
}
