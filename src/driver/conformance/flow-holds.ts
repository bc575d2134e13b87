/**
 * Conformance: flow-control holds (`flow:held` / `flow:unheld`, docs/flow-control.md "Events").
 * A key (or queue) passed over by a claim because its limit left no room while a job of it was
 * due is held once — not once per claim round — and the hold ends with the key's next start (or
 * when nothing of it is left to start), each reported to the claim's caller and stored in the
 * durable log with the claim, with the same payloads on every driver.
 */
import assert from 'node:assert/strict';
import type { ClaimedJob, Driver, LogEntry } from '../driver.js';
import { keyed, rule } from './flow.js';
import { complete, type DefineTest, insertJobs, LEASE_MS, T0, WORKER } from './harness.js';

/** A claim that stores its events, with the flow events it reported. */
async function claimLogged(
  driver: Driver,
  now: number,
  limit = 10,
): Promise<{ jobs: ClaimedJob[]; flow: LogEntry[] }> {
  const flow: LogEntry[] = [];
  const jobs = await driver.jobClaim({
    queues: ['default'],
    limit,
    leaseMs: LEASE_MS,
    poolId: WORKER,
    log: true,
    onFlowEvents: (entries) => flow.push(...entries),
    now,
  });
  return { jobs, flow };
}

const plain = (entries: readonly LogEntry[]) => entries.map((e) => ({ type: e.type, data: e.data }));

/** Every flow event in the durable log, oldest first. */
async function loggedFlow(driver: Driver) {
  const { events } = await driver.eventRead({
    after: null,
    limit: 1000,
    filter: { types: ['flow:held', 'flow:unheld'] },
  });
  return events.map((e) => ({ type: e.type, data: e.data }));
}

const held = (
  key: string | null,
  limit: 'concurrency' | 'rate',
  running: number,
  max: number,
  at: number,
) => ({
  type: 'flow:held',
  data: {
    queue: 'default',
    key,
    scope: key === null ? 'queue' : 'key',
    limit,
    max,
    intervalMs: limit === 'rate' ? 1000 : null,
    running,
    at,
  },
});

const unheld = (key: string | null, reason: 'started' | 'cleared', heldSince: number, at: number) => ({
  type: 'flow:unheld',
  data: {
    queue: 'default',
    key,
    scope: key === null ? 'queue' : 'key',
    reason,
    heldSince,
    heldMs: at - heldSince,
    at,
  },
});

