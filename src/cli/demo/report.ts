/**
 * What the demo (`jobwire dev`) prints besides the event stream, one function per kind of line:
 * the banner, the running "x/N done" progress, the end line, and the notes under the summary.
 * Each returns plain strings of at most 80 columns; `dev.ts` decides where they go (stdout, or
 * stderr with --json). A new kind of line is a new function here.
 */
import { clockTime, duration, type Paint, timeZoneLabel } from '../format.js';

/** Final states of the demo's own jobs. */
export type DemoCounts = Record<'completed' | 'abandoned' | 'cancelled', number>;

/** The first lines: what runs where, and which zone the times are in. */
export function bannerLines(options: {
  database: string;
  jobs: number;
  concurrency: number;
  seed: number;
  rate?: number;
  exitWhenDone: boolean;
}): string[] {
  const rate = options.rate ? ` · +${options.rate} jobs/s` : '';
  return [
    `jobwire dev · ${options.database}`,
    `${options.jobs} jobs · concurrency ${options.concurrency} · seed ${options.seed}${rate}`,
    `times in ${timeZoneLabel()} · ${options.exitWhenDone ? 'exits when every job is done' : 'Ctrl-C stops'}`,
  ];
}

/**
 * Counts the demo's jobs as they reach a final state and says when to print a progress line:
 * at every tenth of the plan (every job for fewer than ten) and at the last one.
 */
export class DemoProgress {
  readonly total: number;
  readonly counts: DemoCounts = { completed: 0, abandoned: 0, cancelled: 0 };
  readonly #pending: Set<string>;
  readonly #step: number;
  #firstStartAt: number | null = null;
  #lastFinishAt: number | null = null;

  constructor(jobIds: Iterable<string>) {
    this.#pending = new Set(jobIds);
    this.total = this.#pending.size;
    this.#step = Math.max(1, Math.ceil(this.total / 10));
  }

  /** Jobs of the plan that reached a final state. */
  get done(): number {
    return this.total - this.#pending.size;
  }

  /** True once every job of the plan is final. */
  get finished(): boolean {
    return this.#pending.size === 0;
  }

  /** From the first start to the last final state of the plan's jobs (no idle time). */
  get busyMs(): number {
    return this.#firstStartAt === null || this.#lastFinishAt === null
      ? 0
      : this.#lastFinishAt - this.#firstStartAt;
  }

  /** Feed an event; true when a progress line is due. */
  observe(
    name: string,
    event: { jobId?: string; startedAt?: number; at?: number; completedAt?: number },
  ): boolean {
    if (name === 'job:started' && event.jobId !== undefined && this.#pending.has(event.jobId)) {
      this.#firstStartAt ??= event.startedAt ?? Date.now();
      return false;
    }
    const state =
      name === 'job:completed'
        ? 'completed'
        : name === 'job:abandoned'
          ? 'abandoned'
          : name === 'job:cancelled'
            ? 'cancelled'
            : undefined;
    if (state === undefined || event.jobId === undefined || !this.#pending.delete(event.jobId)) return false;
    this.counts[state]++;
    this.#lastFinishAt = event.completedAt ?? event.at ?? Date.now();
    return this.done % this.#step === 0 || this.finished;
  }
}

/** "12/40 done · 10 completed, 1 abandoned, 1 cancelled". */
export function progressLine(progress: DemoProgress): string {
  const { completed, abandoned, cancelled } = progress.counts;
  return (
    `${progress.done}/${progress.total} done · ${completed} completed, ${abandoned} abandoned, ` +
    `${cancelled} cancelled`
  );
}

/** "all 40 demo jobs done in 28.4s, at 12:40:01.123 · Ctrl-C to exit". */
export function endLine(progress: DemoProgress, exitWhenDone: boolean, now = Date.now()): string {
  const jobs = `${progress.total} demo ${progress.total === 1 ? 'job' : 'jobs'}`;
  return (
    `all ${jobs} done in ${duration(progress.busyMs)}, at ${clockTime(now)}` +
    (exitWhenDone ? '' : ' · Ctrl-C to exit')
  );
}

/** The seed, and the unique-key duplicates if there were any. */
export function seedLines(seed: number, duplicates: number): string[] {
  return [
    `seed ${seed}: run again with --seed ${seed} for the same jobs and failures`,
    ...(duplicates ? [`${duplicates} duplicate enqueues deduplicated by unique key`] : []),
  ];
}

/** Whether the database's counts agree with the events seen (see `databaseCheck` in dev.ts). */
export function databaseCheckLines(
  check: { ok: boolean; events: DemoCounts; database: DemoCounts },
  database: string,
  paint: Paint,
): string[] {
  const counts = (c: DemoCounts) =>
    `${c.completed} completed, ${c.abandoned} abandoned, ${c.cancelled} cancelled`;
  if (check.ok) return [paint('gray', `database agrees: ${counts(check.database)}`)];
  return [
    paint('yellow', `warning: the database disagrees with the events seen:`),
    paint('yellow', `  database ${counts(check.database)}`),
    paint('yellow', `  events   ${counts(check.events)}`),
    paint('yellow', `  (is another process using ${database}?)`),
  ];
}
