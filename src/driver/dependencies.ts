/**
 * Job dependencies at the driver seam: what an insert names, what an edge is, and what a write
 * did to the jobs that depend on the one it changed.
 *
 * An edge says "job `jobId` depends on job `dependsOn`" with a failure policy. Its states:
 *
 * | state       | holds the dependent? | how it got there                                          |
 * |-------------|----------------------|-----------------------------------------------------------|
 * | `waiting`   | yes                  | the dependency has not finished                           |
 * | `stuck`     | yes                  | it ended abandoned/cancelled/deleted and the policy is `block` |
 * | `done`      | no                   | it completed (also from `stuck`, after a retry by hand)   |
 * | `ignored`   | no                   | it ended abandoned/cancelled/deleted and the policy is `run` |
 * | `cancelled` | no                   | it ended so and the policy is `cancel`: the dependent was cancelled |
 *
 * A dependent is `blocked` while its `dependencies_waiting` counter (edges holding it) is above
 * 0; the write that takes the counter to 0 makes it `pending` (or `scheduled` when its run-at is
 * still ahead) in the same transaction. A cancelled dependent's own dependents are handled the
 * same way, down the graph (the cascade).
 */
import type { EpochMs, JobRecord, JobState } from '../core/types.js';
import type { LogEntry } from './event-log.js';

/**
 * What a dependent does when a dependency ends without completing (abandoned, cancelled, or
 * deleted): `cancel` it (and, through their own edges, its dependents), `run` it anyway (the
 * edge stops holding it), or `block` it (it stays blocked, visibly, until the dependency is
 * retried by hand and completes).
 */
export type DependencyPolicy = 'cancel' | 'run' | 'block';

/** Every policy, for validation. */
export const DEPENDENCY_POLICIES: readonly DependencyPolicy[] = ['cancel', 'run', 'block'];

/** The policy of an edge that names none. */
export const DEFAULT_DEPENDENCY_POLICY: DependencyPolicy = 'cancel';

/** An edge's state (see the module comment). */
export type DependencyEdgeState = 'waiting' | 'stuck' | 'done' | 'ignored' | 'cancelled';

/**
 * One dependency of a job to insert: an existing job (`jobId`) or an item of the same insert
 * batch (`index`, 0-based; the core has checked that the batch's edges form no cycle).
 */
export type DependencyInsert = ({ jobId: string } | { index: number }) & { onFailure: DependencyPolicy };

/** An edge as stored, with the job at its other end as it is now (null once deleted). */
export interface DependencyEdge {
  /** The dependent. */
  jobId: string;
  /** The dependency. */
  dependsOn: string;
  onFailure: DependencyPolicy;
  state: DependencyEdgeState;
  /** The other end: the dependency in `dependencies`, the dependent in `dependents`. */
  other: { task: string; state: JobState; resultJson: string | null } | null;
}

/** The result of `Driver.jobDependencies`. */
export interface JobDependencies {
  /** Edges from the job to what it waits for, by dependency id. */
  dependencies: DependencyEdge[];
  /** Edges from jobs waiting for it, by dependent id. */
  dependents: DependencyEdge[];
}

/**
 * What a write did to a job depending on the one it changed: made it due (`pending` or
 * `scheduled`: job:unblocked), cancelled it (the `cancel` policy or the cascade: job:cancelled),
 * or left it blocked on a dependency that can no longer complete by itself (`block` policy:
 * job:blocked with reason `dependency-failed`).
 */
export interface DependentChange {
  id: string;
  task: string;
  queue: string;
  correlationId: string;
  attempt: number;
  maxAttempts: number;
  state: 'pending' | 'scheduled' | 'cancelled' | 'blocked';
  /** The dependency whose end caused this (for a cascade, the cancelled job above it). */
  dependencyId: string;
  runAt: EpochMs;
  at: EpochMs;
}

