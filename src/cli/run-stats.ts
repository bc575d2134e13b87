/**
 * Run statistics built from the event stream, for the summary `dev` and `worker` print at the end.
 *
 * Memory stays flat however long the run: counters and fixed-size histograms per task, and the
 * ids of the jobs still unfinished only (a finished job is forgotten). A job counts once per
 * run: a job retried by hand (`job:retried`, or seen starting again after it had finished) is a
 * new run, so `jobs = completed + abandoned + cancelled + lost + unfinished` always holds.
 *
 * A job that left this process unfinished — its retry or snooze waits, its lease was lost, a
 * shutdown cut it off — may well finish in another worker, where this process never sees it
 * end. Beside other workers such jobs used to stay here for good (a fleet of workers retrying
 * jobs grew each one's heap without end), so at most `MAX_PARKED` of them are kept, newest
 * first; an older one is forgotten but still counted (unfinished, or lost). Should it come back
 * here after that, it counts as a new run, and the sum above still holds.
 */
import type { JobwireEvents } from '../index.js';
import { duration, type Paint, table } from './format.js';
import { DurationHistogram } from './histogram.js';

/** Jobs kept that left this process unfinished (see the module comment): about 1 MB of ids. */
export const MAX_PARKED = 10_000;

/** States a job does not leave on its own. */
export type FinalState = 'completed' | 'abandoned' | 'cancelled';

interface TaskStats {
  jobs: number;
  completed: number;
  failedAttempts: number;
  retries: number;
  abandoned: number;
  cancelled: number;
  retriedByHand: number;
  waits: DurationHistogram;
  runs: DurationHistogram;
}

/** Totals of one task, or of the whole run. */
export interface StatsRow {
  /** Job runs seen: each job once, plus once more for each time it was retried by hand. */
  jobs: number;
  completed: number;
  failedAttempts: number;
  retries: number;
  abandoned: number;
  cancelled: number;
  /** Finished jobs run again by hand (`jobwire jobs retry`, `retryJob`). */
  retriedByHand: number;
  meanWaitMs: number | null;
  meanRunMs: number | null;
  /** Within 5 % (a fixed-size histogram). */
  p95RunMs: number | null;
}

/** What the summary reports. */
export interface RunSummary extends StatsRow {
  /** Jobs seen that have not reached a final state (`lost` ones left out). */
  unfinished: number;
  /**
   * Jobs whose last attempt here lost its lease (`job:lease-lost`): cancelled or deleted by
   * another process, or rescued elsewhere; their end is not this process's to see.
   */
  lost: number;
  /** Since the command started. */
  wallTimeMs: number;
  /**
   * From the first job start to the last final state: the time spent working, without the idle
   * time before the first job and after the last one. 0 before any job finished.
   */
  busyTimeMs: number;
  tasks: Record<string, StatsRow>;
}

/** Counters for a task (or for all of them) before any event. */
const emptyStats = (): TaskStats => ({
  jobs: 0,
  completed: 0,
  failedAttempts: 0,
  retries: 0,
  abandoned: 0,
  cancelled: 0,
  retriedByHand: 0,
  waits: new DurationHistogram(),
  runs: new DurationHistogram(),
});

/**
 * Which jobs a summary counts: every job this process saw (`queued`: the demo, which enqueues
 * and runs its own jobs), or only those it started (`started`: a worker, whose process also
 * enqueues jobs other workers run — a leader's schedules — and cancels or rescues jobs it never
 * ran; counted, those showed as its own unfinished or cancelled work).
 */
export type CountFrom = 'queued' | 'started';

/** Feed it every event; ask it for a summary. */
export class RunStats {
  readonly startedAt: number;
  readonly #now: () => number;
  readonly #countFrom: CountFrom;
  readonly #tasks = new Map<string, TaskStats>();
  /** Jobs seen and not finished, by id → task. Finished jobs leave, so this stays small. */
  readonly #active = new Map<string, string>();
  /** Active jobs whose attempt here lost its lease and that were not seen since. */
  readonly #lost = new Set<string>();
  /** Active jobs that left this process unfinished, oldest first (at most MAX_PARKED). */
  readonly #parked = new Set<string>();
  /** Parked jobs forgotten past MAX_PARKED, still counted: unfinished, or lost. */
  readonly #forgotten = { unfinished: 0, lost: 0 };
  readonly #final: Record<FinalState, number> = { completed: 0, abandoned: 0, cancelled: 0 };
  #firstStartAt: number | null = null;
  #lastFinishAt: number | null = null;

