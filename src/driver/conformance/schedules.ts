/**
 * Conformance: schedule storage. `scheduleWrite` is a compare-and-set whose job inserts and
 * cancellations happen in the same transaction: a stale version writes nothing (no job either),
 * racing writers on one version produce exactly one job, only waiting jobs are cancelled.
 */
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../../core/errors.js';
import type { Driver, ScheduleState } from '../driver.js';
import { claimOne, type DefineTest, getJob, jobParams, T0 } from './harness.js';

const state = (overrides: Partial<ScheduleState> = {}): ScheduleState => ({
  definitionJson: '{"every":60000}',
  paused: false,
  nextTickAt: T0 + 60_000,
  nextJob: { index: 0 },
  lastTickAt: null,
  lastJob: null,
  lastFiredAt: null,
  ...overrides,
});

const tickJob = (tick: number) =>
  jobParams({
    task: 'report',
    runAt: tick,
    uniqueKey: `schedule:daily:${tick}`,
    metadataJson: `{"scheduleTick":${tick}}`,
  });

async function create(driver: Driver) {
  const result = await driver.scheduleWrite({
    id: 'daily',
    expectedVersion: null,
    state: state(),
    jobs: [tickJob(T0 + 60_000)],
    cancelJobIds: [],
    now: T0,
  });
  assert.ok(result.applied);
  return result;
}

