/**
 * Deduplication rules of the insert path: `unique`, `throttle` and `debounce`. This module
 * validates the enqueue options into one `DedupRule` per job and builds the events a matched
 * insert reports; the drivers apply the rules inside their insert transaction.
 *
 * - unique: no second job while one with the key is in `states` (always the active ones; the
 *   finished ones optionally, for `forMs` after they finished). Same key space as `uniqueKey`.
 * - throttle: at most one job per key per window, counted from the first job's creation.
 * - debounce: a new enqueue while the key's job still waits (never started) replaces that job's
 *   payload and pushes its run time to now + window, never past its creation + maxWait.
 */
import { formatDuration, parseDuration } from './duration.js';
import { InvalidOptionError } from './errors.js';
import type { JobwireEvents } from './events.js';
import { jobEventBase } from './job-events.js';
import { assertKnownOptions } from './known-options.js';
import { preview } from './preview.js';
import type { DedupRule, EpochMs, JobRecord, JobState } from './types.js';

export type { DedupRule } from './types.js';

/** The states a unique key is always held in: the job has not finished. */
export const ACTIVE_STATES = ['scheduled', 'pending', 'running'] as const;
/** The finished states a unique rule may add (for a period after the job finished). */
export const FINISHED_STATES = ['completed', 'abandoned', 'cancelled'] as const;

/** Longest accepted window (`for`, `window`, `maxWait`): ten years. */
export const MAX_DEDUP_WINDOW_MS = 10 * 365 * 86_400_000;

/** The name of a rule, as results and events report it. */
export type DedupRuleName = 'unique' | 'throttle' | 'debounce';

/** `unique` enqueue option. */
export interface UniqueOption {
  key: string;
  /**
   * States a job with the key blocks a new one in. Must include scheduled, pending and running;
   * add completed, abandoned or cancelled to also match finished jobs (for `for` after finishing).
   */
  states?: JobState[];
  /** With finished states: how long after finishing they still match (default: while kept). */
  for?: number | string;
}

/** `throttle` enqueue option: at most one job per key per `window` (ms or text like `1m`). */
export interface ThrottleOption {
  key: string;
  window: number | string;
}

/**
 * `debounce` enqueue option: the job runs `window` after the latest enqueue with its key, but no
 * later than `maxWait` after the first one.
 */
export interface DebounceOption {
  key: string;
  window: number | string;
  maxWait?: number | string;
}

const KEY_RULE = 'must be a non-empty string of at most 512 characters';

/** Check a rule's key; `storable` refuses text a database would alter (see options.ts). */
function ruleKey(field: string, value: unknown, storable: (field: string, value: string) => string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) {
    throw new InvalidOptionError(field, KEY_RULE);
  }
  return storable(field, value);
}

function windowMs(field: string, value: unknown, min: number): number {
  const ms = parseDuration(value, field);
  if (ms < min || ms > MAX_DEDUP_WINDOW_MS) {
    throw new InvalidOptionError(field, `must be from ${min} ms to 10 years, got ${preview(value)}`);
  }
  return ms;
}

function objectOption(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(field, 'must be an object with a key');
  }
  return value as Record<string, unknown>;
}

/** The options of one enqueue that choose a rule (each absent or as the caller gave it). */
export interface DedupOptions {
  uniqueKey?: unknown;
  unique?: unknown;
  throttle?: unknown;
  debounce?: unknown;
  runAt?: unknown;
  delayMs?: unknown;
}

/**
 * The rule of one enqueue, or null. `unique` limited to the active states is the `uniqueKey`
 * form and returns null (the caller stores it as a plain unique key). Throws
 * `InvalidOptionError` naming the field for a bad rule or for two rules at once.
 */
