/**
 * Conformance: deduplication rules on insert (unique with finished states, throttle, debounce).
 * Every window is checked at its boundary with the suite's fixed clock.
 */
import assert from 'node:assert/strict';
import type { DedupRule, EpochMs } from '../../core/types.js';
import type { Driver, JobInsertParams, JobInsertResult } from '../driver.js';
import { claimOne, complete, type DefineTest, getJob, jobParams, T0 } from './harness.js';

const UNIQUE_DONE: Extract<DedupRule, { rule: 'unique' }> = {
  rule: 'unique',
  key: 'k',
  states: ['scheduled', 'pending', 'running', 'completed'],
  forMs: 1000,
};
const throttle = (windowMs = 1000, key = 't'): DedupRule => ({ rule: 'throttle', key, windowMs });
const debounce = (windowMs = 1000, maxWaitMs: number | null = null, key = 'd'): DedupRule => ({
  rule: 'debounce',
  key,
  windowMs,
  maxWaitMs,
});

/** A job with `rule` (a unique rule's key also goes in `uniqueKey`, as the client sends it). */
const ruled = (rule: DedupRule, overrides: Partial<JobInsertParams> = {}): Partial<JobInsertParams> => ({
  dedup: rule,
  uniqueKey: rule.rule === 'unique' ? rule.key : null,
  ...overrides,
});

async function insert(
  driver: Driver,
  jobs: Partial<JobInsertParams>[],
  now: EpochMs,
  log = false,
): Promise<JobInsertResult[]> {
  const result = await driver.jobInsertMany({ jobs: jobs.map(jobParams), now, log });
  assert.ok('inserted' in result, 'insert was refused');
  return result.inserted;
}

const one = async (driver: Driver, job: Partial<JobInsertParams>, now: EpochMs) =>
  (await insert(driver, [job], now))[0]!;

/** Run the only due job to completion at `now`. */
async function runOne(driver: Driver, now: EpochMs): Promise<void> {
  const lease = await claimOne(driver, { now });
  assert.equal((await complete(driver, lease, now)).applied, true);
}