/** `JobEventBase` of a job (as core/job-events.ts builds it; not imported, to keep the seam acyclic). */
const jobEventBase = (job: {
  id: string;
  task: string;
  queue: string;
  correlationId: string;
  attempt: number;
  maxAttempts: number;
}) => ({
  jobId: job.id,
  task: job.task,
  queue: job.queue,
  correlationId: job.correlationId,
  attempt: job.attempt,
  maxAttempts: job.maxAttempts,
});

/** The durable log's (and the bus's) event for a change to a dependent. */
export function dependentEntry(change: DependentChange): LogEntry {
  const base = jobEventBase(change);
  switch (change.state) {
    case 'cancelled':
      return {
        type: 'job:cancelled',
        data: { ...base, previousState: 'blocked', dependencyId: change.dependencyId, at: change.at },
      };
    case 'blocked':
      return {
        type: 'job:blocked',
        data: { ...base, reason: 'dependency-failed', dependencyIds: [change.dependencyId], at: change.at },
      };
    default:
      return {
        type: 'job:unblocked',
        data: {
          ...base,
          state: change.state,
          runAt: change.runAt,
          dependencyId: change.dependencyId,
          at: change.at,
        },
      };
  }
}

/**
 * The `job:blocked` entries of a job inserted blocked on `dependencyIds`: `waiting` for those
 * not finished, `dependency-failed` for those of them in `stuckOn`.
 */
export function blockedOnInsertEntries(
  job: { id: string; task: string; queue: string; correlationId: string; maxAttempts: number },
  dependencyIds: readonly string[],
  at: EpochMs,
  stuckOn: readonly string[] = [],
): LogEntry[] {
  const entry = (reason: 'waiting' | 'dependency-failed', ids: readonly string[]): LogEntry => ({
    type: 'job:blocked',
    data: { ...jobEventBase({ ...job, attempt: 0 }), reason, dependencyIds: [...ids], at },
  });
  // A dependency that had already failed under `block` holds the job for good: said as such, as
  // when it fails later, so a monitor of `dependency-failed` sees every stuck job.
  const stuck = new Set(stuckOn);
  const waiting = dependencyIds.filter((id) => !stuck.has(id));
  return [
    ...(waiting.length > 0 ? [entry('waiting', waiting)] : []),
    ...(stuck.size > 0 ? [entry('dependency-failed', [...stuck])] : []),
  ];
}

// -- retry by hand ------------------------------------------------------------------------------

/**
 * A job `Driver.jobRetry` retried. One whose dependencies have not all completed went back to
 * `blocked` rather than `pending`: `blockedOn` lists the dependencies holding it (by id) and
 * `stuckOn` those of them that had already failed under `block`, as `JobInsertResult` does.
 */
export type RetriedJob = JobRecord & { blockedOn?: string[]; stuckOn?: string[] };

/** An edge of a job to retry, with its dependency's state now (`null`: deleted or pruned). */
export interface RetryEdge {
  jobId: string;
  dependsOn: string;
  onFailure: DependencyPolicy;
  state: DependencyEdgeState;
  dependencyState: JobState | null;
}

const endedBadly = (state: JobState | null): boolean => state === 'abandoned' || state === 'cancelled';

/**
 * Which of `candidates` (ids to retry, in the caller's order) a retry may put back now. A job with
 * a `cancel` edge to a dependency that is abandoned or cancelled is refused, as an insert naming
 * that dependency so would be (`DependencyFailedError`) — unless the dependency is a candidate
 * too: then it goes in a later wave (`later`), once the dependency is retried, and waits for it.
 * Candidates in neither list are refused (left as they are).
 */
export function retryWave(
  candidates: readonly string[],
  edges: ReadonlyMap<string, readonly RetryEdge[]>,
): { now: string[]; later: string[] } {
  const named = new Set(candidates);
  const now: string[] = [];
  const later: string[] = [];
  for (const id of candidates) {
    const failed = (edges.get(id) ?? []).filter(
      (e) => e.onFailure === 'cancel' && endedBadly(e.dependencyState),
    );
    if (failed.length === 0) now.push(id);
    else if (failed.every((e) => named.has(e.dependsOn))) later.push(id);
  }
  return { now, later };
}

