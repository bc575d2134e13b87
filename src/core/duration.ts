/**
 * Durations as people write them: `250ms`, `5s`, `10m`, `2h`, `7d`, `1w`, or a number of ms.
 * One parser for every option and CLI flag that takes a duration (retention ages, schedule
 * intervals, `--older-than`), so `7d` means the same everywhere.
 */
import { InvalidOptionError } from './errors.js';

/** A duration: ms as a number, or text such as `500ms`, `5s`, `10m`, `2h`, `7d`, `1w`, `1h30m`. */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** One or more `<number><unit>` parts, e.g. `1h30m`; a bare number is milliseconds. */
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/**
 * Milliseconds of `value`, or throw `InvalidOptionError` naming `field`. `Infinity` is accepted
 * only when `allowInfinity` (a retention age that means "keep forever"). Results are whole ms.
 */
export function parseDuration(value: unknown, field: string, allowInfinity = false): number {
  if (typeof value === 'number') {
    if (value === Number.POSITIVE_INFINITY && allowInfinity) return value;
    if (!Number.isFinite(value) || value < 0) {
      throw new InvalidOptionError(
        field,
        `must be a duration >= 0 (ms, or text like "5s", "10m", "7d"), got ${value}`,
      );
    }
    return Math.floor(value);
  }
  if (typeof value !== 'string') {
    throw new InvalidOptionError(field, `must be a duration (ms, or text like "5s", "10m", "7d")`);
  }
  const text = value.trim().toLowerCase();
  if (allowInfinity && (text === 'infinity' || text === 'forever')) return Number.POSITIVE_INFINITY;
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  PART.lastIndex = 0;
  let end = 0;
  for (let match = PART.exec(text); match !== null; match = PART.exec(text)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    end = PART.lastIndex;
  }
  if (text === '' || end !== text.length || !Number.isSafeInteger(Math.floor(total))) {
    throw new InvalidOptionError(
      field,
      `"${value}" is not a duration; write a number of ms or e.g. "500ms", "5s", "10m", "2h", "7d", "1w", "1h30m"`,
    );
  }
  return Math.floor(total);
}

/** `ms` as the largest whole unit that fits it exactly, e.g. 604800000 → `7d` (for display). */
export function formatDuration(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return 'forever';
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