export function dedupTests(test: DefineTest): void {
  test('unique with completed: a job finished less than `for` ago is returned, at `for` a new one is made', async (driver) => {
    const first = await one(driver, ruled(UNIQUE_DONE), T0);
    assert.equal(first.duplicate, false);
    assert.deepEqual(first.job.dedup, UNIQUE_DONE);
    const whileActive = await one(driver, ruled(UNIQUE_DONE), T0 + 1);
    assert.deepEqual(
      [whileActive.duplicate, whileActive.matchedBy, whileActive.job.id],
      [true, 'unique', first.job.id],
    );

    await runOne(driver, T0 + 10);
    const justBefore = await one(driver, ruled(UNIQUE_DONE), T0 + 10 + 999);
    assert.deepEqual(
      [justBefore.duplicate, justBefore.job.id, justBefore.job.state],
      [true, first.job.id, 'completed'],
    );
    const atBoundary = await one(driver, ruled(UNIQUE_DONE), T0 + 10 + 1000);
    assert.equal(atBoundary.duplicate, false);
    assert.notEqual(atBoundary.job.id, first.job.id);
  });

  test('unique with finished states matches only the states it names; without `for` it matches while kept', async (driver) => {
    const cancelled = await one(driver, ruled(UNIQUE_DONE), T0);
    await driver.jobCancel({ ids: [cancelled.job.id], now: T0 + 1 });
    // Cancelled is not in UNIQUE_DONE's states.
    const next = await one(driver, ruled(UNIQUE_DONE), T0 + 2);
    assert.equal(next.duplicate, false);

    const forever: DedupRule = { ...UNIQUE_DONE, states: [...UNIQUE_DONE.states, 'cancelled'], forMs: null };
    await driver.jobCancel({ ids: [next.job.id], now: T0 + 3 });
    const years = await one(driver, ruled(forever), T0 + 10 * 365 * 86_400_000);
    assert.deepEqual([years.duplicate, years.job.id], [true, next.job.id]);
  });

  test('a plain unique key ignores finished jobs a unique rule with finished states would match', async (driver) => {
    const first = await one(driver, ruled(UNIQUE_DONE), T0);
    await runOne(driver, T0 + 1);
    const plain = await one(driver, { uniqueKey: 'k' }, T0 + 2);
    assert.equal(plain.duplicate, false);
    // And the rule sees the active job the plain key made.
    const again = await one(driver, ruled(UNIQUE_DONE), T0 + 3);
    assert.deepEqual([again.duplicate, again.job.id], [true, plain.job.id]);
    assert.notEqual(plain.job.id, first.job.id);
  });

  test('a plain unique key duplicate says the unique rule matched', async (driver) => {
    const first = await one(driver, { uniqueKey: 'p' }, T0);
    const second = await one(driver, { uniqueKey: 'p' }, T0 + 1);
    assert.deepEqual([second.duplicate, second.matchedBy, second.job.id], [true, 'unique', first.job.id]);
  });

  test('throttle: one job per key per window from the first job, whatever its state', async (driver) => {
    const first = await one(driver, ruled(throttle(1000)), T0);
    assert.deepEqual(first.job.dedup, throttle(1000));
    await runOne(driver, T0 + 5);
    const inWindow = await one(driver, ruled(throttle(1000), { payloadJson: '{"n":2}' }), T0 + 999);
    assert.deepEqual(
      [inWindow.duplicate, inWindow.matchedBy, inWindow.job.id, inWindow.job.state],
      [true, 'throttle', first.job.id, 'completed'],
    );
    const atBoundary = await one(driver, ruled(throttle(1000)), T0 + 1000);
    assert.equal(atBoundary.duplicate, false);
    const other = await one(driver, ruled(throttle(1000, 'other')), T0 + 1001);
    assert.equal(other.duplicate, false);
  });

  test('debounce: the waiting job takes the new payload and runs window after the latest enqueue', async (driver) => {
    const first = await one(driver, ruled(debounce(1000), { payloadJson: '{"n":1}' }), T0);
    assert.deepEqual([first.job.state, first.job.runAt.getTime()], ['scheduled', T0 + 1000]);
    const second = await one(
      driver,
      ruled(debounce(1000), { payloadJson: '{"n":2}', priority: 7, metadataJson: '{"m":2}' }),
      T0 + 300,
    );
    assert.deepEqual(
      [second.duplicate, second.matchedBy, second.job.id, second.previousRunAt],
      [true, 'debounce', first.job.id, T0 + 1000],
    );
    const stored = await getJob(driver, first.job.id);
    assert.deepEqual(stored.payload, { n: 2 });
    assert.deepEqual([stored.priority, stored.metadata], [7, { m: 2 }]);
    assert.equal(stored.runAt.getTime(), T0 + 1300);
    assert.equal(stored.createdAt.getTime(), T0, 'the first enqueue time is kept');
    assert.deepEqual(second.job, stored);
    // Nothing is due before the pushed time.
    assert.equal(
      (await driver.jobClaim({ queues: ['default'], limit: 1, leaseMs: 1000, poolId: 'p', now: T0 + 1299 }))
        .length,
      0,
    );
  });

  test('debounce: maxWait caps the push at first enqueue + maxWait, even past it', async (driver) => {
    const first = await one(driver, ruled(debounce(1000, 1500)), T0);
    const pushed = await one(driver, ruled(debounce(1000, 1500)), T0 + 800);
    assert.equal(pushed.job.runAt.getTime(), T0 + 1500);
    assert.equal(pushed.job.state, 'scheduled');
    // Still not started after its cap (no worker yet): replaced again, due at once.
    const late = await one(driver, ruled(debounce(1000, 1500), { payloadJson: '{"late":true}' }), T0 + 1600);
    assert.deepEqual(
      [late.job.id, late.job.state, late.job.runAt.getTime()],
      [first.job.id, 'pending', T0 + 1500],
    );
    assert.deepEqual(late.job.payload, { late: true });
  });

  test('debounce: once the job has started, a new enqueue makes a new job; other tasks never match', async (driver) => {
    const first = await one(driver, ruled(debounce(1000)), T0);
    await claimOne(driver, { now: T0 + 1000 });
    const afterStart = await one(driver, ruled(debounce(1000)), T0 + 1001);
    assert.equal(afterStart.duplicate, false);
    assert.notEqual(afterStart.job.id, first.job.id);
    const otherTask = await one(driver, ruled(debounce(1000), { task: 'other-task' }), T0 + 1002);
    assert.equal(otherTask.duplicate, false);
  });

  test('debounce: a job whose attempt was cut off (lease expired, re-queued) counts as started', async (driver) => {
    const first = await one(driver, ruled(debounce(1000)), T0);
    await claimOne(driver, { now: T0 + 1000, leaseMs: 100 });
    const rescued = await driver.jobRescueExpired({ limit: 10, now: T0 + 1200 });
    assert.deepEqual(
      rescued.map((r) => [r.id, r.newState]),
      [[first.job.id, 'pending']],
    );
    const again = await one(driver, ruled(debounce(1000), { payloadJson: '{"n":2}' }), T0 + 1300);
    assert.equal(again.duplicate, false);
    assert.deepEqual(
      (await getJob(driver, first.job.id)).payload,
      { to: 'ada@example.com' },
      'the re-queued job keeps its payload',
    );
  });

  test('a batch with repeated keys: unique and throttle keep the first, debounce keeps the last payload', async (driver) => {
    const results = await insert(
      driver,
      [
        ruled(throttle(1000), { payloadJson: '{"t":1}' }),
        ruled(debounce(1000), { payloadJson: '{"d":1}' }),
        {},
        ruled(throttle(1000), { payloadJson: '{"t":2}' }),
        ruled(UNIQUE_DONE, { payloadJson: '{"u":1}' }),
        ruled(debounce(1000), { payloadJson: '{"d":2}' }),
        ruled(UNIQUE_DONE, { payloadJson: '{"u":2}' }),
      ],
      T0,
    );
    assert.deepEqual(
      results.map((r) => [r.duplicate, r.matchedBy ?? null]),
      [
        [false, null],
        [false, null],
        [false, null],
        [true, 'throttle'],
        [false, null],
        [true, 'debounce'],
        [true, 'unique'],
      ],
    );
    assert.equal(results[3]!.job.id, results[0]!.job.id);
    assert.equal(results[5]!.job.id, results[1]!.job.id);
    assert.equal(results[6]!.job.id, results[4]!.job.id);
    assert.deepEqual((await getJob(driver, results[1]!.job.id)).payload, { d: 2 });
    assert.deepEqual((await getJob(driver, results[0]!.job.id)).payload, { t: 1 });
    const counts = await driver.jobCountByState({});
    assert.equal(counts.pending + counts.scheduled, 4);
  });

  test('ruled inserts store job:queued, job:deduplicated and job:debounced in the durable log', async (driver) => {
    const [t1, d1] = await insert(driver, [ruled(throttle()), ruled(debounce())], T0, true);
    await insert(driver, [ruled(throttle()), ruled(debounce(), { payloadJson: '{"n":9}' })], T0 + 100, true);
    const { events } = await driver.eventRead({ after: null, limit: 100 });
    assert.deepEqual(
      events.map((e) => e.type),
      ['job:queued', 'job:queued', 'job:deduplicated', 'job:debounced'],
    );
    const dedup = events[2]!.data as Record<string, unknown>;
    assert.deepEqual(
      [dedup.jobId, dedup.rule, dedup.key, dedup.state],
      [t1!.job.id, 'throttle', 't', 'pending'],
    );
    const debounced = events[3]!.data as Record<string, unknown>;
    assert.deepEqual(
      [debounced.jobId, debounced.key, debounced.runAt, debounced.previousRunAt],
      [d1!.job.id, 'd', T0 + 1100, T0 + 1000],
    );
  });

  test('a plain unique key duplicate stores job:deduplicated in the durable log', async (driver) => {
    const [first] = await insert(driver, [{ uniqueKey: 'p' }], T0, true);
    await insert(driver, [{ uniqueKey: 'p' }], T0 + 1, true);
    const { events } = await driver.eventRead({ after: null, limit: 100 });
    assert.deepEqual(
      events.map((e) => e.type),
      ['job:queued', 'job:deduplicated'],
    );
    const data = events[1]!.data as Record<string, unknown>;
    assert.deepEqual([data.jobId, data.rule, data.key], [first!.job.id, 'unique', 'p']);
  });

  test('a ruled batch that would overfill a queue is refused and stores nothing', async (driver) => {
    const limits = new Map([['limited', 2]]);
    const ok = await driver.jobInsertMany({
      jobs: [jobParams(ruled(throttle(1000, 'a'), { queue: 'limited' }))],
      maxPendingByQueue: limits,
      now: T0,
    });
    assert.ok('inserted' in ok);
    const refused = await driver.jobInsertMany({
      jobs: [
        jobParams(ruled(throttle(1000, 'a'), { queue: 'limited' })),
        jobParams(ruled(throttle(1000, 'b'), { queue: 'limited' })),
        jobParams(ruled(throttle(1000, 'c'), { queue: 'limited' })),
      ],
      maxPendingByQueue: limits,
      now: T0 + 1,
    });
    assert.ok('queueFull' in refused);
    assert.deepEqual(refused.queueFull, { queue: 'limited', maxPending: 2, pending: 1, adding: 2 });
    assert.equal((await driver.jobCountByState({})).pending, 1);
    // A batch that only repeats the key adds nothing and is accepted.
    const repeat = await driver.jobInsertMany({
      jobs: [jobParams(ruled(throttle(1000, 'a'), { queue: 'limited' }))],
      maxPendingByQueue: new Map([['limited', 1]]),
      now: T0 + 2,
    });
    assert.ok('inserted' in repeat);
    assert.equal(repeat.inserted[0]!.duplicate, true);
  });
}
