/**
 * Retention of finished jobs: the `retention` client option, its defaults and checks, and the
 * batched delete both the leader's pruner and `jobwire.deleteJobs` use. Finished jobs
 * (completed, abandoned, cancelled) are deleted by age and/or by count, per state and per
 * queue, a small batch at a time so a prune never holds the database for long.
 */

import type { Driver, FinishedJobFilter, FinishedState } from '../driver/driver.js';
import { type Duration, parseDuration } from './duration.js';
import { InvalidOptionError } from './errors.js';
import { assertKnownOptions, optionNames } from './known-options.js';
import { filterList, isQueueName, validateQueueName } from './options.js';
import { type BatchedDeleteResult, type BatchPacing, runPacedBatches } from './paced-batches.js';
import { preview } from './preview.js';
import { isTaskName } from './task.js';

/** The states retention deletes, in the order the pruner visits them. */
export const RETENTION_STATES: readonly FinishedState[] = ['completed', 'cancelled', 'abandoned'];

/**
 * How long to keep finished jobs of one state: a maximum age (a duration: ms, `"7d"`, …), a
 * maximum count, or both (whichever deletes more). `0` or `Infinity` means no limit (keep
 * forever); an age alone may be given as the rule itself: `completed: '1d'`.
 */
export type RetentionRule = Duration | { maxAge?: Duration; maxCount?: number };

/**
 * `completed: 'immediately'`: a completed job's row is deleted by the write that completes it,
 * in the process whose pool ran it (BullMQ's `removeOnComplete`, graphile-worker's only way).
 * Its `job:completed` event (with the result) stays in the event log, and `queueStats` (health,
 * metrics, the dashboard) still count it. A job others depend on, or one under a `unique`,
 * `throttle` or `debounce` rule, is kept as `completed` (dependents read its result, the rule
 * reads its row) and pruned after the default day. See docs/retention.md.
 */
export const DELETE_AT_COMPLETION = 'immediately';

/** Rules by state. A state left out keeps its default (in `queues`: the global rule). */
export interface RetentionRules {
  completed?: RetentionRule | typeof DELETE_AT_COMPLETION;
  abandoned?: RetentionRule;
  cancelled?: RetentionRule;
}

/** The `retention` client option (see docs/retention.md). `false` turns pruning off. */
export interface RetentionOptions extends RetentionRules {
  /** Rules for some queues, overriding the global ones for those queues only. */
  queues?: Record<string, RetentionRules>;
  /** How often the leader prunes, in ms (or a duration). Default 60 s. */
  intervalMs?: Duration;
  /** Most rows one delete statement removes. Default 1000. */
  batchSize?: number;
  /**
   * Target duration of one delete statement, in ms, on a driver whose statements hold the event
   * loop (SQLite): batches are sized from recent ones' time per row to take about this long (at
   * most `batchSize` rows), and each is followed by a pause at least as long. Default
   * DEFAULT_BATCH_TARGET_MS (5). Other drivers (PostgreSQL) delete `batchSize` rows a statement.
   */
  batchTargetMs?: number;
  /**
   * Longest a prune keeps going before it lets the leader's other services run, in ms. A prune
   * that still had work left runs again at the next leader tick instead of `intervalMs` later.
   * Default 500.
   */
  maxRunMs?: number;
}

/**
 * The defaults: a day of completed jobs (enough to look into yesterday's runs), a week of
 * cancelled ones, a month of abandoned ones — the dead letters someone has to look at, so they
 * stay longest.
 */
export const DEFAULT_RETENTION: Readonly<Record<FinishedState, { maxAge: number; maxCount: number }>> = {
  completed: { maxAge: 86_400_000, maxCount: Number.POSITIVE_INFINITY },
  cancelled: { maxAge: 7 * 86_400_000, maxCount: Number.POSITIVE_INFINITY },
  abandoned: { maxAge: 30 * 86_400_000, maxCount: Number.POSITIVE_INFINITY },
};

/** One resolved rule: which jobs, and the limits (Infinity = none). */
export interface ResolvedRetentionRule {
  filter: FinishedJobFilter;
  maxAge: number;
  maxCount: number;
}

/** The option resolved and checked. */
export interface ResolvedRetention {
  rules: ResolvedRetentionRule[];
  /** Whether a completed job of `queue` is deleted as it completes (`completed: 'immediately'`). */
  deletesAtCompletion: (queue: string) => boolean;
  intervalMs: number;
  batchSize: number;
  batchTargetMs: number;
  maxRunMs: number;
}

/** The default target duration of one delete statement: a short enough hold of SQLite's thread. */
export const DEFAULT_BATCH_TARGET_MS = 5;

/** `0` and `Infinity` both mean "no limit". */
const limitOrNone = (value: number): number => (value === 0 ? Number.POSITIVE_INFINITY : value);