/**
 * An edge of a retried job, recomputed from its dependency's state now, as an insert would set
 * it: `waiting` on an unfinished dependency, `done` on a completed one, and on one abandoned or
 * cancelled the policy (`run`: `ignored`, `block`: `stuck`; `cancel` is refused by `retryWave`).
 * A deleted (or pruned) dependency holds nothing: the edge keeps `done`, or becomes `ignored` —
 * so cancel-then-retry still runs a job stuck on a dependency that is gone.
 */
export function edgeAfterRetry(edge: RetryEdge): DependencyEdgeState {
  const dep = edge.dependencyState;
  if (dep === null) return edge.state === 'done' ? 'done' : 'ignored';
  if (dep === 'completed') return 'done';
  if (endedBadly(dep)) {
    if (edge.onFailure === 'run') return 'ignored';
    return edge.onFailure === 'block' ? 'stuck' : 'cancelled';
  }
  return 'waiting';
}

/** Whether an edge in this state holds its dependent. */
export const edgeHolds = (state: DependencyEdgeState): boolean => state === 'waiting' || state === 'stuck';

/**
 * An order in which to lock `ids` so a writer never waits, holding a dependent, for one of its
 * dependencies (a finish locks the dependency, then its dependents): dependencies before
 * dependents along `edges` (pairs among `ids`), ties by id.
 */
export function dependencyFirstOrder(
  ids: readonly string[],
  edges: readonly { jobId: string; dependsOn: string }[],
): string[] {
  const byId = (a: string, b: string) =>
    a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
  const all = [...new Set(ids)].sort(byId);
  const inDegree = new Map(all.map((id) => [id, 0]));
  const out = new Map<string, string[]>();
  for (const e of edges) {
    if (!inDegree.has(e.jobId) || !inDegree.has(e.dependsOn) || e.jobId === e.dependsOn) continue;
    inDegree.set(e.jobId, inDegree.get(e.jobId)! + 1);
    out.set(e.dependsOn, [...(out.get(e.dependsOn) ?? []), e.jobId]);
  }
  const ready = all.filter((id) => inDegree.get(id) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort(byId);
    const id = ready.shift()!;
    order.push(id);
    for (const next of out.get(id) ?? []) {
      const left = inDegree.get(next)! - 1;
      inDegree.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  // Edges form no cycle; should one appear, the rest still get locked, in id order.
  const placed = new Set(order);
  return [...order, ...all.filter((id) => !placed.has(id))];
}

/**
 * A cycle among `count` batch items whose edges are `edgesOf(i)` (indexes of items that item
 * `i` depends on), as the items on it in order; undefined when there is none. Iterative DFS, so
 * a 10,000-item chain does not exhaust the stack.
 */
export function findCycle(count: number, edgesOf: (i: number) => readonly number[]): number[] | undefined {
  const state = new Uint8Array(count); // 0 unseen, 1 on the current path, 2 done
  const parent = new Int32Array(count).fill(-1);
  for (let root = 0; root < count; root++) {
    if (state[root] !== 0) continue;
    const stack: { node: number; next: number }[] = [{ node: root, next: 0 }];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const edges = edgesOf(top.node);
      if (top.next >= edges.length) {
        state[top.node] = 2;
        stack.pop();
        continue;
      }
      const to = edges[top.next++]!;
      if (state[to] === 1) {
        const cycle = [to];
        for (let at = top.node; at !== to; at = parent[at]!) cycle.push(at);
        // Listed from `to` along the "depends on" direction.
        return [cycle[0]!, ...cycle.slice(1).reverse()];
      }
      if (state[to] === 0) {
        state[to] = 1;
        parent[to] = top.node;
        stack.push({ node: to, next: 0 });
      }
    }
  }
  return undefined;
}
