/**
 * Validation of user-supplied options. Every check throws `InvalidOptionError` naming the field,
 * before anything is written.
 */
import { validateBackoff } from './backoff.js';
import {
  type DebounceOption,
  isPlainUnique,
  resolveDedupRule,
  type ThrottleOption,
  type UniqueOption,
} from './dedup.js';
import { InvalidOptionError } from './errors.js';
import type { DependsOn } from './flow/dependencies.js';
import { assertKnownOptions } from './known-options.js';
import { isName, NAME_RULE } from './names.js';
import { preview } from './preview.js';
import { unstorableTextReason } from './storable.js';
import type { JobDefaults } from './task.js';
import type { BackoffSpec, DedupRule, EpochMs } from './types.js';

/** Options of one enqueue call. They override the task's defaults. */
export interface EnqueueOptions extends JobDefaults {
  /** Run no earlier than this time. */
  runAt?: Date | EpochMs;
  /** Run no earlier than this many ms from now. Ignored when `runAt` is given. */
  delayMs?: number;
  /** While a job with this key is scheduled, pending or running, enqueueing another returns it instead. */
  uniqueKey?: string;
  /**
   * Unique by key, optionally also for a while after the job finished (`states` adds completed,
   * abandoned or cancelled; `for` bounds how long). `{ key }` alone is `uniqueKey`. See docs/dedup.md.
   */
  unique?: UniqueOption;
  /** At most one job per key per window: another enqueue within it returns the first job. */
  throttle?: ThrottleOption;
  /**
   * Run once the key has been quiet for `window`: an enqueue while the key's job still waits
   * replaces its payload and pushes its run time (never past first enqueue + `maxWait`).
   */
  debounce?: DebounceOption;
  /**
   * The flow-control key (a tenant, an account): the per-key concurrency and rate limits of the
   * job's queue apply to all jobs with this key, and keys are served fairly (docs/flow-control.md).
   */
  concurrencyKey?: string;
  /** Defaults to the correlation id of the job whose handler is enqueueing, else a new UUID. */
  correlationId?: string;
  /** Free-form JSON data kept with the job (who asked, tenant, trace ids). */
  metadata?: Record<string, unknown>;
  /**
   * Jobs this one waits for: it is stored `blocked` and becomes due in the write that completes
   * the last of them. See `DependsOn` and docs/dependencies.md. Not with `uniqueKey`.
   */
  dependsOn?: readonly DependsOn[];
  /** This item's name inside one `enqueueMany` batch, for other items' `dependsOn: [{ ref }]`. */
  ref?: string;
  /**
   * The caller's open transaction to join: a handle of the driver's database client (for
   * PostgreSQL a `pg` client inside `BEGIN`). The job exists only if that transaction commits.
   * Drivers without `callerTransactions` reject it.
   */
  transaction?: unknown;
  /** @deprecated Renamed `transaction` (same meaning); this alias goes in the next release. */
  executor?: unknown;
}

/** Largest accepted maxAttempts. */
export const MAX_ATTEMPTS_LIMIT = 1000;

/**
 * Default interruption budget (`JobwireOptions.maxInterruptions`). Larger than the default
 * `maxAttempts` (3) on purpose: an interruption is usually not the job's fault — a neighbour
 * crashed the process, a deploy stopped the pool — so innocent jobs must survive a few of them,
 * while a job that itself kills its process every time is still stopped after a handful.
 */
export { DEFAULT_MAX_INTERRUPTIONS } from '../driver/driver.js';

/** Largest accepted maxInterruptions. */
export const MAX_INTERRUPTIONS_LIMIT = 1000;

/** Check `maxInterruptions` (client option): an integer from 1 to MAX_INTERRUPTIONS_LIMIT. */
export function validateMaxInterruptions(value: unknown): number {
  return integerIn('maxInterruptions', value, 1, MAX_INTERRUPTIONS_LIMIT);
}

