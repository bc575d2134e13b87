/**
 * Schedules as users write them (`defineSchedule`, `jobwire.schedules.upsert`) and as they are
 * stored: every field checked and normalised into plain JSON, so that two processes defining
 * the same schedule store byte-identical definitions and an unchanged definition is never
 * written again.
 */
import { Cron } from 'croner';
import { checkScheduleId } from '../driver/schedule-guards.js';
import { type Duration, parseDuration } from './duration.js';
import { InvalidOptionError } from './errors.js';
import { assertKnownOptions, optionNames } from './known-options.js';
import type { EnqueueOptions } from './options.js';
import { preview } from './preview.js';
import { canonicalTimeZone, isTimeZone, type TickRule } from './schedule-time.js';
import type { AnyTaskRef, TaskInput } from './task.js';
import type { EpochMs } from './types.js';

/**
 * What to do with ticks that passed while no leader could handle them (the cluster was down
 * longer than `graceMs`): `skip` them all (a job enqueued ahead for the first is cancelled if it
 * has not started), `run-once` (one job stands for them all; the default), or `backfill` each one
 * within `window` (default 1 day) and up to `max` of the most recent (default 10).
 */
export type MissedRunPolicy = 'skip' | 'run-once' | { backfill: { window?: Duration; max?: number } };

/** Options of the jobs a schedule enqueues (the task's defaults apply to the rest). */
export type ScheduleJobOptions = Pick<
  EnqueueOptions,
  'queue' | 'priority' | 'maxAttempts' | 'timeoutMs' | 'backoff' | 'metadata' | 'concurrencyKey'
>;

/** A schedule: a cron pattern or a fixed interval that enqueues a task's job at every tick. */
export interface ScheduleDefinition<T extends AnyTaskRef = AnyTaskRef> {
  /** Unique name of the schedule (1–200 characters), e.g. `nightly-report`. */
  id: string;
  /**
   * A cron pattern: 5 fields, or 6 with seconds first (7 with a year), `L`, `W`, `#`, and the
   * nicknames `@yearly @monthly @weekly @daily @hourly`. Give `cron` or `every`.
   */
  cron?: string;
  /** A fixed interval (ms or `"5m"`, at least 1 s): ticks at `anchor + k·every`. */
  every?: Duration;
  /** The phase of `every` (default `startAt`, else the Unix epoch: `every: '5m'` ticks at :00, :05, …). */
  anchor?: Date | EpochMs;
  /** IANA zone the cron pattern's wall clock is read in (default `UTC`). */
  timezone?: string;
  /** The task (or its name) each tick enqueues. */
  task: T | string;
  /** The payload of every job (checked against the task's schema when it has one). */
  payload?: TaskInput<T>;
  /** Job options (queue, priority, maxAttempts, timeoutMs, backoff, metadata, concurrencyKey). */
  options?: ScheduleJobOptions;
  /** No tick before this time. */
  startAt?: Date | EpochMs;
  /** No tick after this time: the schedule ends. */
  endAt?: Date | EpochMs;
  /** Missed ticks (see `MissedRunPolicy`). Default `run-once`. */
  missed?: MissedRunPolicy;
  /** How late a tick may be handled and still count as on time (default 60 s). */
  graceMs?: Duration;
  /**
   * `allow` (default): each tick's job is enqueued ahead, whatever the previous one is doing.
   * `skip`: a tick whose previous job is still pending or running is skipped
   * (`schedule:skipped`); its job is enqueued at the tick by the leader instead of ahead.
   */
  overlap?: 'allow' | 'skip';
  /** Spread each job's due time by a deterministic 0…jitter ms after its tick (the same for a given tick). */
  jitter?: Duration;
}

/** A schedule definition as stored (JSON). */
export interface StoredScheduleDefinition {
  cron: string | null;
  every: number | null;
  anchor: number;
  timezone: string;
  task: string;
  payload: unknown;
  options: ScheduleJobOptions;
  startAt: number | null;
  endAt: number | null;
  missed: { policy: 'skip' | 'run-once' | 'backfill'; windowMs: number; max: number };
  graceMs: number;
  overlap: 'allow' | 'skip';
  jitterMs: number;
}

/** Define a schedule in code (pass it to `createJobwire({ schedules })`); checked at once. */
export function defineSchedule<T extends AnyTaskRef>(
  definition: ScheduleDefinition<T>,
): ScheduleDefinition<T> {
  normalizeSchedule(definition);
  return definition;
}

const timeOf = (field: string, value: Date | EpochMs | undefined): number | null => {
  if (value === undefined || value === null) return null;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidOptionError(field, `must be a Date or epoch ms, got ${preview(value)}`);
  }
  return Math.floor(ms);
};

const SCHEDULE_FIELDS = optionNames<ScheduleDefinition>({
  id: true,
  cron: true,
  every: true,
  anchor: true,
  timezone: true,
  task: true,
  payload: true,
  options: true,
  startAt: true,
  endAt: true,
  missed: true,
  graceMs: true,
  overlap: true,
  jitter: true,
});
/** Longest `every`: 100 years. */
const MAX_EVERY_MS = 100 * 365.25 * 24 * 3_600_000;

const SCHEDULE_JOB_OPTIONS = optionNames<ScheduleJobOptions>({
  queue: true,
  priority: true,
  maxAttempts: true,
  timeoutMs: true,
  backoff: true,
  metadata: true,
  concurrencyKey: true,
});
const BACKFILL_POLICY = new Set(['backfill']);
const BACKFILL_FIELDS = optionNames<{ window?: Duration; max?: number }>({ window: true, max: true });

