/**
 * The jobs list's filters as one resolution, shared by the list and "Retry all matching": a
 * search (`q`) is a job id or part of a task or queue name, and the names it matches become the
 * filter. The bulk action must act on exactly the jobs the list shows, so both go through here.
 */
import type { DashboardEnv } from './env.js';
import type { JobsQuery } from './views/jobs.js';

/** Names a search may turn into a filter. */
const MAX_SEARCH_NAMES = 100;

/** What a list or a bulk action reads: the filter, and what the search matched. */
export type ResolvedFilters =
  | {
      kind: 'filter';
      /** One state, or a comma list split into its states (`pending,running`). */
      state: string | string[] | undefined;
      queue: string | string[] | undefined;
      task: string | string[] | undefined;
      /** What the search matched, for the user. */
      note?: string;
    }
  /** The search is a job id (the list opens that job). */
  | { kind: 'job'; id: string }
  /** Nothing can match (the search matched no name, or none that agrees with the filters). */
  | { kind: 'none'; note: string };

/** Known task names: this process's and those workers published. */
export async function taskNames(env: DashboardEnv): Promise<string[]> {
  const published = await env.deps.jobwire.listPublishedTasks();
  return [...new Set([...env.deps.jobwire.taskNames, ...published.map((t) => t.name)])].sort();
}

/** See the module comment. */
export async function resolveFilters(env: DashboardEnv, filters: JobsQuery): Promise<ResolvedFilters> {
  const resolved = await resolveNames(env, filters);
  if (resolved.kind !== 'filter' || typeof resolved.state !== 'string' || !resolved.state.includes(','))
    return resolved;
  // A comma list of states, as the API and the CLI take it (a bad name is refused by listJobs).
  const states = resolved.state
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { ...resolved, state: states };
}

async function resolveNames(env: DashboardEnv, filters: JobsQuery): Promise<ResolvedFilters> {
  let task: string | string[] | undefined = filters.task;
  let queue: string | string[] | undefined = filters.queue;
  const q = filters.q;
  if (!q) return { kind: 'filter', state: filters.state, queue, task };
  if (/^\d+$/.test(q)) return { kind: 'job', id: q };
  const needle = q.toLowerCase();
  const tasks = (await taskNames(env))
    .filter((n) => n.toLowerCase().includes(needle))
    .slice(0, MAX_SEARCH_NAMES);
  const queues = (await env.counts.get()).queues
    .map((x) => x.name)
    .filter((n) => n.toLowerCase().includes(needle))
    .slice(0, MAX_SEARCH_NAMES);
  let note: string;
  if (tasks.length > 0) {
    task = task ? tasks.filter((t) => t === task) : tasks;
    note = `Search “${q}”: tasks ${tasks.join(', ')}`;
  } else if (queues.length > 0) {
    queue = queue ? queues.filter((n) => n === queue) : queues;
    note = `Search “${q}”: queues ${queues.join(', ')}`;
  } else {
    return { kind: 'none', note: `No job id, task or queue matches “${q}”.` };
  }
  if ((Array.isArray(task) && task.length === 0) || (Array.isArray(queue) && queue.length === 0)) {
    return { kind: 'none', note };
  }
  return { kind: 'filter', state: filters.state, queue, task, note };
}
