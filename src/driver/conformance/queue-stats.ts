/** Conformance: queue statistics (`queueStats`) and the stored alert state (`alert*`). */
import assert from 'node:assert/strict';
import type { EpochMs } from '../../core/types.js';
import type { Driver, QueueStats } from '../driver.js';
import { emptyStats } from '../queue-stats.js';
import { claimOne, complete, type DefineTest, insertJob, storedError, T0 } from './harness.js';

const WINDOW_MS = 60_000;
/** The waiting counts' cap: above every test's backlog, so counts are exact unless a test lowers it. */
const CAP = 10_000;
/** The statistics are read at NOW: the window is (T0 + 40 s, T0 + 100 s]. */
const NOW = T0 + 100_000;

async function finalize(
  driver: Driver,
  queue: string,
  outcome: 'completed' | 'retry' | 'abandoned',
  at: EpochMs,
  delayMs = 0,
): Promise<string> {
  const job = await insertJob(driver, { queue });
  const lease = await claimOne(driver, { queues: [queue] });
  assert.equal(lease.id, job.id);
  if (outcome === 'completed') {
    assert.equal((await complete(driver, lease, at)).applied, true);
  } else {
    const error = storedError(lease.attempt, at);
    const item =
      outcome === 'retry'
        ? { id: lease.id, leaseToken: lease.leaseToken, outcome, error, delayMs }
        : { id: lease.id, leaseToken: lease.leaseToken, outcome, error };
    const [result] = await driver.jobFinalizeMany({ items: [item], now: at });
    assert.equal(result?.applied, true);
  }
  return job.id;
}