export function scheduleTests(test: DefineTest): void {
  test('scheduleWrite creates a schedule with the job of its next tick, in one transaction', async (driver) => {
    const result = await create(driver);
    const job = result.inserted[0]!.job;
    assert.equal(job.state, 'scheduled');
    assert.equal(job.runAt.getTime(), T0 + 60_000);
    assert.deepEqual(result.schedule, {
      id: 'daily',
      definitionJson: '{"every":60000}',
      version: 1,
      paused: false,
      nextTickAt: T0 + 60_000,
      nextJobId: job.id,
      lastTickAt: null,
      lastJobId: null,
      lastFiredAt: null,
      createdAt: T0,
      updatedAt: T0,
    });
    assert.deepEqual(await driver.scheduleGet({ id: 'daily' }), result.schedule);
    assert.deepEqual(await driver.scheduleList(), [result.schedule]);
    // Creating it again is a failed compare-and-set: nothing written, not even a job.
    const again = await driver.scheduleWrite({
      id: 'daily',
      expectedVersion: null,
      state: state(),
      jobs: [jobParams({ task: 'other' })],
      cancelJobIds: [],
      now: T0,
    });
    assert.deepEqual(again, { applied: false, current: result.schedule });
    assert.equal((await driver.jobCountByState({})).pending, 0);
  });

  test('a stale version writes nothing; the current version advances and names the jobs', async (driver) => {
    const created = await create(driver);
    const first = created.inserted[0]!.job;
    const advance = (expectedVersion: number) =>
      driver.scheduleWrite({
        id: 'daily',
        expectedVersion,
        state: state({
          nextTickAt: T0 + 120_000,
          nextJob: { index: 0 },
          lastTickAt: T0 + 60_000,
          lastJob: { id: first.id },
          lastFiredAt: T0 + 61_000,
        }),
        jobs: [tickJob(T0 + 120_000)],
        cancelJobIds: [],
        now: T0 + 61_000,
      });
    const stale = await advance(7);
    assert.equal(stale.applied, false);
    const counts = await driver.jobCountByState({});
    assert.equal(counts.scheduled + counts.pending, 1, 'the stale write inserted no job');
    const ok = await advance(1);
    assert.ok(ok.applied);
    assert.equal(ok.schedule?.version, 2);
    assert.equal(ok.schedule?.lastJobId, first.id);
    assert.equal(ok.schedule?.nextJobId, ok.inserted[0]!.job.id);
    assert.equal(ok.schedule?.lastFiredAt, T0 + 61_000);
    assert.equal((await advance(1)).applied, false, 'the same tick cannot advance twice');
  });

  test('racing writers on one version: exactly one applies and inserts its job', async (driver) => {
    await create(driver);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        driver.scheduleWrite({
          id: 'daily',
          expectedVersion: 1,
          state: state({ nextTickAt: T0 + 120_000 }),
          jobs: [jobParams({ task: 'race', uniqueKey: null })],
          cancelJobIds: [],
          now: T0 + 61_000,
        }),
      ),
    );
    assert.equal(results.filter((r) => r.applied).length, 1);
    const { jobs } = await driver.jobList({ tasks: ['race'], limit: 10 });
    assert.equal(jobs.length, 1);
  });

  test('scheduleWrite cancels replaced jobs only while they wait; deleting removes the row', async (driver) => {
    const created = await create(driver);
    const ahead = created.inserted[0]!.job;
    const running = (await driver.jobInsertMany({ jobs: [jobParams({ task: 'busy' })], now: T0 })) as {
      inserted: { job: { id: string } }[];
    };
    const runningId = running.inserted[0]!.job.id;
    await claimOne(driver, { now: T0 });
    const removed = await driver.scheduleWrite({
      id: 'daily',
      expectedVersion: 1,
      state: null,
      jobs: [],
      cancelJobIds: [ahead.id, runningId, '999999'],
      now: T0 + 1000,
    });
    assert.ok(removed.applied);
    assert.equal(removed.schedule, null);
    assert.deepEqual(
      removed.cancelled.map((c) => [c.id, c.previousState]),
      [[ahead.id, 'scheduled']],
    );
    assert.equal((await getJob(driver, ahead.id)).state, 'cancelled');
    assert.equal((await getJob(driver, runningId)).state, 'running', 'a running job is never cancelled here');
    assert.equal(await driver.scheduleGet({ id: 'daily' }), undefined);
    assert.deepEqual(await driver.scheduleList(), []);
  });

  test('scheduleListDue lists active schedules whose tick has come, earliest first', async (driver) => {
    for (const [id, tick, paused] of [
      ['b', T0 + 2000, false],
      ['a', T0 + 1000, false],
      ['c', T0 + 9000, false],
      ['p', T0, true],
    ] as const) {
      await driver.scheduleWrite({
        id,
        expectedVersion: null,
        state: state({ nextTickAt: paused ? null : tick, nextJob: null, paused }),
        jobs: [],
        cancelJobIds: [],
        now: T0,
      });
    }
    const due = await driver.scheduleListDue({ now: T0 + 5000, limit: 10 });
    assert.deepEqual(
      due.map((s) => s.id),
      ['a', 'b'],
    );
    assert.deepEqual(
      (await driver.scheduleListDue({ now: T0 + 5000, limit: 1 })).map((s) => s.id),
      ['a'],
    );
    assert.deepEqual(
      (await driver.scheduleList()).map((s) => s.id),
      ['a', 'b', 'c', 'p'],
    );
  });

  test('scheduleWrite refuses bad input, naming the field, and writes nothing', async (driver) => {
    const refused = async (overrides: Record<string, unknown>, field: string) =>
      assert.rejects(
        driver.scheduleWrite({
          id: 'x',
          expectedVersion: null,
          state: state({ nextJob: null }),
          jobs: [],
          cancelJobIds: [],
          now: T0,
          ...overrides,
        } as never),
        (err: unknown) => err instanceof InvalidOptionError && err.field === field,
      );
    await refused({ id: '' }, 'id');
    await refused({ id: 'a\u0000' }, 'id');
    await refused({ expectedVersion: 0 }, 'expectedVersion');
    await refused({ state: state({ nextJob: { index: 0 } }) }, 'state.nextJob.index');
    await refused({ state: state({ nextJob: null, definitionJson: '{' }) }, 'state.definitionJson');
    await refused({ state: state({ nextJob: null, nextTickAt: Number.NaN }) }, 'state.nextTickAt');
    assert.deepEqual(await driver.scheduleList(), []);
  });
}