/**
 * Earliest accepted `runAt`: 0001-01-01T00:00:00.000Z. Together with `MAX_RUN_AT` this is a
 * range every driver stores exactly and every Date prints with a four-digit year (JavaScript
 * Dates end at ±8.64e15 ms, PostgreSQL's timestamps begin in 4713 BC).
 */
export const MIN_RUN_AT = -62_135_596_800_000;
/** Latest accepted `runAt`: 9999-12-31T23:59:59.999Z. */
export const MAX_RUN_AT = 253_402_300_799_999;
/** Longest accepted `delayMs`: ten years. */
export const MAX_DELAY_MS = 10 * 365 * 86_400_000;

/**
 * Check text a caller chose as an identifier (unique key, correlation id, name). It is stored as
 * text, which cannot hold a NUL on PostgreSQL and turns an unpaired surrogate into U+FFFD on
 * SQLite (so two different keys could become one): such text is refused, never altered.
 */
export function validateStorableText(field: string, value: string): string {
  const reason = unstorableTextReason(value);
  if (reason !== undefined) {
    throw new InvalidOptionError(
      field,
      `contains ${reason}, which cannot be stored exactly; remove it, or encode the value (e.g. encodeURIComponent)`,
    );
  }
  return value;
}

/** Check a due time (a Date or epoch ms) and return it as whole epoch ms. */
export function validateRunAt(value: unknown, field = 'runAt'): EpochMs {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidOptionError(field, 'must be a valid Date or epoch milliseconds');
  }
  if (ms < MIN_RUN_AT || ms > MAX_RUN_AT) {
    throw new InvalidOptionError(
      field,
      `must be between 0001-01-01 and 9999-12-31 (epoch ms ${MIN_RUN_AT} to ${MAX_RUN_AT}), got ${String(ms)}`,
    );
  }
  return Math.floor(ms);
}

/** Fully resolved options of one job, ready for the driver. */
export interface ResolvedJobOptions {
  queue: string;
  priority: number;
  maxAttempts: number;
  timeoutMs: number | null;
  backoff: BackoffSpec | null;
  runAt: EpochMs | null;
  delayMs: number;
  uniqueKey: string | null;
  /** A rule beyond the plain unique key (its `unique` key is also in `uniqueKey`). */
  dedup: DedupRule | null;
  concurrencyKey: string | null;
  correlationId: string | null;
  metadata: Record<string, unknown>;
}

function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(field, `must be an integer from ${min} to ${max}, got ${preview(value)}`);
  }
  return value;
}

/** Check a queue name. */
export function validateQueueName(value: unknown, field = 'queue'): string {
  if (!isName(value)) {
    throw new InvalidOptionError(field, `queue names are ${NAME_RULE}, got ${preview(value)}`);
  }
  return value;
}

const KNOWN_ENQUEUE_OPTIONS = new Set([
  'queue',
  'priority',
  'maxAttempts',
  'timeoutMs',
  'backoff',
  'runAt',
  'delayMs',
  'uniqueKey',
  'unique',
  'throttle',
  'debounce',
  'concurrencyKey',
  'correlationId',
  'metadata',
  'transaction',
  'executor',
  // Checked by flow/dependencies.ts (they need the whole batch).
  'dependsOn',
  'ref',
]);