function resolveRule(
  rule: RetentionRule | undefined,
  fallback: { maxAge: number; maxCount: number },
  field: string,
): { maxAge: number; maxCount: number } {
  if (rule === undefined) return fallback;
  if (typeof rule === 'number' || typeof rule === 'string') {
    return { maxAge: limitOrNone(parseDuration(rule, field, true)), maxCount: Number.POSITIVE_INFINITY };
  }
  if (typeof rule !== 'object' || rule === null) {
    throw new InvalidOptionError(field, 'must be a duration or { maxAge, maxCount }');
  }
  assertKnownOptions(field, rule, RULE_NAMES, 'retention rule field');
  let maxCount = Number.POSITIVE_INFINITY;
  if (rule.maxCount !== undefined) {
    const count = rule.maxCount;
    if (count !== Number.POSITIVE_INFINITY && (!Number.isInteger(count) || count < 0)) {
      throw new InvalidOptionError(`${field}.maxCount`, 'must be an integer >= 0, or Infinity (0 keeps all)');
    }
    maxCount = limitOrNone(count);
  }
  const maxAge =
    rule.maxAge === undefined
      ? Number.POSITIVE_INFINITY
      : limitOrNone(parseDuration(rule.maxAge, `${field}.maxAge`, true));
  return { maxAge, maxCount };
}

const RETENTION_OPTION_NAMES = optionNames<RetentionOptions>({
  completed: true,
  abandoned: true,
  cancelled: true,
  queues: true,
  intervalMs: true,
  batchSize: true,
  batchTargetMs: true,
  maxRunMs: true,
});
const RULES_NAMES = optionNames<RetentionRules>({ completed: true, abandoned: true, cancelled: true });
const RULE_NAMES = optionNames<Exclude<RetentionRule, Duration>>({ maxAge: true, maxCount: true });

/** An object of named fields (not null, not an array). */
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Check the `retention` option; undefined when pruning is off. */
export function resolveRetention(
  options: RetentionOptions | false | undefined,
): ResolvedRetention | undefined {
  if (options === false) return undefined;
  const given = options ?? {};
  if (typeof given !== 'object' || given === null) {
    throw new InvalidOptionError('retention', 'must be an object of rules, or false to keep every job');
  }
  assertKnownOptions('retention', given, RETENTION_OPTION_NAMES, 'retention option');
  // A queue's entry of another shape was dropped without a word, leaving the queue under the
  // global rules: `{ audit: false }` (meant as "keep it") pruned its jobs after a day.
  if (given.queues !== undefined && !isPlainObject(given.queues)) {
    throw new InvalidOptionError(
      'retention.queues',
      `must be an object of rules by queue name, like { webhooks: { completed: '1h' } }, got ${preview(given.queues)}`,
    );
  }
  const queues = Object.entries(given.queues ?? {});
  for (const [queue, queueRules] of queues) {
    if (!isPlainObject(queueRules)) {
      throw new InvalidOptionError(
        `retention.queues.${queue}`,
        `must be an object of rules by state, like { completed: '1h' }, got ${preview(queueRules)}; ` +
          'to keep every finished job of the queue, give { completed: 0, cancelled: 0, abandoned: 0 }',
      );
    }
    assertKnownOptions(`retention.queues.${queue}`, queueRules, RULES_NAMES, 'retention option');
  }
  for (const state of ['abandoned', 'cancelled'] as const) {
    const fields: [string, unknown][] = [
      [`retention.${state}`, given[state]],
      ...queues.map(([queue, q]): [string, unknown] => [`retention.queues.${queue}.${state}`, q[state]]),
    ];
    const misplaced = fields.find(([, rule]) => rule === DELETE_AT_COMPLETION);
    if (misplaced) {
      throw new InvalidOptionError(
        misplaced[0],
        `'${DELETE_AT_COMPLETION}' applies to completed jobs only: ${state} jobs are kept to be looked at; give a duration such as '1h'`,
      );
    }
  }
  const rules: ResolvedRetentionRule[] = [];
  // Jobs kept at completion (see DELETE_AT_COMPLETION) are pruned under the default rule.
  const atCompletion = (rule: RetentionRule | typeof DELETE_AT_COMPLETION | undefined) =>
    rule === DELETE_AT_COMPLETION ? DEFAULT_RETENTION.completed : rule;
  for (const state of RETENTION_STATES) {
    const global = resolveRule(atCompletion(given[state]), DEFAULT_RETENTION[state], `retention.${state}`);
    const overridden: string[] = [];
    for (const [queue, queueRules] of queues) {
      validateQueueName(queue, `retention.queues.${queue}`);
      if (queueRules?.[state] === undefined) continue;
      overridden.push(queue);
      const own = resolveRule(atCompletion(queueRules[state]), global, `retention.queues.${queue}.${state}`);
      rules.push({ filter: { states: [state], queues: [queue] }, ...own });
    }
    rules.push({ filter: { states: [state], excludeQueues: overridden }, ...global });
  }
  const deletingQueues = new Map(
    queues.flatMap(([queue, q]) =>
      q.completed === undefined ? [] : [[queue, q.completed === DELETE_AT_COMPLETION] as const],
    ),
  );
  const deletesByDefault = given.completed === DELETE_AT_COMPLETION;
  const intervalMs = parseDuration(given.intervalMs ?? 60_000, 'retention.intervalMs');
  if (intervalMs < 10) throw new InvalidOptionError('retention.intervalMs', 'must be at least 10 ms');
  const batchSize = given.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new InvalidOptionError('retention.batchSize', 'must be an integer from 1 to 100000');
  }
  const batchTargetMs = given.batchTargetMs ?? DEFAULT_BATCH_TARGET_MS;
  if (!Number.isInteger(batchTargetMs) || batchTargetMs < 1) {
    throw new InvalidOptionError('retention.batchTargetMs', 'must be an integer >= 1');
  }
  const maxRunMs = given.maxRunMs ?? 500;
  if (!Number.isInteger(maxRunMs) || maxRunMs < 1) {
    throw new InvalidOptionError('retention.maxRunMs', 'must be an integer >= 1');
  }
  return {
    rules: rules.filter((r) => r.maxAge !== Infinity || r.maxCount !== Infinity),
    deletesAtCompletion:
      deletingQueues.size === 0
        ? () => deletesByDefault
        : (queue) => deletingQueues.get(queue) ?? deletesByDefault,
    intervalMs,
    batchSize,
    batchTargetMs,
    maxRunMs,
  };
}