  constructor(now: () => number = Date.now, options: { countFrom?: CountFrom } = {}) {
    this.#now = now;
    this.startedAt = now();
    this.#countFrom = options.countFrom ?? 'queued';
  }

  #task(name: string): TaskStats {
    let stats = this.#tasks.get(name);
    if (!stats) {
      stats = emptyStats();
      this.#tasks.set(name, stats);
    }
    return stats;
  }

  /** The task's counters; a job not already active starts a new run. */
  #see(jobId: string, taskName: string): TaskStats {
    const stats = this.#task(taskName);
    this.#lost.delete(jobId);
    this.#parked.delete(jobId);
    if (!this.#active.has(jobId)) {
      this.#active.set(jobId, taskName);
      stats.jobs++;
    }
    return stats;
  }

  #finish(jobId: string, taskName: string, state: FinalState, at: number): TaskStats {
    const stats = this.#see(jobId, taskName);
    this.#active.delete(jobId);
    this.#parked.delete(jobId);
    this.#final[state]++;
    this.#lastFinishAt = at;
    return stats;
  }

  /**
   * The job left this process unfinished: keep it among the parked ones, forgetting the oldest
   * past MAX_PARKED (counted still).
   */
  #park(jobId: string): void {
    if (!this.#active.has(jobId)) return;
    this.#parked.delete(jobId);
    this.#parked.add(jobId);
    if (this.#parked.size <= MAX_PARKED) return;
    const oldest = this.#parked.values().next().value as string;
    this.#parked.delete(oldest);
    this.#active.delete(oldest);
    if (this.#lost.delete(oldest)) this.#forgotten.lost++;
    else this.#forgotten.unfinished++;
  }

  /** Record one event. */
  observe(name: string, payload: unknown): void {
    if (this.#countFrom === 'started' && name !== 'job:started') {
      // Only what happens to a job after it started here.
      const jobId = (payload as { jobId?: unknown } | null)?.jobId;
      if (name === 'job:queued' || name === 'job:retried') return;
      if (typeof jobId === 'string' && !this.#active.has(jobId)) return;
    }
    switch (name) {
      case 'job:queued': {
        const e = payload as JobwireEvents['job:queued'];
        this.#see(e.jobId, e.task);
        return;
      }
      case 'job:retried': {
        const e = payload as JobwireEvents['job:retried'];
        const known = this.#active.has(e.jobId);
        const stats = this.#see(e.jobId, e.task);
        if (!known) stats.retriedByHand++;
        return;
      }
      case 'job:started': {
        const e = payload as JobwireEvents['job:started'];
        this.#firstStartAt ??= e.startedAt;
        this.#see(e.jobId, e.task).waits.record(e.waitMs);
        return;
      }
      case 'job:completed': {
        const e = payload as JobwireEvents['job:completed'];
        const stats = this.#finish(e.jobId, e.task, 'completed', e.completedAt);
        stats.completed++;
        stats.runs.record(e.durationMs);
        return;
      }
      case 'job:failed': {
        const e = payload as JobwireEvents['job:failed'];
        const stats = this.#see(e.jobId, e.task);
        stats.failedAttempts++;
        stats.runs.record(e.durationMs);
        return;
      }
      case 'job:retrying': {
        const e = payload as JobwireEvents['job:retrying'];
        this.#see(e.jobId, e.task).retries++;
        this.#park(e.jobId);
        return;
      }
      case 'job:snoozed':
      case 'job:interrupted':
      case 'job:released': {
        this.#park((payload as JobwireEvents['job:released']).jobId);
        return;
      }
      case 'job:abandoned': {
        const e = payload as JobwireEvents['job:abandoned'];
        this.#finish(e.jobId, e.task, 'abandoned', e.at).abandoned++;
        return;
      }
      case 'job:cancelled': {
        const e = payload as JobwireEvents['job:cancelled'];
        this.#finish(e.jobId, e.task, 'cancelled', e.at).cancelled++;
        return;
      }
      case 'job:lease-lost': {
        // Another process cancelled, deleted or rescued it: it is no longer this run's to finish.
        const e = payload as JobwireEvents['job:lease-lost'];
        if (this.#active.has(e.jobId)) this.#lost.add(e.jobId);
        this.#park(e.jobId);
        return;
      }
    }
  }

  /** True when the job was seen and has not reached a final state since. */
  isActive(jobId: string): boolean {
    return this.#active.has(jobId);
  }

  /** Number of final states of each kind (a job retried by hand can count twice). */
  finalCounts(): Record<FinalState, number> {
    return { ...this.#final };
  }

  /** The run so far. */
  summary(): RunSummary {
    const tasks: Record<string, StatsRow> = {};
    const all = emptyStats();
    for (const [name, stats] of [...this.#tasks].sort(([a], [b]) => a.localeCompare(b))) {
      tasks[name] = row(stats);
      all.jobs += stats.jobs;
      all.completed += stats.completed;
      all.failedAttempts += stats.failedAttempts;
      all.retries += stats.retries;
      all.abandoned += stats.abandoned;
      all.cancelled += stats.cancelled;
      all.retriedByHand += stats.retriedByHand;
      all.waits.merge(stats.waits);
      all.runs.merge(stats.runs);
    }
    const busyTimeMs =
      this.#firstStartAt !== null && this.#lastFinishAt !== null
        ? Math.max(0, this.#lastFinishAt - this.#firstStartAt)
        : 0;
    return {
      ...row(all),
      unfinished: this.#active.size - this.#lost.size + this.#forgotten.unfinished,
      lost: this.#lost.size + this.#forgotten.lost,
      wallTimeMs: this.#now() - this.startedAt,
      busyTimeMs,
      tasks,
    };
  }
}

function row(stats: TaskStats): StatsRow {
  return {
    jobs: stats.jobs,
    completed: stats.completed,
    failedAttempts: stats.failedAttempts,
    retries: stats.retries,
    abandoned: stats.abandoned,
    cancelled: stats.cancelled,
    retriedByHand: stats.retriedByHand,
    meanWaitMs: stats.waits.mean(),
    meanRunMs: stats.runs.mean(),
    p95RunMs: stats.runs.percentile(95),
  };
}

const ms = (value: number | null) => (value === null ? '–' : duration(value));

/**
 * Jobs finished over the busy time, with its unit: `12.3 jobs/s`; below one a second in
 * jobs/min, below one a minute in jobs/h, so a slow run reads `1.0 jobs/min`, not `0.0 jobs/s`
 * ("– jobs/s" when nothing finished yet).
 */
export function throughput(summary: RunSummary): string {
  const finished = summary.completed + summary.abandoned + summary.cancelled;
  if (finished === 0 || summary.busyTimeMs <= 0) return '– jobs/s';
  const perSecond = finished / (summary.busyTimeMs / 1000);
  // Compare the rounded figure: 0.96 jobs/s would print as 1.0 jobs/s, so it stays in jobs/s.
  if (Number(perSecond.toFixed(1)) >= 1) return `${perSecond.toFixed(1)} jobs/s`;
  if (Number((perSecond * 60).toFixed(1)) >= 1) return `${(perSecond * 60).toFixed(1)} jobs/min`;
  const perHour = perSecond * 3600;
  // Days of busy time for a handful of jobs: two significant digits rather than 0.0.
  return `${perHour >= 0.1 ? perHour.toFixed(1) : perHour.toPrecision(2)} jobs/h`;
}

/**
 * The summary as an aligned table (one row per task, then the totals; at most 80 columns for
 * up to 16-character task names), then a line of times and rates and the `notes`.
 */
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
      { header: 'done', right: true },
      { header: 'failed', right: true },
      { header: 'retry', right: true },
      { header: 'aband.', right: true },
      { header: 'canc.', right: true },
      { header: 'wait', right: true },
      { header: 'run', right: true },
      { header: 'p95', right: true },
    ],
    rows,
    paint,
  );
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const lines = [
    `${plural(summary.jobs, 'job')}: ${summary.completed} done, ${summary.abandoned} abandoned, ` +
      `${summary.cancelled} cancelled, ` +
      (summary.lost ? `${summary.lost} lost to another process or a cancel (lease lost), ` : '') +
      `${summary.unfinished} unfinished` +
      (summary.retriedByHand ? ` (${plural(summary.retriedByHand, 'hand retry')})` : ''),
    `busy ${duration(summary.busyTimeMs)} (first start to last finish) · ${throughput(summary)} · ` +
      `wall ${duration(summary.wallTimeMs)}`,
    paint('gray', 'done = completed · failed = failed attempts · wait, run = means'),
    ...notes,
  ];
  return `${text}\n\n${lines.join('\n')}`;
}
