/**
 * Durations on the command line (`--older-than 7d`, `--every 5m`): the library's parser, so a
 * flag accepts exactly what the matching option does, with its errors turned into usage errors
 * that name the flag.
 */
import { InvalidOptionError, parseDuration } from '../index.js';
import { UsageError } from './args.js';

/** Milliseconds of a `--flag` value such as `5s`, `10m`, `7d`, `1h30m` or plain ms. */
export function durationOption(flag: string, value: string): number {
  try {
    return parseDuration(value, flag);
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      throw new UsageError(
        `--${flag} ${JSON.stringify(value)} is not a duration`,
        'write e.g. 30s, 10m, 2h, 7d, 1w or 1h30m (a bare number is milliseconds)',
      );
    }
    throw error;
  }
}
