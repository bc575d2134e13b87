/**
 * The live hub: ONE tail of the durable event log per dashboard handler, however many pages are
 * open, fanned out to every page's Server-Sent Events stream. Bursts are coalesced: at most one
 * update every `coalesceMs`, and the counts behind it come from the handler's shared, rate-limited
 * `CountsCache`, so a storm of events or of viewers never turns into a storm of count queries.
 * The tail starts with the first viewer and stops `idleStopMs` after the last one leaves (the
 * throughput chart keeps its window until then).
 *
 * It also tells the pages whether the job store answers (event `status`): when reading the log or
 * the counts fails with a `StorageError`, every page hears `{"store":"down","since":…}` at once
 * (and a page opened meanwhile on connecting), the hub probes the store every second, and when it
 * answers again the pages hear `{"store":"up"}` followed by a full refresh.
 */
import {
  ClosedError,
  EventCursorExpiredError,
  type Jobwire,
  type LoggedEvent,
  StorageError,
} from '../../index.js';
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
  /** Since when the job store has not answered (undefined while it does). */
  #downSince: number | undefined;

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

  /** True while the job store does not answer. */
  get storeDown(): boolean {
    return this.#downSince !== undefined;
  }

  /** What a page hears about the store (event `status`). */
  #statusData(): string {
    return JSON.stringify(
      this.#downSince === undefined ? { store: 'up' } : { store: 'down', since: this.#downSince },
    );
  }

  /** Record whether the store answers; tell every page when that changes. */
  #setStoreDown(down: boolean): void {
    if (down === (this.#downSince !== undefined)) return;
    this.#downSince = down ? Date.now() : undefined;
    const data = this.#statusData();
    for (const client of this.#clients) client.send('status', data);
    if (!down) {
      // Back: every page re-reads what it shows (what changed meanwhile was not pushed).
      Object.assign(this.#batch, {
        any: true,
        counts: true,
        jobs: true,
        pools: true,
        schedules: true,
        jobIds: 'all',
        lastAt: Date.now(),
      });
      this.#schedule();
    }
  }

  /** Whether `error` says the store could not be used (not a closed client, not a bug elsewhere). */
  static #storeFailure(error: unknown): boolean {
    return error instanceof StorageError;
  }

  /** A new page's first update: counts read no earlier than its connection, and the chart. */
  async #greet(client: LiveClient, connectedAt: number): Promise<void> {
    const { kind } = client.page;
    if (this.#downSince !== undefined) client.send('status', this.#statusData());
    if (kind === 'overview') client.send('chart', JSON.stringify(this.chartData()));
    if (kind !== 'overview' && kind !== 'queues') return;
    try {
      const snapshot = await this.#counts.fresh(connectedAt);
      if (this.#clients.has(client)) client.send('counts', this.#renderCounts(snapshot, kind));
    } catch (error) {
      // The page shows the counts it was rendered with; the next update tries again.
      if (LiveHub.#storeFailure(error)) this.#setStoreDown(true);
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
        else if (LiveHub.#storeFailure(error)) this.#setStoreDown(true);
        await this.#waitForStore(signal);
      }
    }
  }

  /**
   * Wait a second before tailing again; while the store is down, go on waiting a second at a
   * time until it answers a cheap read (the log's head), so the pages hear it is back even when
   * no event comes.
   */
  async #waitForStore(signal: AbortSignal): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      if (signal.aborted || this.#downSince === undefined) return;
      try {
        await this.#jobwire.events.head();
        this.#setStoreDown(false);
        return;
      } catch (error) {
        if (!LiveHub.#storeFailure(error)) return; // the tail says what it is
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
      if (event.type === 'job:queued' || event.type === 'job:cancelled' || event.type === 'job:deleted') {
        batch.schedules = true;
      }
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
        } catch (error) {
          // A failed count (database down): the pages keep the last counts, marked stale by the
          // `status` event; the next event retries.
          if (LiveHub.#storeFailure(error)) this.#setStoreDown(true);
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