/** Check a definition and turn it into its stored form. Throws `InvalidOptionError` naming the field. */
export function normalizeSchedule(definition: ScheduleDefinition): StoredScheduleDefinition {
  if (typeof definition !== 'object' || definition === null) {
    throw new InvalidOptionError('schedule', 'must be an object { id, cron | every, task, … }');
  }
  assertKnownOptions('', definition, SCHEDULE_FIELDS, 'schedule field');
  checkScheduleId(definition.id, 'id');
  if ((definition.cron === undefined) === (definition.every === undefined)) {
    throw new InvalidOptionError('cron', 'give exactly one of `cron` (a pattern) or `every` (an interval)');
  }
  let cron: string | null = null;
  if (definition.cron !== undefined) {
    if (typeof definition.cron !== 'string')
      throw new InvalidOptionError('cron', 'must be a cron pattern string');
    cron = definition.cron.trim().replace(/\s+/g, ' ');
    try {
      new Cron(cron, { paused: true, utcOffset: 0 });
    } catch (error) {
      throw new InvalidOptionError(
        'cron',
        `"${definition.cron}" is not a cron pattern: ${(error as Error).message}`,
      );
    }
  }
  const every = definition.every === undefined ? null : parseDuration(definition.every, 'every');
  if (every !== null && every < 1000) throw new InvalidOptionError('every', 'must be at least 1 s');
  // Beyond it a tick is past the last representable date (`every: 1e300` was refused as `runAt`).
  if (every !== null && every > MAX_EVERY_MS)
    throw new InvalidOptionError('every', 'must be at most 100 years');
  const given = definition.timezone ?? 'UTC';
  if (!isTimeZone(given)) {
    throw new InvalidOptionError(
      'timezone',
      `${preview(given)} is not an IANA time zone (e.g. "Europe/London")`,
    );
  }
  // Stored as the zone's canonical spelling: two processes writing "europe/paris" and
  // "Europe/Paris" would otherwise rewrite the schedule at every start, each seeing a change.
  const timezone = canonicalTimeZone(given);
  const task = typeof definition.task === 'string' ? definition.task : definition.task?.name;
  if (typeof task !== 'string')
    throw new InvalidOptionError('task', 'pass a task from defineTask(), or its name');
  const options = { ...(definition.options ?? {}) };
  for (const key of ['dependsOn', 'ref']) {
    // A scheduled job has a unique key per tick, which dependencies cannot be combined with.
    if (key in options) throw new InvalidOptionError(`options.${key}`, 'is not a schedule option');
  }
  assertKnownOptions('options', options, SCHEDULE_JOB_OPTIONS, 'schedule job option');
  if (typeof options.backoff === 'function') {
    throw new InvalidOptionError(
      'options.backoff',
      'must be a backoff spec (stored with the schedule), not a function',
    );
  }
  const startAt = timeOf('startAt', definition.startAt);
  const endAt = timeOf('endAt', definition.endAt);
  if (startAt !== null && endAt !== null && endAt < startAt)
    throw new InvalidOptionError('endAt', 'must not be before startAt');
  const anchor = timeOf('anchor', definition.anchor) ?? startAt ?? 0;
  const missed = normalizeMissed(definition.missed);
  const graceMs = parseDuration(definition.graceMs ?? 60_000, 'graceMs');
  const overlap = definition.overlap ?? 'allow';
  if (overlap !== 'allow' && overlap !== 'skip')
    throw new InvalidOptionError('overlap', 'must be "allow" or "skip"');
  const jitterMs = parseDuration(definition.jitter ?? 0, 'jitter');
  // A jitter of a whole interval or more lets a later tick's job run before an earlier one's.
  if (every !== null && jitterMs >= every) {
    throw new InvalidOptionError('jitter', `must be less than every (${every} ms), got ${jitterMs} ms`);
  }
  let payload: unknown = definition.payload ?? {};
  try {
    payload = JSON.parse(JSON.stringify(payload));
  } catch (error) {
    throw new InvalidOptionError('payload', `must be JSON: ${(error as Error).message}`);
  }
  return {
    cron,
    every,
    anchor,
    timezone,
    task,
    payload,
    options: JSON.parse(JSON.stringify(options)) as ScheduleJobOptions,
    startAt,
    endAt,
    missed,
    graceMs,
    overlap,
    jitterMs,
  };
}

function normalizeMissed(missed: MissedRunPolicy | undefined): StoredScheduleDefinition['missed'] {
  const none = { windowMs: 0, max: 0 };
  if (missed === undefined || missed === 'run-once') return { policy: 'run-once', ...none };
  if (missed === 'skip') return { policy: 'skip', ...none };
  if (typeof missed === 'object' && missed !== null && typeof missed.backfill === 'object') {
    assertKnownOptions('missed', missed, BACKFILL_POLICY, 'missed-run policy field');
    assertKnownOptions('missed.backfill', missed.backfill, BACKFILL_FIELDS, 'backfill field');
    const windowMs = parseDuration(missed.backfill.window ?? 86_400_000, 'missed.backfill.window');
    const max = missed.backfill.max ?? 10;
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      throw new InvalidOptionError('missed.backfill.max', 'must be an integer from 1 to 1000');
    }
    return { policy: 'backfill', windowMs, max };
  }
  throw new InvalidOptionError('missed', 'must be "skip", "run-once" or { backfill: { window, max } }');
}

/** The tick rule of a stored definition. */
export function tickRuleOf(definition: StoredScheduleDefinition): TickRule {
  return definition.cron !== null
    ? { kind: 'cron', pattern: definition.cron, timezone: definition.timezone }
    : { kind: 'every', everyMs: definition.every!, anchor: definition.anchor };
}

/** The deterministic jitter of one tick: 0…jitterMs, from a hash of the schedule id and the tick. */
export function jitterOf(id: string, tick: number, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  let hash = 0x811c9dc5;
  const text = `${id}\u0000${tick}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % (jitterMs + 1);
}