/** `retention: false` resolved: no rule, so the pruner deletes no job. */
export const KEEP_EVERY_JOB: ResolvedRetention = resolveRetention({
  completed: 0,
  cancelled: 0,
  abandoned: 0,
})!;

/** Filters of `jobwire.deleteJobs`. Only finished jobs are ever deleted. */
export interface DeleteJobsFilter {
  /** Finished states to delete (default all three: completed, abandoned, cancelled). */
  state?: FinishedState | readonly FinishedState[];
  queue?: string | readonly string[];
  task?: string | readonly string[];
  /** Only jobs that finished more than this long ago (a duration: ms, `"7d"`, …). */
  olderThan?: Duration;
  /** Only jobs that finished before this time. */
  finishedBefore?: Date | number;
}

/** A check of `deleteJobs`' filter into a driver filter and a finish-time bound. */
export function resolveDeleteFilter(
  filter: DeleteJobsFilter,
  now: number,
): { filter: FinishedJobFilter; finishedBefore: number | undefined } {
  if (typeof filter !== 'object' || filter === null) {
    throw new InvalidOptionError('filter', 'must be an object, e.g. { state: "completed", olderThan: "7d" }');
  }
  const states = (filterList(
    'state',
    filter.state,
    (s) => (RETENTION_STATES as readonly unknown[]).includes(s),
    `a finished state (${RETENTION_STATES.join(', ')}); active jobs are cancelled, not purged`,
  ) ?? RETENTION_STATES) as readonly FinishedState[];
  let finishedBefore: number | undefined;
  if (filter.olderThan !== undefined) finishedBefore = now - parseDuration(filter.olderThan, 'olderThan');
  if (filter.finishedBefore !== undefined) {
    const at =
      filter.finishedBefore instanceof Date ? filter.finishedBefore.getTime() : filter.finishedBefore;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new InvalidOptionError(
        'finishedBefore',
        `must be a Date or epoch ms, got ${preview(filter.finishedBefore)}`,
      );
    }
    finishedBefore = finishedBefore === undefined ? at : Math.min(at, finishedBefore);
  }
  return {
    filter: {
      states,
      queues: filterList('queue', filter.queue, isQueueName, 'a queue name'),
      tasks: filterList('task', filter.task, isTaskName, 'a task name'),
    },
    finishedBefore,
  };
}

/**
 * Delete the finished jobs `filter` matches that finished before `finishedBefore`, a batch at a
 * time, so no single statement holds the database (or, with `batchTargetMs`, the event loop)
 * for long: see `runPacedBatches`.
 */
export async function deleteFinishedInBatches(
  driver: Driver,
  filter: FinishedJobFilter,
  finishedBefore: number | undefined,
  options: BatchPacing,
): Promise<BatchedDeleteResult> {
  return runPacedBatches((limit) => driver.jobDeleteFinished({ ...filter, finishedBefore, limit }), options);
}

export { type BatchedDeleteResult, type BatchPacing, FIRST_BATCH, RECENT_BATCHES } from './paced-batches.js';
