/**
 * The live hub: ONE tail of the durable event log per dashboard handler, however many pages are
 * open, fanned out to every page's Server-Sent Events stream. Bursts are coalesced: at most one
 * update every `coalesceMs`, and the counts behind it come from the handler's shared, rate-limited
 * `CountsCache`, so a storm of events or of viewers never turns into a storm of count queries.
 * The tail starts with the first viewer and stops `idleStopMs` after the last one leaves (the
 * throughput chart keeps its window until then).
 */
import { ClosedError, EventCursorExpiredError, type Jobwire, type LoggedEvent } from '../../index.js';
import { type ChartData, ThroughputBuckets } from './chart.js';
import type { CountsCache, CountsSnapshot } from './counts.js';

/** What a page's stream wants to hear about. */
export type LivePage =
  | { kind: 'overview' | 'queues' | 'jobs' | 'schedules' | 'workers' }
  | { kind: 'job'; jobId: string };

/** One open stream. `send` must not throw (the stream queues the write). */
export interface LiveClient {
  page: LivePage;
  send(event: string, data: string): void;
}

/** Tuning, mostly for tests. */
export interface LiveOptions {
  /** Least time between two updates pushed to the pages. Default 500 ms. */
  coalesceMs?: number;
  /** How long the tail runs on after the last viewer left. Default 5 min. */
  idleStopMs?: number;
  /** How often the log is read while caught up (see `EventTailOptions.pollMs`). Default 250 ms. */
  pollMs?: number;
}

/** The events of one coalesced update. */
interface Batch {
  any: boolean;
  counts: boolean;
  chart: boolean;
  jobs: boolean;
  pools: boolean;
  schedules: boolean;
  /** Jobs with news; `all` when too many to list. */
  jobIds: Set<string> | 'all';
  /** When the newest event arrived (counts must be read after it). */
  lastAt: number;
}

const MAX_TRACKED_IDS = 10_000;

const emptyBatch = (): Batch => ({
  any: false,
  counts: false,
  chart: false,
  jobs: false,
  pools: false,
  schedules: false,
  jobIds: new Set(),
  lastAt: 0,
});

/** See the module comment. */
export class LiveHub {
  readonly #jobwire: Jobwire;
  readonly #counts: CountsCache;
  readonly #renderCounts: (snapshot: CountsSnapshot, kind: 'overview' | 'queues') => string;
  readonly #coalesceMs: number;
  readonly #idleStopMs: number;
  readonly #pollMs: number;
  readonly #clients = new Set<LiveClient>();
  readonly chart = new ThroughputBuckets();
  #batch = emptyBatch();
  #tail: AbortController | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing = false;
  #lastFlush = 0;
  /** Updates pushed so far (tests read it to prove bursts are coalesced). */
  flushes = 0;

  constructor(
    jobwire: Jobwire,
    counts: CountsCache,
    renderCounts: (snapshot: CountsSnapshot, kind: 'overview' | 'queues') => string,
    options: LiveOptions = {},
  ) {
    this.#jobwire = jobwire;
    this.#counts = counts;
    this.#renderCounts = renderCounts;
    this.#coalesceMs = options.coalesceMs ?? 500;
    this.#idleStopMs = options.idleStopMs ?? 5 * 60_000;
    this.#pollMs = options.pollMs ?? 250;
  }

  /** Open streams right now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** True while the log is being tailed. */
  get tailing(): boolean {
    return this.#tail !== undefined;
  }

  /** Stop tailing now (the mounting handler closed); streams still open are ended by their owner. */
  close(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#stop();
  }

