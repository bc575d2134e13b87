/**
 * Conformance: flow control (docs/flow-control.md) — rules, slot accounting (a running job is
 * its slot, freed by every write that moves it out of `running`), concurrency limits per key
 * and per queue, GCRA rate math, and fairness order (least recently started key first,
 * round-robin within a claim).
 */
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../../core/errors.js';
import type { Driver, FlowRule } from '../driver.js';
import { FLOW_MIN_KEYS, FLOW_QUANTUM, gcraAllowed } from '../flow.js';
import { claim, complete, type DefineTest, getJob, insertJobs, LEASE_MS, stateOf, T0 } from './harness.js';

/** A rule of queue `default` for every key (`*`), no limit unless `overrides` sets one. */
export const rule = (overrides: Partial<FlowRule>): FlowRule => ({
  queue: 'default',
  key: '*',
  concurrency: null,
  rate: null,
  ...overrides,
});

const keysOf = async (driver: Driver, jobs: readonly { id: string }[]) =>
  Promise.all(jobs.map(async (j) => (await getJob(driver, j.id)).concurrencyKey));

/** `n` job params of key `key` (with `extra` fields). */
export const keyed = (key: string, n: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, () => ({ concurrencyKey: key, ...extra }));

export function flowTests(test: DefineTest): void {
  test('flow rules: set, replace, list sorted, remove', async (driver) => {
    await driver.flowRuleSet({
      rules: [
        rule({ key: 'tenant:*', concurrency: 2 }),
        rule({ key: null, rate: { limit: 10, intervalMs: 1000, burst: 5 } }),
        rule({ queue: 'alpha', key: 'acme', concurrency: 1 }),
      ],
      now: T0,
    });
    await driver.flowRuleSet({ rules: [rule({ key: 'tenant:*', concurrency: 3 })], now: T0 + 5 });
    const listed = await driver.flowRuleList();
    assert.deepEqual(
      listed.map((r) => [r.queue, r.key, r.concurrency, r.rate, r.updatedAt]),
      [
        ['alpha', 'acme', 1, null, T0],
        ['default', null, null, { limit: 10, intervalMs: 1000, burst: 5 }, T0],
        ['default', 'tenant:*', 3, null, T0 + 5],
      ],
    );
    assert.equal(await driver.flowRuleRemove({ queue: 'alpha', key: 'acme' }), true);
    assert.equal(await driver.flowRuleRemove({ queue: 'alpha', key: 'acme' }), false);
    assert.equal((await driver.flowRuleList()).length, 2);
  });

  test('flow rules: bad rules are refused with InvalidOptionError naming the field, nothing stored', async (driver) => {
    const bad: [Partial<FlowRule>, string][] = [
      [{ concurrency: 0 }, 'rules[1].concurrency'],
      [{ concurrency: 1.5 }, 'rules[1].concurrency'],
      [{ concurrency: null, rate: null }, 'rules[1]'],
      [{ rate: { limit: 0, intervalMs: 1000, burst: 1 } }, 'rules[1].rate.limit'],
      [{ rate: { limit: 1, intervalMs: 0, burst: 1 } }, 'rules[1].rate.interval'],
      [{ rate: { limit: 1, intervalMs: 1000, burst: 0 } }, 'rules[1].rate.burst'],
      [{ key: '', concurrency: 1 }, 'rules[1].key'],
      [{ key: 'a\u0000b', concurrency: 1 }, 'rules[1].key'],
      [{ queue: 'no spaces', concurrency: 1 }, 'rules[1].queue'],
    ];
    for (const [overrides, field] of bad) {
      await assert.rejects(
        driver.flowRuleSet({ rules: [rule({ concurrency: 1 }), rule(overrides)], now: T0 }),
        (err: unknown) => err instanceof InvalidOptionError && err.field === field,
        `expected InvalidOptionError on ${field} for ${JSON.stringify(overrides)}`,
      );
    }
    assert.deepEqual(await driver.flowRuleList(), []);
  });

  test('flow: keyed jobs run without rules, and the key is stored on the job', async (driver) => {
    const jobs = await insertJobs(driver, [...keyed('a', 2), {}]);
    assert.deepEqual(await keysOf(driver, jobs), ['a', 'a', null]);
    assert.equal(jobs[0]!.concurrencyKey, 'a');
    assert.equal((await claim(driver, { limit: 10 })).length, 3);
  });

  test('flow: concurrency per key is never exceeded; the most specific rule wins', async (driver) => {
    await driver.flowRuleSet({
      rules: [
        rule({ key: '*', concurrency: 1 }),
        rule({ key: 'tenant:*', concurrency: 2 }),
        rule({ key: 'tenant:vip', concurrency: 3 }),
      ],
      now: T0,
    });
    await insertJobs(driver, [...keyed('other', 5), ...keyed('tenant:x', 5), ...keyed('tenant:vip', 5), {}]);
    const first = await claim(driver, { limit: 100 });
    const byKey = new Map<string | null, number>();
    for (const job of first) {
      const key = (await getJob(driver, job.id)).concurrencyKey;
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(byKey), { null: 1, other: 1, 'tenant:x': 2, 'tenant:vip': 3 });
    assert.deepEqual(await claim(driver, { limit: 100, now: T0 + 1 }), []);
  });

  test('flow: a slot is freed by completion, retry, snooze, release, cancel, rescue and delete', async (driver) => {
    await driver.flowRuleSet({ rules: [rule({ concurrency: 1 })], now: T0 });
    await insertJobs(driver, keyed('k', 9));
    let now = T0;
    const next = async () => {
      now += 10;
      const got = await claim(driver, { limit: 10, now, leaseMs: 1000 });
      assert.equal(got.length, 1, 'exactly one job of the key runs');
      assert.deepEqual(await claim(driver, { limit: 10, now }), [], 'no second slot');
      return got[0]!;
    };
    let job = await next();
    assert.equal((await complete(driver, job, now)).applied, true);
    job = await next();
    await driver.jobFinalizeMany({
      items: [
        {
          id: job.id,
          leaseToken: job.leaseToken,
          outcome: 'retry',
          error: { name: 'E', message: 'x', attempt: 1, at: now },
          delayMs: 0,
        },
      ],
      now,
    });
    job = await next();
    await driver.jobFinalizeMany({
      items: [{ id: job.id, leaseToken: job.leaseToken, outcome: 'snoozed', delayMs: 0 }],
      now,
    });
    job = await next();
    await driver.jobRelease({ leases: [job], now });
    job = await next();
    await driver.jobCancel({ ids: [job.id], now });
    assert.equal(await stateOf(driver, job.id), 'cancelled');
    job = await next();
    now += 1600;
    const rescued = await driver.jobRescueExpired({ limit: 10, now });
    assert.deepEqual(
      rescued.map((r) => r.id),
      [job.id],
    );
    job = await next();
    await driver.jobDelete({ ids: [job.id] });
    job = await next();
    // A fenced-off write (stale token) frees nothing: the job is still running.
    await driver.jobFinalizeMany({
      items: [{ id: job.id, leaseToken: job.leaseToken - 1, outcome: 'completed', resultJson: null }],
      now,
    });
    assert.deepEqual(await claim(driver, { limit: 10, now: now + 1 }), []);
  });

  test('flow: a queue-wide concurrency limit covers keyed and unkeyed jobs', async (driver) => {
    await driver.flowRuleSet({ rules: [rule({ key: null, concurrency: 3 })], now: T0 });
    await insertJobs(driver, [{}, {}, {}, ...keyed('a', 3), ...keyed('b', 3)]);
    const first = await claim(driver, { limit: 10 });
    assert.equal(first.length, 3);
    assert.deepEqual(await claim(driver, { limit: 10, now: T0 + 1 }), []);
    await complete(driver, first[0]!, T0 + 2);
    assert.equal((await claim(driver, { limit: 10, now: T0 + 3 })).length, 1);
    // Other queues are not limited by it.
    await insertJobs(driver, [{ queue: 'other' }, { queue: 'other' }]);
    assert.equal((await claim(driver, { queues: ['other'], limit: 10, now: T0 + 4 })).length, 2);
    // Removing the rule lifts the limit.
    await driver.flowRuleRemove({ queue: 'default', key: null });
    assert.equal((await claim(driver, { limit: 10, now: T0 + 5 })).length, 5);
  });

  test('flow: rate limits follow GCRA (burst at once, then one per emission interval)', async (driver) => {
    const rate = { limit: 4, intervalMs: 1000, burst: 2 };
    await driver.flowRuleSet({ rules: [rule({ key: 'r', rate })], now: T0 });
    await insertJobs(driver, keyed('r', 20));
    // T = 250 ms. Burst 2 at T0; then one per 250 ms.
    const script: [number, number][] = [
      [0, 2],
      [0, 0],
      [249, 0],
      [250, 1],
      [499, 0],
      [500, 1],
      [2000, 2],
      [2000, 0],
      [2249, 0],
      [2250, 1],
    ];
    let tat: number | null = null;
    for (const [offset, expected] of script) {
      const got = await claim(driver, { limit: 10, now: T0 + offset });
      assert.equal(got.length, expected, `starts allowed at T0+${offset}`);
      // The driver-independent formula agrees with what the driver did.
      assert.equal(Math.min(10, gcraAllowed(rate, tat, T0 + offset)), expected);
      if (got.length > 0)
        tat = Math.max(tat ?? T0 + offset, T0 + offset) + (got.length * rate.intervalMs) / rate.limit;
    }
  });

  test('flow: a queue-wide rate limit counts every start of the queue', async (driver) => {
    await driver.flowRuleSet({
      rules: [rule({ key: null, rate: { limit: 1, intervalMs: 1000, burst: 1 } })],
      now: T0,
    });
    await insertJobs(driver, [{}, ...keyed('a', 2), ...keyed('b', 2)]);
    assert.equal((await claim(driver, { limit: 10, now: T0 })).length, 1);
    assert.equal((await claim(driver, { limit: 10, now: T0 + 999 })).length, 0);
    assert.equal((await claim(driver, { limit: 10, now: T0 + 1000 })).length, 1);
    assert.equal((await claim(driver, { limit: 10, now: T0 + 5000 })).length, 1);
  });

  test('flow: least recently started key first, round-robin within a claim', async (driver) => {
    const jobs = await insertJobs(driver, [...keyed('a', 6), ...keyed('b', 3), ...keyed('c', 1)]);
    const keyOf = new Map(jobs.map((j) => [j.id, j.concurrencyKey]));
    const keys = (claimed: readonly { id: string }[]) => claimed.map((j) => keyOf.get(j.id));
    // Never-started keys first (by key), one job of each before a second of any.
    assert.deepEqual(keys(await claim(driver, { limit: 5, now: T0 })), ['a', 'b', 'c', 'a', 'b']);
    // a and b both started at T0; c has nothing left. Next: a (then by key), then b.
    assert.deepEqual(keys(await claim(driver, { limit: 1, now: T0 + 1 })), ['a']);
    assert.deepEqual(keys(await claim(driver, { limit: 1, now: T0 + 2 })), ['b']);
    assert.deepEqual(keys(await claim(driver, { limit: 1, now: T0 + 3 })), ['a']);
    assert.deepEqual(keys(await claim(driver, { limit: 5, now: T0 + 4 })), ['a', 'a']);
  });

  test('flow: a large claim serves keys a quantum at a time and goes on to the next keys', async (driver) => {
    // 30 keys of 5 jobs. A claim of 100 takes 10 keys (FLOW_MIN_KEYS) with a share of 10 each;
    // they have 5, so it goes on to the next 10 keys: 20 keys give all they have, 10 wait.
    const names = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const jobs = await insertJobs(
      driver,
      names.flatMap((k) => keyed(k, 5)),
    );
    const keyOf = new Map(jobs.map((j) => [j.id, j.concurrencyKey]));
    const got = (await claim(driver, { limit: 100, now: T0 })).map((j) => keyOf.get(j.id));
    assert.equal(got.length, 100);
    const expected = [0, 1].flatMap((batch) =>
      Array.from({ length: 5 }, () => names.slice(batch * 10, batch * 10 + 10)).flat(),
    );
    assert.deepEqual(got, expected);
    // The ten keys left out are served first by the next claim.
    const next = (await claim(driver, { limit: 10, now: T0 + 1 })).map((j) => keyOf.get(j.id));
    assert.deepEqual(next, names.slice(20));
  });

  test('flow: a claim of 500 (sub-millisecond jobs) serves one key per FLOW_QUANTUM jobs, FLOW_QUANTUM from each', async (driver) => {
    // 60 keys of 30 jobs: more keys and more jobs per key than the claim's budget and share.
    const names = Array.from({ length: 60 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const jobs = await insertJobs(
      driver,
      names.flatMap((k) => keyed(k, 30)),
    );
    const keyOf = new Map(jobs.map((j) => [j.id, j.concurrencyKey]));
    const got = (await claim(driver, { limit: 500, now: T0 })).map((j) => keyOf.get(j.id));
    const keys = Math.max(FLOW_MIN_KEYS, Math.ceil(500 / FLOW_QUANTUM));
    assert.equal(got.length, 500);
    assert.deepEqual(
      new Set(got),
      new Set(names.slice(0, keys)),
      'the least recently started keys, no others',
    );
    // Round-robin: the first job of each key before the second of any.
    assert.deepEqual(got.slice(0, keys), names.slice(0, keys));
    const perKey = new Map<string | null | undefined, number>();
    for (const k of got) perKey.set(k, (perKey.get(k) ?? 0) + 1);
    assert.deepEqual(new Set(perKey.values()), new Set([500 / keys]));
    // The keys left out are served first by the next claim.
    const next = (await claim(driver, { limit: 10, now: T0 + 1 })).map((j) => keyOf.get(j.id));
    assert.deepEqual(next, names.slice(keys, keys + 10));
  });

  test('flow: a key with a long backlog fills a claim when the other keys run short', async (driver) => {
    const jobs = await insertJobs(driver, [...keyed('a', 1), ...keyed('b', 200)]);
    const keyOf = new Map(jobs.map((j) => [j.id, j.concurrencyKey]));
    const got = (await claim(driver, { limit: 100, now: T0 })).map((j) => keyOf.get(j.id));
    assert.deepEqual(got, ['a', ...Array.from({ length: 99 }, () => 'b')]);
  });

  test('flow: a tenant with a long backlog does not starve one with a few jobs', async (driver) => {
    await driver.flowRuleSet({ rules: [rule({ concurrency: 1 })], now: T0 });
    const jobs = await insertJobs(driver, [...keyed('big', 200), ...keyed('small', 3)]);
    const keyOf = new Map(jobs.map((j) => [j.id, j.concurrencyKey]));
    const started: (string | null | undefined)[] = [];
    let now = T0;
    for (let round = 0; round < 6; round++) {
      now += 10;
      const got = await claim(driver, { limit: 10, now, leaseMs: LEASE_MS });
      for (const job of got) {
        started.push(keyOf.get(job.id));
        await complete(driver, job, now + 1);
      }
    }
    // Each round both keys have a free slot: one job of each, so small is done in three rounds.
    assert.deepEqual(started.slice(0, 6).sort(), ['big', 'big', 'big', 'small', 'small', 'small']);
    assert.equal(started.filter((k) => k === 'small').length, 3);
  });

  test('flow: an idle key comes back when a job waits again (insert, retry, due time)', async (driver) => {
    const [first] = await insertJobs(driver, keyed('k', 1));
    const job = (await claim(driver, { now: T0 }))[0]!;
    await complete(driver, job, T0 + 1);
    assert.deepEqual(await claim(driver, { now: T0 + 2 }), []);
    // By insert.
    await insertJobs(driver, keyed('k', 1), T0 + 3);
    const second = (await claim(driver, { now: T0 + 4 }))[0]!;
    assert.ok(second);
    await complete(driver, second, T0 + 5);
    assert.deepEqual(await claim(driver, { now: T0 + 6 }), []);
    // By retry of a finished job.
    await driver.jobRetry({ ids: [first!.id], now: T0 + 7 });
    assert.equal((await claim(driver, { now: T0 + 8 }))[0]?.id, first!.id);
    // By a due time that comes.
    await insertJobs(driver, keyed('k', 1, { delayMs: 1000 }), T0 + 9);
    assert.deepEqual(await claim(driver, { now: T0 + 10 }), []);
    assert.equal((await claim(driver, { now: T0 + 1009 })).length, 1);
  });

  test('flow: an idle key comes back when its job is unblocked by the job it waited for', async (driver) => {
    const [parent] = await insertJobs(driver, [{ queue: 'upstream' }]);
    const [child] = await insertJobs(
      driver,
      keyed('k', 1, { dependsOn: [{ jobId: parent!.id, onFailure: 'cancel' as const }] }),
    );
    // A blocked job is not waiting work: its key has none.
    assert.deepEqual(await claim(driver, { now: T0 + 1 }), []);
    const upstream = (await claim(driver, { queues: ['upstream'], now: T0 + 2 }))[0]!;
    await complete(driver, upstream, T0 + 3);
    assert.equal(await stateOf(driver, child!.id), 'pending');
    assert.equal((await claim(driver, { now: T0 + 4 }))[0]?.id, child!.id);
  });

  test('flow: paused queues keep their keyed jobs', async (driver) => {
    await insertJobs(driver, keyed('k', 2));
    await driver.flowRuleSet({ rules: [rule({ key: null, concurrency: 5 })], now: T0 });
    await insertJobs(driver, [{}]);
    await driver.queuePause({ name: 'default', now: T0 });
    assert.deepEqual(await claim(driver, { now: T0 + 1 }), []);
    await driver.queueResume({ name: 'default', now: T0 + 2 });
    assert.equal((await claim(driver, { now: T0 + 3 })).length, 3);
  });
}