export function flowHoldTests(test: DefineTest): void {
  test('flow holds: a key at its concurrency limit is held once, not per claim, until its next start', async (driver) => {
    await driver.flowRuleSet({ rules: [rule({ concurrency: 1 })], now: T0 });
    await insertJobs(driver, [...keyed('k', 3), {}, {}], T0);
    const first = await claimLogged(driver, T0);
    assert.equal(first.jobs.length, 3, 'one job of the key and both unkeyed jobs');
    assert.deepEqual(first.flow, [], 'a key that started is not held');
    const polls = [];
    for (let i = 1; i <= 4; i++) polls.push(await claimLogged(driver, T0 + 10 * i));
    assert.deepEqual(
      polls.map((p) => p.jobs.length),
      [0, 0, 0, 0],
    );
    assert.deepEqual(plain(polls[0]!.flow), [held('k', 'concurrency', 1, 1, T0 + 10)]);
    assert.deepEqual(
      polls.slice(1).flatMap((p) => p.flow),
      [],
      'later claim rounds write nothing',
    );
    const keyJob = first.jobs.find((j) => j.id === String(Math.min(...first.jobs.map((x) => Number(x.id)))))!;
    assert.equal((await complete(driver, keyJob, T0 + 100)).applied, true);
    const second = await claimLogged(driver, T0 + 250);
    assert.equal(second.jobs.length, 1);
    assert.deepEqual(plain(second.flow), [unheld('k', 'started', T0 + 10, T0 + 250)]);
    // The third job waits behind the second: a new hold.
    const third = await claimLogged(driver, T0 + 300);
    assert.deepEqual(plain(third.flow), [held('k', 'concurrency', 1, 1, T0 + 300)]);
    assert.deepEqual(await loggedFlow(driver), [
      held('k', 'concurrency', 1, 1, T0 + 10),
      unheld('k', 'started', T0 + 10, T0 + 250),
      held('k', 'concurrency', 1, 1, T0 + 300),
    ]);
  });

  test('flow holds: a rate limit holds a key until its rate allows the next start', async (driver) => {
    await driver.flowRuleSet({ rules: [rule({ rate: { limit: 1, intervalMs: 1000, burst: 1 } })], now: T0 });
    await insertJobs(driver, keyed('r', 2), T0);
    assert.equal((await claimLogged(driver, T0)).jobs.length, 1);
    const poll = await claimLogged(driver, T0 + 10);
    assert.deepEqual(poll.jobs, []);
    assert.deepEqual(plain(poll.flow), [held('r', 'rate', 1, 1, T0 + 10)]);
    assert.deepEqual((await claimLogged(driver, T0 + 500)).flow, []);
    const next = await claimLogged(driver, T0 + 1000);
    assert.equal(next.jobs.length, 1);
    assert.deepEqual(plain(next.flow), [unheld('r', 'started', T0 + 10, T0 + 1000)]);
    assert.deepEqual(await loggedFlow(driver), [...plain(poll.flow), ...plain(next.flow)]);
  });

  test('flow holds: a queue-wide limit holds the queue; a key whose waiting jobs went is let go', async (driver) => {
    await driver.flowRuleSet({ rules: [rule({ key: null, concurrency: 1 })], now: T0 });
    const [a] = await insertJobs(driver, [{}, {}], T0);
    const started = await claimLogged(driver, T0);
    assert.deepEqual(
      started.jobs.map((j) => j.id),
      [a!.id],
    );
    const poll = await claimLogged(driver, T0 + 5);
    assert.deepEqual(plain(poll.flow), [held(null, 'concurrency', 1, 1, T0 + 5)]);
    assert.deepEqual((await claimLogged(driver, T0 + 6)).flow, []);
    await complete(driver, started.jobs[0]!, T0 + 7);
    const next = await claimLogged(driver, T0 + 8);
    assert.equal(next.jobs.length, 1);
    assert.deepEqual(plain(next.flow), [unheld(null, 'started', T0 + 5, T0 + 8)]);

    // A key held by its own limit whose waiting job is cancelled: the hold ends as `cleared`
    // once the key has nothing left (its running job done).
    await driver.flowRuleRemove({ queue: 'default', key: null });
    await complete(driver, next.jobs[0]!, T0 + 9);
    await driver.flowRuleSet({ rules: [rule({ key: 'c', concurrency: 1 })], now: T0 + 10 });
    const jobs = await insertJobs(driver, keyed('c', 2), T0 + 10);
    const running = await claimLogged(driver, T0 + 11);
    assert.equal(running.jobs.length, 1);
    assert.deepEqual(plain((await claimLogged(driver, T0 + 12)).flow), [
      held('c', 'concurrency', 1, 1, T0 + 12),
    ]);
    await driver.jobCancel({ ids: [jobs[1]!.id], now: T0 + 13 });
    await complete(driver, running.jobs[0]!, T0 + 14);
    const after = await claimLogged(driver, T0 + 15);
    assert.deepEqual(after.jobs, []);
    assert.deepEqual(plain(after.flow), [unheld('c', 'cleared', T0 + 12, T0 + 15)]);
  });

  test('flow holds: a queue without room is held as a whole, not key by key', async (driver) => {
    await driver.flowRuleSet({
      rules: [rule({ key: null, concurrency: 1 }), rule({ concurrency: 1 })],
      now: T0,
    });
    await insertJobs(driver, [...keyed('a', 2), ...keyed('b', 1)], T0);
    assert.equal((await claimLogged(driver, T0)).jobs.length, 1);
    const poll = await claimLogged(driver, T0 + 1);
    assert.deepEqual(plain(poll.flow), [held(null, 'concurrency', 1, 1, T0 + 1)]);
    assert.deepEqual(await loggedFlow(driver), plain(poll.flow));
  });

  test('flow holds: unkeyed jobs in a queue without a queue-wide rule never make flow events', async (driver) => {
    await driver.flowRuleSet({ rules: [rule({ key: 'x', concurrency: 1 })], now: T0 });
    await insertJobs(driver, [{}, {}, {}], T0);
    for (let i = 0; i < 4; i++) {
      const { flow } = await claimLogged(driver, T0 + i, 1);
      assert.deepEqual(flow, []);
    }
    assert.deepEqual(await loggedFlow(driver), []);
  });
}
