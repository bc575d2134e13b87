/**
 * `dependsOn` on the client side: checking what an enqueue names, turning batch references into
 * item indexes, refusing cycles, and reporting what a write did to dependents as events.
 * See docs/dependencies.md.
 */
import {
  blockedOnInsertEntries,
  DEFAULT_DEPENDENCY_POLICY,
  DEPENDENCY_POLICIES,
  type DependencyInsert,
  type DependencyPolicy,
  type DependentChange,
  type Driver,
  dependentEntry,
  findCycle,
  type JobInsertParams,
  type LogEntry,
  type RetriedJob,
} from '../../driver/driver.js';
import { DependencyCycleError, InvalidOptionError } from '../errors.js';
import type { EventBus } from '../events.js';
import { emitEntries } from '../job-events.js';
import { preview } from '../preview.js';
import type { Wakeups } from '../runtime.js';
import type { DependencyResult } from '../task.js';
import type { EpochMs, JobRecord } from '../types.js';

export type { DependencyPolicy };
export { DEFAULT_DEPENDENCY_POLICY };

/**
 * One dependency of an enqueued job: an existing job's id (the default policy), `{ id, onFailure }`,
 * or — inside one `enqueueMany`/`enqueueFlow` batch — `{ ref, onFailure? }` naming another item of
 * the batch by its `ref` option.
 */
export type DependsOn =
  | string
  | { id: string; onFailure?: DependencyPolicy }
  | { ref: string; onFailure?: DependencyPolicy };

/** Most dependencies one job may name. */
export const MAX_DEPENDENCIES = 1000;

/** The dependency options of one item, as `prepareJobs` leaves them to this module. */
interface ItemDependencies {
  ref?: unknown;
  dependsOn?: unknown;
}

const policyOf = (field: string, value: unknown): DependencyPolicy => {
  if (value === undefined) return DEFAULT_DEPENDENCY_POLICY;
  if (!DEPENDENCY_POLICIES.includes(value as DependencyPolicy)) {
    throw new InvalidOptionError(
      field,
      `must be one of ${DEPENDENCY_POLICIES.join(', ')}, got ${preview(value)}`,
    );
  }
  return value as DependencyPolicy;
};

/**
 * Fill `rows[i].dependsOn` from the items' `dependsOn` and `ref` options (throwing
 * InvalidOptionError or DependencyCycleError before anything is written). `many`: refs are
 * allowed (an `enqueue` has no batch to refer to).
 */
