/** Retry delays: exponential with jitter, fixed, custom functions and their fallbacks. No database. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF, MAX_BACKOFF_MS } from '../src/core/backoff.js';
import type { StoredError } from '../src/core/types.js';

const error: StoredError = { name: 'Error', message: 'boom', attempt: 1, at: 0 };
const noJitter = () => 0;
const fullJitter = () => 1;

describe('backoffDelay', () => {
  it('doubles from the base per attempt and stops at the cap', () => {
    const spec = { type: 'exponential', baseMs: 100, maxMs: 1000, jitter: false } as const;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, error, spec)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  it('jitter scales the delay into [50 %, 100 %] of the exponential value', () => {
    const spec = { type: 'exponential', baseMs: 1000 } as const;
    assert.equal(backoffDelay(3, error, spec, undefined, noJitter), 2000);
    assert.equal(backoffDelay(3, error, spec, undefined, fullJitter), 4000);
    assert.equal(
      backoffDelay(3, error, spec, undefined, () => 0.5),
      3000,
    );
  });

  it('no spec means the default: 1 s doubling, jittered, capped at 1 h', () => {
    assert.deepEqual(DEFAULT_BACKOFF, { type: 'exponential', baseMs: 1000, maxMs: 3_600_000, jitter: true });
    assert.equal(backoffDelay(1, error, null, undefined, fullJitter), 1000);
    assert.equal(backoffDelay(1, error, null, undefined, noJitter), 500);
    assert.equal(backoffDelay(30, error, undefined, undefined, fullJitter), 3_600_000);
  });

  it('a huge attempt number stays finite and capped', () => {
    const spec = { type: 'exponential', baseMs: 1000, maxMs: MAX_BACKOFF_MS * 10, jitter: false } as const;
    assert.equal(backoffDelay(10_000, error, spec), MAX_BACKOFF_MS);
  });

  it('fixed delays ignore the attempt number and jitter', () => {
    const spec = { type: 'fixed', delayMs: 250 } as const;
    assert.equal(backoffDelay(1, error, spec, undefined, fullJitter), 250);
    assert.equal(backoffDelay(9, error, spec, undefined, noJitter), 250);
  });

  it('a custom function wins over the spec, rounded and capped', () => {
    const spec = { type: 'fixed', delayMs: 250 } as const;
    assert.equal(
      backoffDelay(2, error, spec, (attempt) => attempt * 10.4),
      21,
    );
    assert.equal(
      backoffDelay(2, error, spec, () => Number.MAX_SAFE_INTEGER),
      MAX_BACKOFF_MS,
    );
  });

  it('a custom function that throws or returns nonsense falls back to the spec', () => {
    const spec = { type: 'fixed', delayMs: 250 } as const;
    const broken = [
      () => {
        throw new Error('bad backoff');
      },
      () => Number.NaN,
      () => -1,
      () => Number.POSITIVE_INFINITY,
      () => '100' as unknown as number,
    ];
    for (const fn of broken) assert.equal(backoffDelay(2, error, spec, fn), 250);
  });
});
