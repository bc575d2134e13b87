/**
 * Conformance: bounded counts (`queueCounts`), checked against the exact `queueList` of the same
 * table: an `exact` count is the true one, an `atLeast` count is at most the true one, a count
 * above the cap is never `exact`; a table of at most the cap jobs is counted exactly, and a
 * queue whose waiting jobs (pending and scheduled) fit under the cap has an exact pending count
 * whatever other queues hold.
 */
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../../core/errors.js';
import { JOB_STATES, type QueueCounts, type QueueInfo } from '../../core/types.js';
import type { Driver } from '../driver.js';
import { claim, complete, type DefineTest, insertJobs, storedError, T0 } from './harness.js';

/** Check `counts` against the exact listing `truth` under the rules of the module comment. */
function checkCounts(truth: readonly QueueInfo[], counts: readonly QueueCounts[], cap: number): void {
  let rows = 0;
  for (const queue of truth) for (const state of JOB_STATES) rows += queue.counts[state];
  const byName = new Map(counts.map((queue) => [queue.name, queue]));
  for (const queue of truth) {
    const got = byName.get(queue.name);
    const active = queue.counts.pending + queue.counts.scheduled + queue.counts.running;
    if (!got) {
      assert.ok(active === 0 && !queue.paused, `queue ${queue.name} (active or paused) is listed`);
      continue;
    }
    assert.equal(got.paused, queue.paused, `${queue.name} paused`);
    for (const state of JOB_STATES) {
      const where: string = `${queue.name}.${state} (true ${queue.counts[state]}, got ${got.counts[state]} ${got.precision[state]})`;
      const n = queue.counts[state];
      if (got.precision[state] === 'exact') assert.equal(got.counts[state], n, where);
      if (got.precision[state] === 'atLeast') assert.ok(got.counts[state] <= n, where);
      if (n > cap) assert.notEqual(got.precision[state], 'exact', `${where}: above the cap`);
      if (rows <= cap) assert.equal(got.precision[state], 'exact', `${where}: table within the cap`);
    }
    if (queue.counts.pending + queue.counts.scheduled <= cap) {
      assert.equal(got.precision.pending, 'exact', `${queue.name}.pending: waiting jobs within the cap`);
    }
  }
  for (const queue of counts) {
    assert.ok(
      truth.some((t) => t.name === queue.name),
      `${queue.name} is a queue`,
    );
  }
}

/** Cancel jobs by id in chunks (cancelled is a finished state: the cheapest way to fill history). */
async function cancelAll(driver: Driver, ids: readonly string[], now: number): Promise<void> {
  for (let i = 0; i < ids.length; i += 1000) await driver.jobCancel({ ids: ids.slice(i, i + 1000), now });
}

/** Insert `n` jobs in `queue` (delayed by `delayMs`), in chunks; returns their ids. */
async function fill(driver: Driver, queue: string, n: number, delayMs = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1000) {
    const jobs = await insertJobs(
      driver,
      Array.from({ length: Math.min(1000, n - i) }, () => ({ queue, delayMs })),
    );
    ids.push(...jobs.map((job) => job.id));
  }
  return ids;
}

