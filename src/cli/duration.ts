/**
 * Durations on the command line: `500` (milliseconds, as before units existed), `500ms`, `5s`,
 * `1.5s`, `10m`, `2h`, `7d`, and sums such as `1h30m`. Used by every flag that takes a time
 * (`--delay`, `--grace`, `--timeout`, `--attempt-timeout`, …).
 */
import { UsageError } from './args.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/** Milliseconds `text` names, or undefined when it is not a duration. Rounded to whole ms. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim().toLowerCase();
  if (/^\d+$/.test(value)) return Number(value);
  if (value === '' || !/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(value)) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  for (const match of value.matchAll(PART)) total += Number(match[1]) * UNIT_MS[match[2]!]!;
  return Math.round(total);
}

/**
 * Parse a duration flag (`--name`) into ms within `range`; `undefined` stays undefined. A
 * malformed or out-of-range value is a UsageError that shows the accepted forms.
 */
export function durationOption(
  name: string,
  value: string | undefined,
  range: { min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (ms === undefined || !Number.isSafeInteger(ms)) {
    throw new UsageError(
      `--${name} must be a duration, got "${value}"`,
      'write milliseconds (5000) or a number with a unit: 500ms, 5s, 1.5s, 10m, 2h, 7d, 1h30m',
    );
  }
  if (ms < min || ms > max) {
    throw new UsageError(`--${name} must be from ${min} ms to ${max} ms, got "${value}" (${ms} ms)`);
  }
  return ms;
}