export function attachDependencies(
  options: readonly (ItemDependencies | undefined)[],
  rows: JobInsertParams[],
  many: boolean,
): void {
  if (!options.some((o) => o?.dependsOn !== undefined || o?.ref !== undefined)) return;
  const at = (i: number, field: string) => (many ? `items[${i}].options.${field}` : field);
  const refs = new Map<string, number>();
  options.forEach((o, i) => {
    if (o?.ref === undefined) return;
    if (!many) throw new InvalidOptionError('ref', 'only items of enqueueMany or enqueueFlow take a ref');
    if (typeof o.ref !== 'string' || o.ref.length === 0 || o.ref.length > 200) {
      throw new InvalidOptionError(at(i, 'ref'), 'must be a non-empty string of at most 200 characters');
    }
    if (refs.has(o.ref))
      throw new InvalidOptionError(at(i, 'ref'), `"${o.ref}" names two items of the batch`);
    refs.set(o.ref, i);
  });
  options.forEach((o, i) => {
    if (o?.dependsOn === undefined) return;
    const field = at(i, 'dependsOn');
    if (!Array.isArray(o.dependsOn))
      throw new InvalidOptionError(field, 'must be an array of job ids or { id | ref, onFailure }');
    if (o.dependsOn.length > MAX_DEPENDENCIES) {
      throw new InvalidOptionError(
        field,
        `at most ${MAX_DEPENDENCIES} dependencies per job, got ${o.dependsOn.length}`,
      );
    }
    if (o.dependsOn.length > 0 && rows[i]!.uniqueKey !== null) {
      throw new InvalidOptionError(at(i, 'uniqueKey'), 'cannot be combined with dependsOn');
    }
    // A throttle or debounce match returns or rewrites another job: its edges would be lost.
    const rule = rows[i]!.dedup;
    if (o.dependsOn.length > 0 && rule) {
      throw new InvalidOptionError(at(i, rule.rule), 'cannot be combined with dependsOn');
    }
    // Where each dependency was first named, to merge repeats and refuse contradictory ones.
    const seen = new Map<string, { d: number; onFailure: DependencyPolicy }>();
    const edges: DependencyInsert[] = [];
    (o.dependsOn as unknown[]).forEach((dep, d) => {
      const depField = `${field}[${d}]`;
      let edge: DependencyInsert;
      if (typeof dep === 'string' || typeof dep === 'number') {
        edge = { jobId: jobIdOf(depField, dep), onFailure: DEFAULT_DEPENDENCY_POLICY };
      } else if (typeof dep === 'object' && dep !== null && 'ref' in dep) {
        const { ref, onFailure } = dep as { ref: unknown; onFailure?: unknown };
        const index = typeof ref === 'string' ? refs.get(ref) : undefined;
        if (index === undefined) {
          throw new InvalidOptionError(`${depField}.ref`, `no item of the batch has ref ${preview(ref)}`);
        }
        if (index === i) throw new InvalidOptionError(`${depField}.ref`, 'a job cannot depend on itself');
        edge = { index, onFailure: policyOf(`${depField}.onFailure`, onFailure) };
      } else if (typeof dep === 'object' && dep !== null && 'id' in dep) {
        const { id, onFailure } = dep as { id: unknown; onFailure?: unknown };
        edge = {
          jobId: jobIdOf(`${depField}.id`, id),
          onFailure: policyOf(`${depField}.onFailure`, onFailure),
        };
      } else {
        throw new InvalidOptionError(
          depField,
          `must be a job id, { id, onFailure } or { ref, onFailure }, got ${preview(dep)}`,
        );
      }
      // Naming the same job twice with the same policy is one edge; with another policy it is
      // a contradiction, and picking one would silently ignore what the caller wrote.
      const key = 'index' in edge ? `#${edge.index}` : edge.jobId;
      const first = seen.get(key);
      if (first !== undefined) {
        if (first.onFailure === edge.onFailure) return;
        throw new InvalidOptionError(
          `${depField}.onFailure`,
          `names the same dependency as ${field}[${first.d}] with onFailure "${edge.onFailure}" ` +
            `instead of "${first.onFailure}"; name each dependency once`,
        );
      }
      seen.set(key, { d, onFailure: edge.onFailure });
      edges.push(edge);
    });
    rows[i]!.dependsOn = edges;
  });
  const cycle = findCycle(rows.length, (i) =>
    (rows[i]!.dependsOn ?? []).flatMap((e) => ('index' in e ? [e.index] : [])),
  );
  if (cycle) {
    const names = new Map([...refs].map(([ref, index]) => [index, ref]));
    throw new DependencyCycleError(cycle.map((i) => names.get(i) ?? `#${i}`));
  }
}

function jobIdOf(field: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new InvalidOptionError(field, `must be a job id such as "42", got ${preview(value)}`);
}

/**
 * The `job:blocked` entries of a job a retry put back `blocked` (as an insert's would be), for
 * after its `job:retried`; none for one retried to run.
 */
export const retriedBlockedEntries = (job: RetriedJob, at: EpochMs): LogEntry[] =>
  job.blockedOn?.length ? blockedOnInsertEntries(job, job.blockedOn, at, job.stuckOn) : [];

/** A retried job as the API returns it: a `JobRecord`, without the driver's `blockedOn`/`stuckOn`. */
export function retriedRecord(job: RetriedJob): JobRecord {
  const { blockedOn: _on, stuckOn: _stuck, ...record } = job;
  return record;
}

/** The log entries of what a write did to dependents, in order. */
export const dependentEntries = (changes: readonly DependentChange[] | undefined): LogEntry[] =>
  (changes ?? []).map(dependentEntry);

/**
 * Emit the events of what a write did to dependents (`job:unblocked`, `job:cancelled`,
 * `job:blocked`) and wake this process's pools for the queues that got a due job.
 */
export function emitDependentChanges(
  events: EventBus,
  wakeups: Wakeups,
  changes: readonly DependentChange[] | undefined,
): void {
  if (!changes?.length) return;
  emitEntries(events, dependentEntries(changes));
  wakeForDue(wakeups, changes);
}

/** Wake this process's pools for the queues where these changes made a job due. */
export function wakeForDue(wakeups: Wakeups, changes: readonly DependentChange[] | undefined): void {
  for (const change of changes ?? []) {
    if (change.state === 'pending') wakeups.notify(change.queue);
    else if (change.state === 'scheduled') wakeups.notify(change.queue, change.runAt);
  }
}

/** A job's dependencies with their results, for `TaskContext.dependencies()`. */
export async function readDependencies(driver: Driver, id: string): Promise<DependencyResult[]> {
  const { dependencies } = await driver.jobDependencies({ id });
  return dependencies.map((edge) => ({
    id: edge.dependsOn,
    task: edge.other?.task ?? '',
    state: edge.other?.state ?? 'deleted',
    result:
      edge.other?.state === 'completed' && edge.other.resultJson !== null
        ? JSON.parse(edge.other.resultJson)
        : null,
    edge: edge.state,
    onFailure: edge.onFailure,
  }));
}