export function queueCountTests(test: DefineTest): void {
  test('queueCounts: below the cap every count is exact and matches queueList', async (driver) => {
    assert.deepEqual(await driver.queueCounts({ exactUpTo: 10 }), []);
    await insertJobs(driver, [
      { queue: 'mail' },
      { queue: 'mail', delayMs: 100 },
      { queue: 'billing' },
      { queue: 'billing' },
      { queue: 'billing' },
      { queue: 'billing' },
    ]);
    const [a, b, c] = await claim(driver, { queues: ['billing'], limit: 3 });
    await complete(driver, a!, T0 + 1);
    await driver.jobFinalizeMany({
      items: [{ id: b!.id, leaseToken: b!.leaseToken, outcome: 'abandoned', error: storedError(1, T0 + 1) }],
      now: T0 + 1,
    });
    await driver.jobCancel({ ids: [c!.id], now: T0 + 1 });
    await driver.queuePause({ name: 'archive', now: T0 });
    await driver.queuePause({ name: 'mail', now: T0 });
    const truth = await driver.queueList();
    const counts = await driver.queueCounts({ exactUpTo: 10 });
    const exact = Object.fromEntries(JOB_STATES.map((s) => [s, 'exact']));
    assert.deepEqual(
      counts,
      truth.map((queue) => ({ ...queue, precision: exact })),
    );
    checkCounts(truth, counts, 10);
  });

  test('queueCounts: a count above the cap is flagged, a small queue next to a big one stays exact', async (driver) => {
    await fill(driver, 'big', 7);
    await fill(driver, 'small', 2);
    await fill(driver, 'later', 2, 60_000);
    await claim(driver, { queues: ['small'], limit: 1 });
    const cancelled = await fill(driver, 'old', 6);
    await cancelAll(driver, cancelled, T0 + 1);
    const truth = await driver.queueList();
    const counts = await driver.queueCounts({ exactUpTo: 4 });
    checkCounts(truth, counts, 4);
    const byName = new Map(counts.map((queue) => [queue.name, queue]));
    const big = byName.get('big')!;
    assert.notEqual(big.precision.pending, 'exact');
    assert.ok(big.precision.pending === 'estimate' || big.counts.pending === 5, 'read stopped at cap + 1');
    assert.deepEqual(
      [byName.get('small')!.counts.pending, byName.get('small')!.precision.pending],
      [1, 'exact'],
    );
    assert.notEqual(byName.get('old')!.precision.cancelled, 'exact');
  });

  test('queueCounts on a large table: flagged above the cap, estimates near the truth', async (driver) => {
    const history = await fill(driver, 'history', 20_000);
    await cancelAll(driver, history, T0 + 1);
    await fill(driver, 'bulk', 1_500);
    await fill(driver, 'mail', 3);
    const truth = await driver.queueList();
    const counts = await driver.queueCounts({ exactUpTo: 1000 });
    checkCounts(truth, counts, 1000);
    const byName = new Map(counts.map((queue) => [queue.name, queue]));
    assert.deepEqual(
      [byName.get('mail')!.counts.pending, byName.get('mail')!.precision.pending],
      [3, 'exact'],
    );
    for (const [queue, state, n] of [
      ['history', 'cancelled', 20_000],
      ['bulk', 'pending', 1_500],
    ] as const) {
      const got = byName.get(queue)!;
      assert.notEqual(got.precision[state], 'exact', `${queue}.${state}`);
      // An estimate comes from statistics or a sample: near, not equal. (A PostgreSQL table
      // never analyzed has no statistics, and its counts stay `atLeast`.)
      if (got.precision[state] === 'estimate') {
        assert.ok(
          Math.abs(got.counts[state] - n) <= n / 2,
          `${queue}.${state}: ${got.counts[state]} near ${n}`,
        );
      }
    }
  });

  test('queueCounts counts keyed jobs (flow control keeps them outside the claim index) like any other', async (driver) => {
    await insertJobs(driver, [
      { queue: 'tenants', concurrencyKey: 'tenant:a' },
      { queue: 'tenants', concurrencyKey: 'tenant:a' },
      { queue: 'tenants', concurrencyKey: 'tenant:b', delayMs: 60_000 },
      { queue: 'tenants' },
      { queue: 'keyed-only', concurrencyKey: 'tenant:c' },
    ]);
    const truth = await driver.queueList();
    const counts = await driver.queueCounts({ exactUpTo: 10 });
    checkCounts(truth, counts, 10);
    const byName = new Map(counts.map((queue) => [queue.name, queue]));
    assert.deepEqual(
      [byName.get('tenants')?.counts.pending, byName.get('tenants')?.counts.scheduled],
      [3, 1],
    );
    assert.equal(byName.get('keyed-only')?.counts.pending, 1, 'a queue holding only keyed jobs is found');
    // Over the cap across the two indexes: two keyed + one unkeyed pending job with a cap of 2.
    const capped = new Map((await driver.queueCounts({ exactUpTo: 2 })).map((queue) => [queue.name, queue]));
    assert.notEqual(capped.get('tenants')?.precision.pending, 'exact');
  });

  test('queueCounts counts blocked jobs (waiting for dependencies), exactly under the cap and flagged over it', async (driver) => {
    const [parent] = await insertJobs(driver, [{ queue: 'etl' }]);
    await insertJobs(
      driver,
      Array.from({ length: 3 }, () => ({
        queue: 'etl',
        dependsOn: [{ jobId: parent!.id, onFailure: 'cancel' as const }],
      })),
    );
    const truth = await driver.queueList();
    assert.equal(truth.find((q) => q.name === 'etl')?.counts.blocked, 3);
    const counts = await driver.queueCounts({ exactUpTo: 10 });
    checkCounts(truth, counts, 10);
    const etl = counts.find((q) => q.name === 'etl')!;
    assert.deepEqual([etl.counts.blocked, etl.precision.blocked], [3, 'exact']);
    const capped = (await driver.queueCounts({ exactUpTo: 2 })).find((q) => q.name === 'etl')!;
    assert.notEqual(capped.precision.blocked, 'exact');
    assert.ok(
      (capped.counts.blocked >= 2 && capped.counts.blocked <= 3) || capped.precision.blocked === 'estimate',
    );
  });

  test('queueCounts refuses a cap that is not an integer from 1 to 1,000,000', async (driver) => {
    for (const exactUpTo of [0, -1, 1.5, Number.NaN, 1_000_001, '10', undefined]) {
      await assert.rejects(
        driver.queueCounts({ exactUpTo } as never),
        (error: unknown) => error instanceof InvalidOptionError && error.field === 'exactUpTo',
        String(exactUpTo),
      );
    }
  });
}
