/** The scheduler's decisions, as a pure function: on-time ticks, policies, overlap, end, jitter. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jitterOf, normalizeSchedule, type ScheduleDefinition } from '../src/core/schedule-definition.js';
import { firstTickAfter, planAdvance } from '../src/core/schedule-plan.js';
import type { ScheduleRecord } from '../src/driver/driver.js';

const T = Date.UTC(2030, 0, 1, 12);
const MIN = 60_000;

const definition = (overrides: Partial<ScheduleDefinition> = {}) =>
  normalizeSchedule({ id: 's', every: '1m', task: 't', ...overrides });

const record = (overrides: Partial<ScheduleRecord> = {}): ScheduleRecord => ({
  id: 's',
  definitionJson: '{}',
  version: 3,
  paused: false,
  nextTickAt: T,
  nextJobId: '10',
  lastTickAt: T - MIN,
  lastJobId: '9',
  lastFiredAt: T - MIN,
  createdAt: 0,
  updatedAt: 0,
  ...overrides,
});

test('an on-time tick keeps the job enqueued ahead; later on-time ticks get jobs; the next is enqueued ahead', () => {
  const plan = planAdvance(record(), definition({ graceMs: '5m' }), T + 2 * MIN + 5000, false);
  assert.deepEqual(
    plan.runs.map((r) => [r.tick - T, r.existingJobId, r.late]),
    [
      [0, '10', false],
      [MIN, null, false],
      [2 * MIN, null, false],
    ],
  );
  assert.equal(plan.missed, null);
  assert.deepEqual(plan.cancelJobIds, []);
  assert.equal(plan.next, T + 3 * MIN);
  assert.equal(plan.enqueueAhead, true);
});

test('overlap skip: no job while the previous one is active; otherwise only the latest tick', () => {
  const skip = definition({ overlap: 'skip' });
  const blocked = planAdvance(record({ nextJobId: null }), skip, T + MIN + 1, true);
  assert.deepEqual(blocked.runs, []);
  assert.deepEqual(blocked.skipped, [T, T + MIN]);
  assert.equal(blocked.enqueueAhead, false);
  const free = planAdvance(record({ nextJobId: null }), skip, T + MIN + 1, false);
  assert.deepEqual(
    free.runs.map((r) => r.tick),
    [T + MIN],
  );
  assert.deepEqual(free.skipped, [T]);
});

test('the end of a schedule: no next tick after endAt; none before startAt', () => {
  const ending = definition({ endAt: T + 30_000 });
  const plan = planAdvance(record(), ending, T + 1000, false);
  assert.equal(plan.next, null);
  assert.equal(plan.enqueueAhead, false);
  assert.equal(firstTickAfter(definition({ startAt: T + 10 * MIN }), T), T + 10 * MIN);
  assert.equal(firstTickAfter(definition({ startAt: T + 10 * MIN + 1 }), T), T + 10 * MIN + 1);
});

test('missed ticks beyond the grace: counted once, first and last reported', () => {
  const plan = planAdvance(record(), definition({ missed: 'skip' }), T + 10 * MIN, false);
  // T … T+8m are late (more than 60 s before now); T+9m and T+10m are on time.
  assert.deepEqual(plan.missed, { count: 9, firstTick: T, lastTick: T + 8 * MIN });
  assert.deepEqual(plan.cancelJobIds, ['10']);
  assert.deepEqual(
    plan.runs.map((r) => r.tick - T),
    [9 * MIN, 10 * MIN],
  );
});

test('jitter is deterministic per tick and within bounds', () => {
  const values = Array.from({ length: 1000 }, (_, i) => jitterOf('s', T + i * MIN, 5000));
  assert.ok(values.every((v) => v >= 0 && v <= 5000));
  assert.ok(new Set(values).size > 900, 'spread out');
  assert.equal(jitterOf('s', T, 5000), jitterOf('s', T, 5000));
  assert.equal(jitterOf('s', T, 0), 0);
});