export function queueStatsTests(test: DefineTest): void {
  test('queueStats counts active jobs at now and finishes and failures in the window', async (driver) => {
    assert.deepEqual(await driver.queueStats({ windowMs: WINDOW_MS, exactUpTo: CAP, now: NOW }), []);
    await finalize(driver, 'mail', 'completed', T0 + 10_000); // before the window
    await finalize(driver, 'mail', 'completed', T0 + 50_000);
    await finalize(driver, 'mail', 'retry', T0 + 45_000); // due again at T0 + 45 s: waiting
    await finalize(driver, 'mail', 'abandoned', T0 + 60_000);
    await finalize(driver, 'mail', 'retry', T0 + 20_000, 200_000); // failed before the window, due later
    const cancelled = await insertJob(driver, { queue: 'mail' });
    assert.equal((await driver.jobCancel({ ids: [cancelled.id], now: T0 + 80_000 })).length, 1);
    await insertJob(driver, { queue: 'mail' }, T0 + 30_000); // the oldest due job
    await insertJob(driver, { queue: 'mail', delayMs: 5_000 }, NOW); // due after now
    await finalize(driver, 'old', 'completed', T0 + 1_000); // a queue with nothing in the window

    // A running job whose previous attempt was cut off (an interruption, not a failure).
    await insertJob(driver, { queue: 'billing' });
    const first = await claimOne(driver, { queues: ['billing'] });
    const interruption = {
      ...storedError(first.attempt, T0 + 70_000, 'cut off'),
      interrupted: true as const,
    };
    await driver.jobRelease({
      leases: [{ id: first.id, leaseToken: first.leaseToken, interruption }],
      now: T0 + 70_000,
    });
    await claimOne(driver, { queues: ['billing'], now: T0 + 70_000 });
    await driver.queuePause({ name: 'archive', now: T0 });

    const expected: QueueStats[] = [
      { ...emptyStats('archive'), paused: true },
      { ...emptyStats('billing'), running: 1, interruptedAttempts: 1 },
      {
        ...emptyStats('mail'),
        scheduled: 2,
        pending: 2,
        oldestPendingRunAt: T0 + 30_000,
        completed: 1,
        failedAttempts: 2,
        abandoned: 1,
        cancelled: 1,
      },
    ];
    assert.deepEqual(await driver.queueStats({ windowMs: WINDOW_MS, exactUpTo: CAP, now: NOW }), expected);
  });

  test('queueStats windows exclude their start and include now', async (driver) => {
    await finalize(driver, 'edge', 'completed', NOW - WINDOW_MS);
    await finalize(driver, 'edge', 'completed', NOW);
    await finalize(driver, 'edge', 'retry', NOW - WINDOW_MS, 1_000_000);
    await finalize(driver, 'edge', 'retry', NOW, 1_000_000);
    const [edge] = await driver.queueStats({ windowMs: WINDOW_MS, exactUpTo: CAP, now: NOW });
    assert.deepEqual(edge, { ...emptyStats('edge'), scheduled: 2, completed: 1, failedAttempts: 1 });
    // A wider window reaches the older finish and failure.
    const [wide] = await driver.queueStats({ windowMs: WINDOW_MS + 1, exactUpTo: CAP, now: NOW });
    assert.deepEqual(wide, { ...emptyStats('edge'), scheduled: 2, completed: 2, failedAttempts: 2 });
  });

  test('an alert fires once until it is resolved, and is listed while it is fired', async (driver) => {
    const alert = {
      id: 'queue-backlog:mail',
      queue: 'mail',
      kind: 'queue-backlog',
      value: 12,
      threshold: 10,
      firedAt: T0,
    };
    assert.deepEqual(await driver.alertList(), []);
    assert.equal(await driver.alertFire({ alert }), true);
    assert.equal(
      await driver.alertFire({ alert: { ...alert, value: 20, firedAt: T0 + 1 } }),
      false,
      'already fired',
    );
    const other = { ...alert, id: 'queue-backlog:billing', queue: 'billing', value: 0.5, firedAt: T0 + 2 };
    assert.equal(await driver.alertFire({ alert: other }), true);
    assert.deepEqual(await driver.alertList(), [other, alert]);
    assert.equal(await driver.alertResolve({ id: alert.id }), true);
    assert.equal(await driver.alertResolve({ id: alert.id }), false, 'already resolved');
    assert.deepEqual(await driver.alertList(), [other]);
    assert.equal(await driver.alertFire({ alert: { ...alert, firedAt: T0 + 3 } }), true, 'fires again');
    assert.deepEqual(await driver.alertList(), [other, { ...alert, firedAt: T0 + 3 }]);
  });

  // The waiting jobs read for failed attempts are those with an error and run-at after the
  // window's start, and the interrupted ones (health.ts of each driver proves the rule): these
  // cases are the ones whose run-at is NOT after the window's start, or whose attempt is 0.
  test('queueStats counts the window errors of waiting jobs whatever their run-at and attempt', async (driver) => {
    const interruption = (at: EpochMs) => ({ ...storedError(1, at, 'cut off'), interrupted: true as const });
    const cutOff = async (queue: string, at: EpochMs) => {
      await insertJob(driver, { queue });
      const lease = await claimOne(driver, { queues: [queue] });
      await driver.jobRelease({
        leases: [{ id: lease.id, leaseToken: lease.leaseToken, interruption: interruption(at) }],
        now: at,
      });
    };
    // Cut off in the window in its first attempt: waiting again with attempt 0 and its run-at T0.
    await cutOff('cut', T0 + 70_000);
    // Its lease expired and was rescued in the window: the same, through the rescuer.
    await insertJob(driver, { queue: 'rescued' });
    await claimOne(driver, { queues: ['rescued'] });
    assert.equal((await driver.jobRescueExpired({ limit: 10, now: T0 + 50_000 })).length, 1);
    // Abandoned in the window, then retried by hand: attempt and interruptions reset to 0.
    const retried = await finalize(driver, 'retried', 'abandoned', T0 + 60_000);
    assert.equal((await driver.jobRetry({ ids: [retried], now: T0 + 90_000 })).length, 1);
    // Outside the window: failed and retried, due again before it; cut off before it.
    await finalize(driver, 'late', 'retry', T0 + 20_000, 10_000);
    await cutOff('late', T0 + 10_000);

    const waiting = (queue: string, runAt: EpochMs, pending = 1) => ({
      ...emptyStats(queue),
      pending,
      oldestPendingRunAt: runAt,
    });
    assert.deepEqual(await driver.queueStats({ windowMs: WINDOW_MS, exactUpTo: CAP, now: NOW }), [
      { ...waiting('cut', T0), interruptedAttempts: 1 },
      waiting('late', T0, 2),
      { ...waiting('rescued', T0), interruptedAttempts: 1 },
      { ...waiting('retried', T0 + 90_000), failedAttempts: 1 },
    ]);
  });

  test("queueStats reads each queue's waiting jobs up to exactUpTo and flags the rest atLeast", async (driver) => {
    for (const at of [T0 + 30_000, T0 + 10_000, T0 + 20_000]) await insertJob(driver, { queue: 'big' }, at);
    for (const delayMs of [5_000, 6_000]) await insertJob(driver, { queue: 'big', delayMs }, NOW);
    await insertJob(driver, { queue: 'small' }, T0 + 50_000);
    const read = async (exactUpTo: number) => driver.queueStats({ windowMs: WINDOW_MS, exactUpTo, now: NOW });
    const small = { ...emptyStats('small'), pending: 1, oldestPendingRunAt: T0 + 50_000 };
    const big = { ...emptyStats('big'), oldestPendingRunAt: T0 + 10_000 };
    // The due jobs come first: past the cap both counts are lower bounds (the cap + 1 due ones).
    assert.deepEqual(await read(2), [
      { ...big, pending: 3, scheduled: 0, precision: { pending: 'atLeast', scheduled: 'atLeast' } },
      small,
    ]);
    // A read that reached a job not yet due saw every due one.
    assert.deepEqual(await read(3), [
      { ...big, pending: 3, scheduled: 1, precision: { pending: 'exact', scheduled: 'atLeast' } },
      small,
    ]);
    assert.deepEqual(await read(5), [{ ...big, pending: 3, scheduled: 2 }, small]);
  });
}
