/**
 * The demo's second reader: a client of its own on the same database that sees the work only
 * through the durable event log (`events.tail`), as a dashboard or alerting process elsewhere
 * would, and sums it up per queue every few seconds. Its lines are computed from the log alone,
 * never from the demo process's in-process events.
 */
import type { Jobwire, LoggedEvent } from '../../index.js';

/** What the log said about one queue so far. */
interface QueueTally {
  /** Each job's latest state as the log tells it. */
  jobs: Map<string, 'waiting' | 'running' | 'completed' | 'abandoned' | 'cancelled'>;
  /** Failed attempts (retried or not). */
  failed: number;
  /** Sum and count of waits (due → claimed), for the average. */
  waitMs: number;
  waits: number;
}

const JOB_TYPES = [
  'job:queued',
  'job:started',
  'job:completed',
  'job:failed',
  'job:retrying',
  'job:abandoned',
  'job:cancelled',
  'job:rescued',
  'job:interrupted',
  'job:released',
] as const;

const emptyTally = (): QueueTally => ({ jobs: new Map(), failed: 0, waitMs: 0, waits: 0 });

/** Reads the log from `after` on, keeps per-queue tallies, and prints them every `everyMs`. */
export class LogHealthReader {
  readonly #tallies = new Map<string, QueueTally>();
  readonly #abort = new AbortController();
  #events = 0;
  #last = 'now';
  #reading: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly reader: Jobwire,
    private readonly print: (line: string) => void,
  ) {}

  /** Start tailing after `cursor` and printing every `everyMs`. */
  start(cursor: string, everyMs = 3000): void {
    this.#last = cursor;
    this.#reading = this.#read(cursor);
    this.#timer = setInterval(() => this.flush(), everyMs);
  }

  async #read(cursor: string): Promise<void> {
    try {
      for await (const event of this.reader.events.tail({
        after: cursor,
        signal: this.#abort.signal,
        pollMs: 100,
      })) {
        this.#observe(event);
      }
    } catch {
      // The demo is closing (or its database went away): the reader's lines simply stop.
    }
  }

  #observe(event: LoggedEvent): void {
    this.#events++;
    this.#last = event.cursor;
    const queue = (event.data as { queue?: unknown }).queue;
    if (typeof queue !== 'string' || !event.type.startsWith('job:')) return;
    const tally = this.#tallies.get(queue) ?? emptyTally();
    this.#tallies.set(queue, tally);
    const { jobId } = event.data as { jobId: string };
    switch (event.type) {
      case 'job:queued':
      case 'job:retrying':
      case 'job:rescued':
      case 'job:released':
        tally.jobs.set(jobId, 'waiting');
        break;
      case 'job:interrupted':
        if (event.data.willRunAgain) tally.jobs.set(jobId, 'waiting');
        break;
      case 'job:started':
        tally.jobs.set(jobId, 'running');
        tally.waitMs += event.data.waitMs;
        tally.waits++;
        break;
      case 'job:failed':
        tally.failed++;
        break;
      case 'job:completed':
        tally.jobs.set(jobId, 'completed');
        break;
      case 'job:abandoned':
        tally.jobs.set(jobId, 'abandoned');
        break;
      case 'job:cancelled':
        tally.jobs.set(jobId, 'cancelled');
        break;
    }
  }

  /** Print one line per queue seen so far (at most 80 columns each). */
  flush(): void {
    for (const line of this.lines()) this.print(line);
  }

  /** "log · emails 3 waiting, 1 running, 11 done, 1 lost, 8 failed · wait 4ms" (≤ 66 columns). */
  lines(): string[] {
    const width = Math.min(10, Math.max(0, ...[...this.#tallies.keys()].map((q) => q.length)));
    return [...this.#tallies.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([queue, t]) => {
        const count = (state: string) => [...t.jobs.values()].filter((s) => s === state).length;
        const wait = t.waits === 0 ? '' : ` · wait ${Math.round(t.waitMs / t.waits)}ms`;
        const name = queue.length > width ? `${queue.slice(0, width - 1)}…` : queue.padEnd(width);
        const lost = count('abandoned') + count('cancelled');
        const line =
          `log · ${name} ${count('waiting')} waiting, ${count('running')} running, ` +
          `${count('completed')} done, ${lost} lost, ${t.failed} failed`;
        return line.length + wait.length <= 66 ? line + wait : line;
      });
  }

  /**
   * Resolves once the tail has read everything committed before this call (a read after its last
   * position finds nothing more), so the tallies cover the whole run. Gives up after `timeoutMs`.
   */
  async caughtUp(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const jobEvents = { types: JOB_TYPES };
    while (Date.now() < deadline) {
      // A filtered page may hold no event yet have more to examine: follow it to the end.
      let page = await this.reader.events.read({ after: this.#last, limit: 100, filter: jobEvents });
      while (page.events.length === 0 && page.more) {
        page = await this.reader.events.read({ after: page.cursor, limit: 100, filter: jobEvents });
      }
      if (page.events.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Events read from the log so far. */
  get eventsRead(): number {
    return this.#events;
  }

  /** Stop reading (after a last flush by the caller if wanted). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#abort.abort();
    await this.#reading;
  }
}
