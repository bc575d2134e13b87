/** `prefetch: "auto"` and fixed prefetch, as a pure function of recent run times. No database. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  claimLimitFor,
  INITIAL_MEAN_RUN_MS,
  nextMeanRunMs,
  prefetchFor,
  SHORT_JOB_MS,
  TINY_JOB_BATCH,
  TINY_JOB_MS,
} from '../src/core/pool/prefetch.js';

describe('prefetchFor', () => {
  it('a number is used as it is, whatever the run times', () => {
    assert.equal(prefetchFor(0, 0.1, 10, true), 0);
    assert.equal(prefetchFor(7, 5000, 10, true), 7);
  });

  it('"auto" hoards nothing for long jobs, so other processes can take them', () => {
    assert.equal(prefetchFor('auto', SHORT_JOB_MS, 10, true), 0);
    assert.equal(prefetchFor('auto', 5000, 10, true), 0);
    assert.equal(
      prefetchFor('auto', INITIAL_MEAN_RUN_MS, 10, true),
      0,
      'a fresh pool starts without prefetch',
    );
  });

  it('"auto" buffers one job per slot for short jobs', () => {
    assert.equal(prefetchFor('auto', SHORT_JOB_MS - 0.01, 10, true), 10);
    assert.equal(prefetchFor('auto', TINY_JOB_MS, 4, true), 4);
  });

  it('"auto" holds two batches of TINY_JOB_BATCH for sub-millisecond jobs, one where claims block', () => {
    assert.equal(10 + prefetchFor('auto', 0.2, 10, true), 2 * TINY_JOB_BATCH);
    assert.equal(10 + prefetchFor('auto', 0.2, 10, false), TINY_JOB_BATCH);
    // Never less than one job per slot, even when the slots alone exceed the two batches' share.
    const slots = (TINY_JOB_BATCH * 8) / 5;
    assert.equal(prefetchFor('auto', 0.2, slots, true), slots);
  });
});

describe('claimLimitFor', () => {
  it('"auto" claims one batch at a time for sub-millisecond jobs', () => {
    assert.equal(claimLimitFor('auto', 0.2, 2 * TINY_JOB_BATCH - 10), TINY_JOB_BATCH);
    assert.equal(claimLimitFor('auto', 0.2, 30), 30);
  });

  it('anything else claims what fills the pool', () => {
    assert.equal(claimLimitFor('auto', SHORT_JOB_MS - 1, 20), 20);
    assert.equal(claimLimitFor(2000, 0.2, 2010), 2010);
  });
});

describe('nextMeanRunMs', () => {
  it('moves a tenth of the way towards each new run time', () => {
    assert.equal(nextMeanRunMs(100, 0), 90);
    assert.equal(nextMeanRunMs(0, 100), 10);
  });

  it('a run of sub-millisecond jobs takes a fresh pool to batch claims', () => {
    let mean = INITIAL_MEAN_RUN_MS;
    let runs = 0;
    while (prefetchFor('auto', mean, 10, true) !== 2 * TINY_JOB_BATCH - 10) {
      mean = nextMeanRunMs(mean, 0);
      runs++;
    }
    assert.equal(runs > 10 && runs < 100, true, `took ${runs} runs`);
  });
});
