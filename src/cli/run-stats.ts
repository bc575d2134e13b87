/**
 * Run statistics built from the event stream, for the summary `dev` and `worker` print at the end.
 */
import type { JobwireEvents } from '../index.js';
import { duration, type Paint, table } from './format.js';

/** States a job does not leave on its own. */
export type FinalState = 'completed' | 'abandoned' | 'cancelled';

interface TaskStats {
  jobs: Set<string>;
  completed: number;
  failedAttempts: number;
  retries: number;
  abandoned: number;
  cancelled: number;
  waits: number[];
  runs: number[];
}

/** Totals of one task, or of the whole run. */
export interface StatsRow {
  jobs: number;
  completed: number;
  failedAttempts: number;
  retries: number;
  abandoned: number;
  cancelled: number;
  meanWaitMs: number | null;
  meanRunMs: number | null;
  p95RunMs: number | null;
}

/** What the summary reports. */
export interface RunSummary extends StatsRow {
  /** Jobs seen that have not reached a final state. */
  unfinished: number;
  wallTimeMs: number;
  tasks: Record<string, StatsRow>;
}

const mean = (values: readonly number[]) =>
  values.length ? Math.round(values.reduce((a, b) => a + b, 0) / values.length) : null;

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Counters for a task (or for all of them) before any event. */
const emptyStats = (): TaskStats => ({
  jobs: new Set(),
  completed: 0,
  failedAttempts: 0,
  retries: 0,
  abandoned: 0,
  cancelled: 0,
  waits: [],
  runs: [],
});

/** Feed it every event; ask it for a summary. */
export class RunStats {
  readonly startedAt = Date.now();
  /** Final state of every job that reached one, by job id. */
  readonly final = new Map<string, FinalState>();
  readonly #tasks = new Map<string, TaskStats>();
  readonly #taskOf = new Map<string, string>();

  #task(name: string): TaskStats {
    let stats = this.#tasks.get(name);
    if (!stats) {
      stats = emptyStats();
      this.#tasks.set(name, stats);
    }
    return stats;
  }

  #see(jobId: string, taskName: string): TaskStats {
    const stats = this.#task(taskName);
    stats.jobs.add(jobId);
    this.#taskOf.set(jobId, taskName);
    return stats;
  }

  /** Record one event. */
  observe(name: string, payload: unknown): void {
    switch (name) {
      case 'job:queued': {
        const e = payload as JobwireEvents['job:queued'];
        this.#see(e.jobId, e.task);
        return;
      }
      case 'job:started': {
        const e = payload as JobwireEvents['job:started'];
        this.final.delete(e.jobId); // retried by hand after it had finished
        this.#see(e.jobId, e.task).waits.push(e.waitMs);
        return;
      }
      case 'job:completed': {
        const e = payload as JobwireEvents['job:completed'];
        const stats = this.#see(e.jobId, e.task);
        stats.completed++;
        stats.runs.push(e.durationMs);
        this.final.set(e.jobId, 'completed');
        return;
      }
      case 'job:failed': {
        const e = payload as JobwireEvents['job:failed'];
        const stats = this.#see(e.jobId, e.task);
        stats.failedAttempts++;
        stats.runs.push(e.durationMs);
        return;
      }
      case 'job:retrying': {
        const e = payload as JobwireEvents['job:retrying'];
        this.#see(e.jobId, e.task).retries++;
        return;
      }
      case 'job:abandoned': {
        const e = payload as JobwireEvents['job:abandoned'];
        this.#see(e.jobId, e.task).abandoned++;
        this.final.set(e.jobId, 'abandoned');
        return;
      }
      case 'job:cancelled': {
        const e = payload as JobwireEvents['job:cancelled'];
        this.#see(e.jobId, e.task).cancelled++;
        this.final.set(e.jobId, 'cancelled');
        return;
      }
    }
  }

  /** Number of final states of each kind. */
  finalCounts(): Record<FinalState, number> {
    const counts = { completed: 0, abandoned: 0, cancelled: 0 };
    for (const state of this.final.values()) counts[state]++;
    return counts;
  }

  /** The run so far. */
  summary(): RunSummary {
    const tasks: Record<string, StatsRow> = {};
    const all = emptyStats();
    for (const [name, stats] of [...this.#tasks].sort(([a], [b]) => a.localeCompare(b))) {
      tasks[name] = row(stats);
      for (const id of stats.jobs) all.jobs.add(id);
      all.completed += stats.completed;
      all.failedAttempts += stats.failedAttempts;
      all.retries += stats.retries;
      all.abandoned += stats.abandoned;
      all.cancelled += stats.cancelled;
      all.waits.push(...stats.waits);
      all.runs.push(...stats.runs);
    }
    const unfinished = [...all.jobs].filter((id) => !this.final.has(id)).length;
    return { ...row(all), unfinished, wallTimeMs: Date.now() - this.startedAt, tasks };
  }
}

function row(stats: TaskStats): StatsRow {
  return {
    jobs: stats.jobs.size,
    completed: stats.completed,
    failedAttempts: stats.failedAttempts,
    retries: stats.retries,
    abandoned: stats.abandoned,
    cancelled: stats.cancelled,
    meanWaitMs: mean(stats.waits),
    meanRunMs: mean(stats.runs),
    p95RunMs: percentile(stats.runs, 95),
  };
}

const ms = (value: number | null) => (value === null ? '–' : duration(value));

/** The summary as an aligned table: one row per task, then the totals; a line with wall time. */
export function renderSummary(summary: RunSummary, paint: Paint, notes: readonly string[] = []): string {
  const cells = (name: string, r: StatsRow) => [
    name,
    String(r.jobs),
    String(r.completed),
    String(r.failedAttempts),
    String(r.retries),
    String(r.abandoned),
    String(r.cancelled),
    ms(r.meanWaitMs),
    ms(r.meanRunMs),
    ms(r.p95RunMs),
  ];
  const rows = Object.entries(summary.tasks).map(([name, r]) => cells(name, r));
  rows.push(cells('total', summary).map((cell) => paint('bold', cell)));
  const text = table(
    [
      { header: 'task' },
      { header: 'jobs', right: true },
      { header: 'completed', right: true },
      { header: 'failed attempts', right: true },
      { header: 'retries', right: true },
      { header: 'abandoned', right: true },
      { header: 'cancelled', right: true },
      { header: 'mean wait', right: true },
      { header: 'mean run', right: true },
      { header: 'p95 run', right: true },
    ],
    rows,
    paint,
  );
  const throughput =
    summary.wallTimeMs > 0 ? (summary.completed / (summary.wallTimeMs / 1000)).toFixed(1) : '0';
  const lines = [
    `wall time ${duration(summary.wallTimeMs)}  ·  ${summary.jobs} ${summary.jobs === 1 ? 'job' : 'jobs'}  ·  ${throughput} completed/s` +
      (summary.unfinished ? `  ·  ${summary.unfinished} unfinished` : ''),
    ...notes,
  ];
  return `${text}\n\n${lines.join('\n')}`;
}
