/**
 * Input checks every driver runs before its database sees the input, so the same bad input
 * gets the same typed error on every driver — instead of a storage error on one database and
 * silent acceptance (or silent alteration) on another. The client checks first, with the names
 * of its own options; these guard direct callers of the driver seam.
 */
import { DependencyCycleError, InvalidOptionError } from '../core/errors.js';
import { MAX_DELAY_MS, MAX_RUN_AT, MIN_RUN_AT } from '../core/options.js';
import { preview } from '../core/preview.js';
import { unstorableTextReason } from '../core/storable.js';
import { JOB_STATES, type JobState } from '../core/types.js';
import { DEPENDENCY_POLICIES, type DependencyInsert, findCycle } from './dependencies.js';
import type { JobInsertParams } from './driver.js';

const INT4_MAX = 2_147_483_647;

/** Refuse text a database would reject (NUL) or silently alter (an unpaired surrogate). */
export function assertStorableText(field: string, value: unknown): void {
  if (typeof value !== 'string') throw new InvalidOptionError(field, `must be a string, got ${typeof value}`);
  const reason = unstorableTextReason(value);
  if (reason !== undefined) {
    throw new InvalidOptionError(
      field,
      `contains ${reason}, which cannot be stored exactly; remove or encode it`,
    );
  }
}

function assertInteger(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(field, `must be an integer from ${min} to ${max}, got ${preview(value)}`);
  }
}

/**
 * Check a batch for `jobInsertMany`: identifiers must be storable text and numbers must fit
 * every driver's columns (a due time a JavaScript Date can show, 32-bit priorities and
 * attempts). JSON columns are left to the database, which refuses invalid JSON on every driver.
 */
export function assertInsertable(jobs: readonly JobInsertParams[]): void {
  if (!Array.isArray(jobs)) throw new InvalidOptionError('jobs', 'must be an array');
  jobs.forEach((job, i) => {
    const at = `jobs[${i}]`;
    if (typeof job !== 'object' || job === null) throw new InvalidOptionError(at, 'must be an object');
    assertStorableText(`${at}.task`, job.task);
    assertStorableText(`${at}.queue`, job.queue);
    assertStorableText(`${at}.correlationId`, job.correlationId);
    if (job.uniqueKey !== null) assertStorableText(`${at}.uniqueKey`, job.uniqueKey);
    if (job.concurrencyKey != null) assertStorableText(`${at}.concurrencyKey`, job.concurrencyKey);
    if (typeof job.payloadJson !== 'string')
      throw new InvalidOptionError(`${at}.payloadJson`, 'must be JSON text');
    if (typeof job.metadataJson !== 'string')
      throw new InvalidOptionError(`${at}.metadataJson`, 'must be JSON text');
    assertInteger(`${at}.priority`, job.priority, -INT4_MAX, INT4_MAX);
    assertInteger(`${at}.maxAttempts`, job.maxAttempts, 1, INT4_MAX);
    if (job.timeoutMs !== null) assertInteger(`${at}.timeoutMs`, job.timeoutMs, 1, INT4_MAX);
    if (job.runAt !== null) {
      if (typeof job.runAt !== 'number' || !(job.runAt >= MIN_RUN_AT && job.runAt <= MAX_RUN_AT)) {
        throw new InvalidOptionError(
          `${at}.runAt`,
          `must be epoch ms from ${MIN_RUN_AT} (0001-01-01) to ${MAX_RUN_AT} (9999-12-31), got ${preview(job.runAt)}`,
        );
      }
    } else if (typeof job.delayMs !== 'number' || !(job.delayMs >= 0 && job.delayMs <= MAX_DELAY_MS)) {
      throw new InvalidOptionError(
        `${at}.delayMs`,
        `must be from 0 to ${MAX_DELAY_MS} ms, got ${preview(job.delayMs)}`,
      );
    }
    if (job.dependsOn !== undefined) assertDependencies(at, job, i, jobs.length);
  });
  // Only edges between items of the batch can close a cycle (stored jobs cannot depend on new ones).
  if (!jobs.some((job) => job.dependsOn?.some((dep: DependencyInsert) => 'index' in dep))) return;
  const cycle = findCycle(jobs.length, (i) =>
    (jobs[i]!.dependsOn ?? []).flatMap((dep: DependencyInsert) => ('index' in dep ? [dep.index] : [])),
  );
  if (cycle) throw new DependencyCycleError(cycle.map((i) => `#${i}`));
}

/** One job's `dependsOn`: known policies, ids that can exist, batch indexes in range. */
function assertDependencies(at: string, job: JobInsertParams, index: number, count: number): void {
  if (!Array.isArray(job.dependsOn)) throw new InvalidOptionError(`${at}.dependsOn`, 'must be an array');
  if (job.dependsOn.length > 0 && job.uniqueKey !== null) {
    throw new InvalidOptionError(`${at}.uniqueKey`, 'cannot be combined with dependsOn');
  }
  if (job.dependsOn.length > 0 && job.dedup) {
    throw new InvalidOptionError(`${at}.dedup`, 'cannot be combined with dependsOn');
  }
  job.dependsOn.forEach((dep: DependencyInsert, d: number) => {
    const field = `${at}.dependsOn[${d}]`;
    if (typeof dep !== 'object' || dep === null) throw new InvalidOptionError(field, 'must be an object');
    if (!DEPENDENCY_POLICIES.includes(dep.onFailure)) {
      throw new InvalidOptionError(`${field}.onFailure`, `must be one of ${DEPENDENCY_POLICIES.join(', ')}`);
    }
    if ('index' in dep) {
      if (!Number.isInteger(dep.index) || dep.index < 0 || dep.index >= count || dep.index === index) {
        throw new InvalidOptionError(
          `${field}.index`,
          `must name another item of the batch, got ${preview(dep.index)}`,
        );
      }
    } else if (typeof dep.jobId !== 'string') {
      // A string no job can have ("abc") is not found, as everywhere else: DependencyNotFoundError.
      throw new InvalidOptionError(
        `${field}.jobId`,
        `must be a job id such as "42", got ${preview(dep.jobId)}`,
      );
    }
  });
}

/** The asked-for states, checked; undefined or empty means "no filter". */
export function checkStates(states: readonly string[] | undefined): readonly JobState[] | undefined {
  if (states === undefined) return undefined;
  if (!Array.isArray(states)) throw new InvalidOptionError('states', 'must be an array of job states');
  for (const state of states) {
    if (!(JOB_STATES as readonly unknown[]).includes(state)) {
      throw new InvalidOptionError(
        'states',
        `unknown state ${preview(state)}; expected one of ${JOB_STATES.join(', ')}`,
      );
    }
  }
  return states as readonly JobState[];
}

/** A list of names to filter by: each must be storable text (it is bound as a parameter). */
export function checkNames(
  field: string,
  values: readonly string[] | undefined,
): readonly string[] | undefined {
  if (values === undefined) return undefined;
  if (!Array.isArray(values)) throw new InvalidOptionError(field, 'must be an array of strings');
  for (const value of values) assertStorableText(field, value);
  return values;
}
