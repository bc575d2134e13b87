/**
 * Retry delays.
 */
import { InvalidOptionError } from './errors.js';
import type { BackoffFunction, BackoffSpec, StoredError } from './types.js';

/** The default: exponential from 1 s, doubling, capped at 1 h, with jitter. */
export const DEFAULT_BACKOFF: BackoffSpec = {
  type: 'exponential',
  baseMs: 1000,
  maxMs: 3_600_000,
  jitter: true,
};

/** Longest delay any backoff may produce (30 days), so a bad function cannot park a job forever. */
export const MAX_BACKOFF_MS = 30 * 24 * 3_600_000;

/**
 * The delay in ms before the attempt after `attempt` (1-based) failed. A custom function wins
 * over a spec; a function that throws or returns nonsense falls back to the default spec.
 */
export function backoffDelay(
  attempt: number,
  error: StoredError,
  spec: BackoffSpec | null | undefined,
  fn?: BackoffFunction,
  random: () => number = Math.random,
): number {
  if (fn) {
    try {
      const delay = fn(attempt, error);
      if (typeof delay === 'number' && Number.isFinite(delay) && delay >= 0) {
        return Math.min(Math.round(delay), MAX_BACKOFF_MS);
      }
    } catch {
      // Fall through to the spec: a broken backoff function must not lose the retry.
    }
  }
  const effective = spec ?? DEFAULT_BACKOFF;
  if (effective.type === 'fixed') return Math.min(effective.delayMs, MAX_BACKOFF_MS);
  const base = effective.baseMs ?? 1000;
  const max = effective.maxMs ?? 3_600_000;
  const exponential = Math.min(max, base * 2 ** Math.min(attempt - 1, 52));
  const jittered = effective.jitter === false ? exponential : exponential * (0.5 + random() * 0.5);
  return Math.min(Math.round(jittered), MAX_BACKOFF_MS);
}

/** Check a backoff spec from user input; throws `InvalidOptionError` naming the field. */
export function validateBackoff(value: unknown, field = 'backoff'): BackoffSpec {
  if (typeof value === 'function') {
    throw new InvalidOptionError(
      field,
      'a function cannot be stored with a job; put it on the task definition as backoffFn',
    );
  }
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError(field, 'must be { type: "exponential" | "fixed", … }');
  }
  const spec = value as Record<string, unknown>;
  const nonNegative = (key: string, required: boolean) => {
    const v = spec[key];
    if (v === undefined && !required) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_BACKOFF_MS) {
      throw new InvalidOptionError(`${field}.${key}`, `must be a number of ms from 0 to ${MAX_BACKOFF_MS}`);
    }
  };
  if (spec.type === 'fixed') {
    nonNegative('delayMs', true);
    return { type: 'fixed', delayMs: spec.delayMs as number };
  }
  if (spec.type === 'exponential') {
    nonNegative('baseMs', false);
    nonNegative('maxMs', false);
    if (spec.jitter !== undefined && typeof spec.jitter !== 'boolean') {
      throw new InvalidOptionError(`${field}.jitter`, 'must be a boolean');
    }
    const result: BackoffSpec = { type: 'exponential' };
    if (spec.baseMs !== undefined) result.baseMs = spec.baseMs as number;
    if (spec.maxMs !== undefined) result.maxMs = spec.maxMs as number;
    if (spec.jitter !== undefined) result.jitter = spec.jitter as boolean;
    return result;
  }
  throw new InvalidOptionError(
    `${field}.type`,
    `must be "exponential" or "fixed", got ${JSON.stringify(spec.type)}`,
  );
}
