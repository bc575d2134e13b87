/**
 * Durations on the command line: `500` (milliseconds), `500ms`, `5s`, `1.5s`, `10m`, `2h`, `7d`,
 * `1w` and sums such as `1h30m`. The library's parser (`src/core/duration.ts`), so a flag accepts
 * exactly what the matching option does; its errors become usage errors naming the flag. Used by
 * every flag that takes a time (`--delay`, `--grace`, `--timeout`, `--older-than`, `--every`, …).
 */
import { InvalidOptionError, parseDuration as parseLibraryDuration } from '../index.js';
import { UsageError } from './args.js';

/** Milliseconds `text` names, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  try {
    return parseLibraryDuration(text, 'duration');
  } catch (error) {
    if (error instanceof InvalidOptionError) return undefined;
    throw error;
  }
}

/**
 * Parse a duration flag (`--name`) into ms within `range`; `undefined` stays undefined. A
 * malformed or out-of-range value is a UsageError that shows the accepted forms.
 */
export function durationOption(name: string, value: string, range?: { min?: number; max?: number }): number;
export function durationOption(
  name: string,
  value: string | undefined,
  range?: { min?: number; max?: number },
): number | undefined;
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
      'write milliseconds (5000) or a number with a unit: 500ms, 5s, 1.5s, 10m, 2h, 7d, 1w, 1h30m',
    );
  }
  if (ms < min || ms > max) {
    throw new UsageError(`--${name} must be from ${min} ms to ${max} ms, got "${value}" (${ms} ms)`);
  }
  return ms;
}