/** Merge task defaults with call options and validate the result. */
export function resolveJobOptions(
  defaults: JobDefaults,
  options: EnqueueOptions | undefined,
): ResolvedJobOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidOptionError('options', 'must be an object');
  }
  if (options !== undefined) assertKnownOptions('', options, KNOWN_ENQUEUE_OPTIONS, 'enqueue option');
  const o = options ?? {};
  const queue = validateQueueName(o.queue ?? defaults.queue ?? 'default');
  const priority = integerIn('priority', o.priority ?? defaults.priority ?? 0, -1_000_000, 1_000_000);
  const maxAttempts = integerIn(
    'maxAttempts',
    o.maxAttempts ?? defaults.maxAttempts ?? 3,
    1,
    MAX_ATTEMPTS_LIMIT,
  );
  const timeoutRaw = o.timeoutMs ?? defaults.timeoutMs;
  const timeoutMs = timeoutRaw === undefined ? null : integerIn('timeoutMs', timeoutRaw, 1, 2_147_483_647);
  const backoffRaw = o.backoff ?? defaults.backoff;
  const backoff = backoffRaw === undefined ? null : validateBackoff(backoffRaw);

  const runAt = o.runAt === undefined ? null : validateRunAt(o.runAt);
  const delayMs = o.delayMs === undefined ? 0 : integerIn('delayMs', o.delayMs, 0, MAX_DELAY_MS);

  let uniqueKey: string | null = null;
  if (o.uniqueKey !== undefined) {
    if (typeof o.uniqueKey !== 'string' || o.uniqueKey.length === 0 || o.uniqueKey.length > 512) {
      throw new InvalidOptionError('uniqueKey', 'must be a non-empty string of at most 512 characters');
    }
    uniqueKey = validateStorableText('uniqueKey', o.uniqueKey);
  }
  let dedup = resolveDedupRule(o, validateStorableText);
  if (dedup?.rule === 'unique') {
    uniqueKey = dedup.key;
    if (isPlainUnique(dedup)) dedup = null;
  }
  let concurrencyKey: string | null = null;
  if (o.concurrencyKey !== undefined) {
    if (
      typeof o.concurrencyKey !== 'string' ||
      o.concurrencyKey.length === 0 ||
      o.concurrencyKey.length > 512
    ) {
      throw new InvalidOptionError('concurrencyKey', 'must be a non-empty string of at most 512 characters');
    }
    concurrencyKey = validateStorableText('concurrencyKey', o.concurrencyKey);
  }
  let correlationId: string | null = null;
  if (o.correlationId !== undefined) {
    if (typeof o.correlationId !== 'string' || o.correlationId.length === 0 || o.correlationId.length > 256) {
      throw new InvalidOptionError('correlationId', 'must be a non-empty string of at most 256 characters');
    }
    correlationId = validateStorableText('correlationId', o.correlationId);
  }
  let metadata: Record<string, unknown> = {};
  if (o.metadata !== undefined) {
    // Its JSON encoding (cycles, BigInt, size) is checked by encodeMetadata.
    if (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata)) {
      throw new InvalidOptionError('metadata', 'must be a plain object of JSON values');
    }
    metadata = o.metadata;
  }
  return {
    queue,
    priority,
    maxAttempts,
    timeoutMs,
    backoff,
    runAt,
    delayMs,
    uniqueKey,
    dedup,
    concurrencyKey,
    correlationId,
    metadata,
  };
}

/** A listing filter: a value or a list of values that each pass `valid`, as the driver wants it. */
export function filterList(
  field: string,
  value: unknown,
  valid: (item: unknown) => boolean,
  expected: string,
): readonly string[] | undefined {
  const list = value === undefined ? undefined : Array.isArray(value) ? (value as unknown[]) : [value];
  for (const item of list ?? []) {
    if (!valid(item)) {
      throw new InvalidOptionError(field, `expected ${expected}, or an array of them; got ${preview(item)}`);
    }
  }
  return list as readonly string[] | undefined;
}

/** True for a valid queue name (the same rule as task names, see `names.ts`). */
export const isQueueName = (value: unknown): value is string => isName(value);

const INT8_MAX = 9223372036854775807n;

/**
 * A job id as the drivers expect it: a decimal string. Numbers are accepted for convenience;
 * anything else is a programming error. A well-typed id that cannot exist ("abc", "-1") is
 * simply not found, as on every driver.
 */
export function jobIdArgument(id: unknown, field = 'id'): string {
  if (typeof id === 'string') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return String(id);
  throw new InvalidOptionError(field, `must be a job id such as "42" (a string), got ${typeof id}`);
}

/** True for a cursor `listJobs` can have returned: a positive 64-bit integer in decimal. */
export const isCursor = (value: string): boolean =>
  /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= INT8_MAX;