  /** Add a stream; it gets the current counts and chart at once. Returns its removal. */
  add(client: LiveClient): () => void {
    this.#clients.add(client);
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (!this.#tail) this.#start();
    void this.#greet(client, Date.now());
    return () => {
      if (!this.#clients.delete(client) || this.#clients.size > 0) return;
      this.#idleTimer = setTimeout(() => this.#stop(), this.#idleStopMs);
      this.#idleTimer.unref();
    };
  }

  /** A new page's first update: counts read no earlier than its connection, and the chart. */
  async #greet(client: LiveClient, connectedAt: number): Promise<void> {
    const { kind } = client.page;
    if (kind === 'overview') client.send('chart', JSON.stringify(this.chartData()));
    if (kind !== 'overview' && kind !== 'queues') return;
    try {
      const snapshot = await this.#counts.fresh(connectedAt);
      if (this.#clients.has(client)) client.send('counts', this.#renderCounts(snapshot, kind));
    } catch {
      // The page shows the counts it was rendered with; the next update tries again.
    }
  }

  /** The chart's current window. */
  chartData(): ChartData {
    return this.chart.snapshot(Date.now());
  }

  #start(): void {
    const controller = new AbortController();
    this.#tail = controller;
    void this.#run(controller.signal);
  }

  #stop(): void {
    this.#tail?.abort();
    this.#tail = undefined;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let after = 'now';
    while (!signal.aborted) {
      try {
        for await (const event of this.#jobwire.events.tail({ after, signal, pollMs: this.#pollMs })) {
          after = event.cursor;
          this.#onEvent(event);
        }
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof ClosedError) {
          // The client closed under the dashboard: nothing more will come.
          if (this.#tail?.signal === signal) this.#stop();
          break;
        }
        // Pruned past our position (a very long stall): go on from now rather than stop.
        if (error instanceof EventCursorExpiredError) after = 'now';
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }

  #onEvent(event: LoggedEvent): void {
    const batch = this.#batch;
    batch.any = true;
    batch.lastAt = Date.now();
    const [scope] = event.type.split(':');
    if (scope === 'job') {
      batch.counts = true;
      batch.jobs = true;
      batch.pools = true;
      const jobId = (event.data as { jobId?: unknown }).jobId;
      if (batch.jobIds !== 'all' && typeof jobId === 'string') {
        batch.jobIds.add(jobId);
        if (batch.jobIds.size > MAX_TRACKED_IDS) batch.jobIds = 'all';
      }
      if (event.type === 'job:completed' || event.type === 'job:failed') {
        this.chart.add(event);
        batch.chart = true;
      }
      if (event.type === 'job:queued' || event.type === 'job:cancelled') batch.schedules = true;
    } else if (scope === 'queue') {
      batch.counts = true;
    } else if (scope === 'pool' || scope === 'worker') {
      batch.pools = true;
    } else if (scope === 'schedule') {
      batch.schedules = true;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushTimer || this.#flushing || !this.#batch.any) return;
    const wait = Math.max(0, this.#lastFlush + this.#coalesceMs - Date.now());
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#flush();
    }, wait);
    this.#flushTimer.unref();
  }

  async #flush(): Promise<void> {
    const batch = this.#batch;
    this.#batch = emptyBatch();
    this.#flushing = true;
    this.#lastFlush = Date.now();
    this.flushes++;
    try {
      const clients = [...this.#clients];
      const wantsCounts = clients.some((c) => c.page.kind === 'overview' || c.page.kind === 'queues');
      let rendered: Partial<Record<'overview' | 'queues', string>> = {};
      if (batch.counts && wantsCounts) {
        try {
          const snapshot = await this.#counts.fresh(batch.lastAt);
          rendered = {
            overview: this.#renderCounts(snapshot, 'overview'),
            queues: this.#renderCounts(snapshot, 'queues'),
          };
        } catch {
          // A failed count (database down): the pages keep the last counts; the next event retries.
        }
      }
      const chart = batch.chart ? JSON.stringify(this.chartData()) : undefined;
      for (const client of clients) {
        if (!this.#clients.has(client)) continue;
        const { page } = client;
        if (page.kind === 'overview' || page.kind === 'queues') {
          const counts = rendered[page.kind];
          if (counts !== undefined) client.send('counts', counts);
          if (page.kind === 'overview' && chart) client.send('chart', chart);
        } else if (page.kind === 'jobs') {
          if (batch.jobs) client.send('jobs', '');
        } else if (page.kind === 'job') {
          if (batch.jobIds === 'all' || batch.jobIds.has(page.jobId)) client.send('job', '');
        } else if (page.kind === 'workers') {
          if (batch.pools) client.send('pools', '');
        } else if (page.kind === 'schedules') {
          if (batch.schedules) client.send('schedules', '');
        }
      }
    } finally {
      this.#flushing = false;
      this.#schedule();
    }
  }
}
