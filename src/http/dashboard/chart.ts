/**
 * Throughput and failures per queue, bucketed in time, for the overview's charts. Fed by the
 * live hub from the durable event log (`job:completed` and `job:failed` events, by the time the
 * log stored them), so it shows every process's work, not only this one's. Memory is bounded:
 * a fixed window of buckets and at most `maxQueues` queues.
 */
import type { LoggedEvent } from '../../index.js';

/** What the browser gets: one series pair per queue, aligned on `start` + i × `bucketMs`. */
export interface ChartData {
  bucketMs: number;
  /** Epoch ms of the first bucket. */
  start: number;
  queues: Record<string, { completed: number[]; failed: number[] }>;
  /** Most queues charted. */
  limit: number;
  /** Queues that finished jobs but are not charted (beyond `limit`), sorted; at most 100 named. */
  omitted: string[];
  /** True when more queues are left out than `omitted` names. */
  omittedMore: boolean;
}

/** Names of left-out queues kept (the count goes on beyond). */
const MAX_OMITTED_NAMES = 100;

interface Counts {
  completed: Map<number, number>;
  failed: Map<number, number>;
}

/** See the module comment. */
export class ThroughputBuckets {
  readonly bucketMs: number;
  readonly buckets: number;
  readonly maxQueues: number;
  readonly #queues = new Map<string, Counts>();
  /** Queues that finished jobs once the chart was full (the page names them). */
  readonly #omitted = new Set<string>();
  #omittedMore = false;
  /** The first bucket anything was counted in: the chart starts there (a minute before at least). */
  #firstBucket: number | undefined;

  constructor(options: { bucketMs?: number; buckets?: number; maxQueues?: number } = {}) {
    this.bucketMs = options.bucketMs ?? 5000;
    this.buckets = options.buckets ?? 120;
    this.maxQueues = options.maxQueues ?? 20;
  }

  /** Count an event if it is a completion or a failed attempt. */
  add(event: LoggedEvent): void {
    let kind: keyof Counts;
    if (event.type === 'job:completed') kind = 'completed';
    else if (event.type === 'job:failed') kind = 'failed';
    else return;
    let counts = this.#queues.get(event.data.queue);
    if (!counts) {
      if (this.#queues.size >= this.maxQueues) {
        if (this.#omitted.has(event.data.queue)) return;
        if (this.#omitted.size < MAX_OMITTED_NAMES) this.#omitted.add(event.data.queue);
        else this.#omittedMore = true;
        return;
      }
      counts = { completed: new Map(), failed: new Map() };
      this.#queues.set(event.data.queue, counts);
    }
    const bucket = Math.floor(event.at / this.bucketMs);
    if (this.#firstBucket === undefined || bucket < this.#firstBucket) this.#firstBucket = bucket;
    counts[kind].set(bucket, (counts[kind].get(bucket) ?? 0) + 1);
  }

  /**
   * The window ending at `now` (forgetting buckets older than it): from the first bucket counted,
   * so a fresh chart is not mostly empty, but at least a minute and at most `buckets` long.
   */
  snapshot(now: number): ChartData {
    const last = Math.floor(now / this.bucketMs);
    const minBuckets = Math.min(this.buckets, Math.ceil(60_000 / this.bucketMs));
    const first = Math.min(
      last - minBuckets + 1,
      Math.max(last - this.buckets + 1, this.#firstBucket ?? last),
    );
    const queues: ChartData['queues'] = {};
    for (const [name, counts] of [...this.#queues].sort(([a], [b]) => a.localeCompare(b))) {
      const series = { completed: [] as number[], failed: [] as number[] };
      for (const kind of ['completed', 'failed'] as const) {
        for (const bucket of counts[kind].keys()) if (bucket < first) counts[kind].delete(bucket);
        for (let b = first; b <= last; b++) series[kind].push(counts[kind].get(b) ?? 0);
      }
      queues[name] = series;
    }
    return {
      bucketMs: this.bucketMs,
      start: first * this.bucketMs,
      queues,
      limit: this.maxQueues,
      omitted: [...this.#omitted].sort((a, b) => a.localeCompare(b)),
      omittedMore: this.#omittedMore,
    };
  }
}
