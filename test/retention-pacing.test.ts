/**
 * The pacing of batched deletes (`deleteFinishedInBatches`, used by the pruner and deleteJobs),
 * on a fake driver and a fake clock: no wall time is measured. The fake charges each delete
 * statement a cost per row, so a test can tell whether the work of one statement stays bounded
 * by the batch size and the time target, and whether the loop gets a pause after each batch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deleteFinishedInBatches, FIRST_BATCH } from '../src/core/retention.js';
import type { Driver, JobDeleteFinishedParams } from '../src/driver/driver.js';

/** A backlog of `rows` finished jobs whose deletion costs `costPerRow()` ms of fake time per row. */
function fakeBacklog(rows: number, costPerRow: () => number) {
  let clock = 0;
  let left = rows;
  const batches: { limit: number; ms: number }[] = [];
  const pauses: number[] = [];
  const driver = {
    async jobDeleteFinished(params: JobDeleteFinishedParams): Promise<number> {
      const n = Math.min(params.limit, left);
      const ms = n * costPerRow();
      clock += ms;
      left -= n;
      batches.push({ limit: params.limit, ms });
      return n;
    },
  } as unknown as Driver;
  return {
    driver,
    batches,
    pauses,
    now: () => clock,
    sleep: async (ms: number) => {
      pauses.push(ms);
      clock += ms;
    },
    left: () => left,
  };
}

const FILTER = { states: ['completed'] } as const;

test('each delete statement stays within the batch size and near the time target', async () => {
  // 0.05 ms per row: 1,000 rows would hold SQLite's thread for 50 ms; the target is 5 ms.
  const fake = fakeBacklog(100_000, () => 0.05);
  const result = await deleteFinishedInBatches(fake.driver, FILTER, undefined, {
    batchSize: 1000,
    batchTargetMs: 5,
    now: fake.now,
    sleep: fake.sleep,
  });
  assert.equal(result.deleted, 100_000);
  assert.equal(fake.left(), 0);
  assert.equal(fake.batches[0]!.limit, FIRST_BATCH, 'the first batch is small: its cost is unknown');
  for (const batch of fake.batches) {
    assert.ok(batch.limit <= 1000, `limit ${batch.limit} within batchSize`);
    assert.ok(batch.ms <= 5 + 1e-9, `a statement of ${batch.ms} ms within the 5 ms target`);
  }
  assert.equal(result.longestBatchMs, Math.max(...fake.batches.map((b) => b.ms)));
  assert.ok(fake.batches.length < 1100, 'batches grow to the target: not one row at a time');
});

test('a statement that gets dearer shrinks the next batch at once; a cheap one grows it at most 2x', async () => {
  let cost = 0.001;
  const fake = fakeBacklog(50_000, () => cost);
  const seen: number[] = [];
  const driver = {
    async jobDeleteFinished(params: JobDeleteFinishedParams) {
      seen.push(params.limit);
      // After 10 batches rows become 100 times dearer (a cold cache, a checkpoint, big rows).
      if (seen.length === 10) cost = 0.1;
      return fake.driver.jobDeleteFinished(params);
    },
  } as unknown as Driver;
  await deleteFinishedInBatches(driver, FILTER, undefined, {
    batchSize: 1000,
    batchTargetMs: 5,
    now: fake.now,
    sleep: fake.sleep,
  });
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! <= seen[i - 1]! * 2, `batch ${i} at most doubles`);
  // Only the batch that met the change exceeded the target; the next one is sized from it.
  const over = fake.batches.filter((b) => b.ms > 5 + 1e-9);
  assert.equal(over.length, 1, `one batch over the target, got ${over.map((b) => b.ms).join(', ')}`);
  assert.ok(seen[10]! <= 50, `after 0.1 ms per row the batch is at most 50 rows, got ${seen[10]}`);
});

test('after each batch the loop gets a pause at least as long as the batch; the deadline stops it', async () => {
  const fake = fakeBacklog(1_000_000, () => 0.01);
  const result = await deleteFinishedInBatches(fake.driver, FILTER, undefined, {
    batchSize: 1000,
    batchTargetMs: 5,
    deadline: 500,
    now: fake.now,
    sleep: fake.sleep,
  });
  assert.equal(result.more, true);
  assert.ok(fake.now() >= 500 && fake.now() < 520, `stopped at the deadline (${fake.now()})`);
  for (let i = 0; i < fake.pauses.length; i++) {
    assert.ok(fake.pauses[i]! >= fake.batches[i]!.ms, `pause ${i} (${fake.pauses[i]}) >= its batch`);
  }
  const busy = fake.batches.reduce((sum, b) => sum + b.ms, 0);
  assert.ok(busy <= fake.now() / 2 + 5, `deleting took ${busy} of ${fake.now()} ms: at most about half`);
});

test('batches are sized from the dearest of the recent ones: a lucky fast batch does not bring back big ones', async () => {
  // Every third statement is 10 times dearer per row (a page to read, a slower path).
  let calls = 0;
  const fake = fakeBacklog(200_000, () => (++calls % 3 === 0 ? 0.01 : 0.001));
  await deleteFinishedInBatches(fake.driver, FILTER, undefined, {
    batchSize: 5000,
    batchTargetMs: 5,
    now: fake.now,
    sleep: fake.sleep,
  });
  const afterFirstDear = fake.batches.slice(3);
  for (const batch of afterFirstDear)
    assert.ok(batch.limit <= 500, `batch of ${batch.limit} rows: at most 5 ms at 0.01 ms/row`);
});

test('without a time target (a driver that does not hold the event loop) every batch is batchSize rows', async () => {
  const fake = fakeBacklog(5_500, () => 0.05);
  const result = await deleteFinishedInBatches(fake.driver, FILTER, undefined, {
    batchSize: 1000,
    pauseMs: 3,
    now: fake.now,
    sleep: fake.sleep,
  });
  assert.equal(result.deleted, 5_500);
  assert.deepEqual(
    fake.batches.map((b) => b.limit),
    [1000, 1000, 1000, 1000, 1000, 1000],
  );
  assert.deepEqual(fake.pauses, [3, 3, 3, 3, 3]);
});