export function resolveDedupRule(
  o: DedupOptions,
  storable: (field: string, value: string) => string,
): DedupRule | null {
  const given = (['uniqueKey', 'unique', 'throttle', 'debounce'] as const).filter((k) => o[k] !== undefined);
  if (given.length > 1) {
    throw new InvalidOptionError(
      given[1]!,
      `cannot be combined with ${given[0]}: a job has one deduplication rule`,
    );
  }
  if (o.unique !== undefined) {
    const u = objectOption('unique', o.unique);
    assertKnownOptions('unique', u, ['key', 'states', 'for']);
    const key = ruleKey('unique.key', u.key, storable);
    const states = uniqueStates(u.states);
    const finished = states.some((s) => !(ACTIVE_STATES as readonly string[]).includes(s));
    if (u.for !== undefined && !finished) {
      throw new InvalidOptionError(
        'unique.for',
        'applies to finished states only: add completed, abandoned or cancelled to states',
      );
    }
    const forMs = u.for === undefined ? null : windowMs('unique.for', u.for, 1);
    return { rule: 'unique', key, states, forMs };
  }
  if (o.throttle !== undefined) {
    const t = objectOption('throttle', o.throttle);
    assertKnownOptions('throttle', t, ['key', 'window']);
    return {
      rule: 'throttle',
      key: ruleKey('throttle.key', t.key, storable),
      windowMs: windowMs('throttle.window', t.window, 1),
    };
  }
  if (o.debounce !== undefined) {
    const d = objectOption('debounce', o.debounce);
    assertKnownOptions('debounce', d, ['key', 'window', 'maxWait']);
    const key = ruleKey('debounce.key', d.key, storable);
    const window = windowMs('debounce.window', d.window, 1);
    const maxWaitMs = d.maxWait === undefined ? null : windowMs('debounce.maxWait', d.maxWait, window);
    if (o.runAt !== undefined || o.delayMs !== undefined) {
      throw new InvalidOptionError(
        o.runAt !== undefined ? 'runAt' : 'delayMs',
        'cannot be combined with debounce: the debounce window decides when the job runs',
      );
    }
    return { rule: 'debounce', key, windowMs: window, maxWaitMs };
  }
  return null;
}

/** `unique.states`: the active states plus any finished ones, each once, in a fixed order. */
function uniqueStates(value: unknown): JobState[] {
  if (value === undefined) return [...ACTIVE_STATES];
  const known: readonly string[] = [...ACTIVE_STATES, ...FINISHED_STATES];
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || !known.includes(s))) {
    throw new InvalidOptionError('unique.states', `must be an array of job states (${known.join(', ')})`);
  }
  const missing = ACTIVE_STATES.filter((s) => !value.includes(s));
  if (missing.length > 0) {
    throw new InvalidOptionError(
      'unique.states',
      `must include ${missing.join(', ')}: a unique job always holds its key until it finishes`,
    );
  }
  return known.filter((s) => value.includes(s)) as JobState[];
}

/** True when `rule` is just the active-state unique key (stored as a plain `uniqueKey`). */
export function isPlainUnique(rule: DedupRule): boolean {
  return rule.rule === 'unique' && rule.states.length === ACTIVE_STATES.length && rule.forMs === null;
}

/** `job:deduplicated` for an enqueue that `rule` matched to the existing `job`. */
export function deduplicatedEvent(
  job: JobRecord,
  rule: 'unique' | 'throttle',
  key: string,
  at: EpochMs,
): JobwireEvents['job:deduplicated'] {
  return { ...jobEventBase(job), rule, key, state: job.state, at };
}

/** `job:debounced` for a waiting job whose payload an enqueue replaced. */
export function debouncedEvent(
  job: JobRecord,
  key: string,
  previousRunAt: EpochMs,
  at: EpochMs,
): JobwireEvents['job:debounced'] {
  return { ...jobEventBase(job), key, state: job.state, runAt: job.runAt.getTime(), previousRunAt, at };
}

/** One line for people: `throttle key "k", one job per 1h`. */
export function describeDedupRule(rule: DedupRule): string {
  const key = JSON.stringify(rule.key);
  switch (rule.rule) {
    case 'unique': {
      const finished = rule.states.filter((s) => !(ACTIVE_STATES as readonly string[]).includes(s));
      const period = rule.forMs === null ? 'while kept' : `for ${formatDuration(rule.forMs)} after finishing`;
      return `unique key ${key} while active${finished.length ? `, and ${finished.join('/')} ${period}` : ''}`;
    }
    case 'throttle':
      return `throttle key ${key}: one job per ${formatDuration(rule.windowMs)}`;
    case 'debounce':
      return `debounce key ${key}: runs ${formatDuration(rule.windowMs)} after the latest enqueue${
        rule.maxWaitMs === null ? '' : `, at most ${formatDuration(rule.maxWaitMs)} after the first`
      }`;
  }
}
