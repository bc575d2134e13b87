/** Durations as options and flags accept them: `5s`, `10m`, `7d`, `1h30m`, plain ms. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, InvalidOptionError, parseDuration } from '../src/index.js';

test('parseDuration reads units, sums and plain ms', () => {
  const cases: [unknown, number][] = [
    [250, 250],
    ['250', 250],
    ['250ms', 250],
    ['5s', 5000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    [' 7D ', 604_800_000],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input, 'x'), ms, String(input));
  assert.equal(parseDuration(Number.POSITIVE_INFINITY, 'x', true), Number.POSITIVE_INFINITY);
  assert.equal(parseDuration('forever', 'x', true), Number.POSITIVE_INFINITY);
});

test('parseDuration refuses what it cannot read, naming the field', () => {
  for (const input of [
    '',
    '7 days',
    '5x',
    's',
    '-1s',
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    'forever',
    null,
    {},
  ]) {
    assert.throws(
      () => parseDuration(input, 'retention.completed'),
      (err: unknown) => err instanceof InvalidOptionError && err.field === 'retention.completed',
      String(input),
    );
  }
});

test('formatDuration prints the largest exact unit', () => {
  assert.equal(formatDuration(604_800_000), '1w');
  assert.equal(formatDuration(86_400_000), '1d');
  assert.equal(formatDuration(90_000), '90s');
  assert.equal(formatDuration(1500), '1500ms');
  assert.equal(formatDuration(Number.POSITIVE_INFINITY), 'forever');
});
