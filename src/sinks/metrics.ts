/**
 * `jobwire/metrics`: Prometheus metrics of a jobwire client, with prom-client.
 *
 * Two kinds of metric, kept apart because they come from different places and cost differently:
 * - per-process counters, histograms and gauges fed from `jobwire.events` (free at scrape time;
 *   see `process-metrics.ts`);
 * - cluster-wide gauges read from the database through the public API when scraped, cached
 *   `cacheMs` so that a scrape storm is not a query storm (see `cluster-source.ts`).
 *
 * Uses only the public API, like any sink written outside the package could.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { assertKnownOptions, type Clock, JOB_STATES, type Jobwire, optionNames } from '../index.js';
import { CachedClusterSource, type ClusterSource, queueCountsSource } from './cluster-source.js';
import { refuseNonMetricsRequest } from './metrics-requests.js';
import { DEFAULT_DURATION_BUCKETS, DEFAULT_WAIT_BUCKETS, registerProcessMetrics } from './process-metrics.js';

export {
  type ClusterReading,
  type ClusterSnapshot,
  type ClusterSource,
  listQueuesSource,
  queueCountsSource,
} from './cluster-source.js';
export { DEFAULT_DURATION_BUCKETS, DEFAULT_WAIT_BUCKETS } from './process-metrics.js';

/** Options of `createMetrics`. */
export interface MetricsOptions {
  /** Where the metrics are registered. Default: a registry of their own (not prom-client's global one). */
  registry?: Registry;
  /** Prefix of every metric name. Default `jobwire_`. */
  prefix?: string;
  /** How long a database reading of the cluster gauges is reused, in ms. Default 5000. */
  cacheMs?: number;
  /**
   * How long a scrape waits for the database's reading of the cluster gauges, in ms; past it the
   * scrape answers at once with `cluster_up 0`, no cluster samples, and this process's own
   * metrics (the read goes on for the next scrape). Default 5000 (Prometheus gives up after 10 s
   * by default); 0 waits as long as the database takes.
   */
  readTimeoutMs?: number;
  /** Buckets of `job_attempt_duration_seconds`, in seconds. */
  buckets?: readonly number[];
  /** Buckets of `job_wait_seconds`, in seconds. */
  waitBuckets?: readonly number[];
  /**
   * Reads the cluster gauges from the database. Default `queueCountsSource` (`queueCounts()`:
   * jobs per state at a bounded cost, exact up to 10,000 and estimated above, paused), which
   * leaves `queue_oldest_pending_age_seconds` without samples; pass a source that also fills
   * `oldestPendingAgeSeconds` to feed it, or `listQueuesSource` for exact counts at any cost.
   */
  clusterSource?: ClusterSource;
  /** The time source of the cache. Default: the client's clock. */
  clock?: Clock;
}

/** Every field of `MetricsOptions` (the compiler checks the list against it); any other key is refused. */
const METRICS_OPTION_NAMES = optionNames<MetricsOptions>({
  registry: true,
  prefix: true,
  cacheMs: true,
  readTimeoutMs: true,
  buckets: true,
  waitBuckets: true,
  clusterSource: true,
  clock: true,
});

/** A client's metrics, ready to be scraped. */
export interface JobwireMetrics {
  /** The registry the metrics live in (add your own, or merge it with others). */
  readonly registry: Registry;
  /** The Content-Type header of `text()`. */
  readonly contentType: string;
  /** The exposition text of every metric in the registry. Reads the database at most once per `cacheMs`. */
  text(): Promise<string>;
  /** A Node `http` request listener serving `GET /metrics` (404 for other paths). */
  readonly handler: RequestListener;
  /** Stop listening to the client's events and remove these metrics from the registry. */
  close(): void;
}

const DEFAULT_PREFIX = 'jobwire_';
const DEFAULT_CACHE_MS = 5000;
const DEFAULT_READ_TIMEOUT_MS = 5000;

/**
 * Create the Prometheus metrics of `jobwire`. Create them before starting pools, so the worker
 * gauges see the slots start. Serve `metrics.handler`, or put `await metrics.text()` behind your
 * own HTTP framework with `metrics.contentType`. An option key `MetricsOptions` does not name is an
 * `InvalidOptionError`: a misspelt `cacheMs` must not leave the default cache in force unnoticed.
 */
export function createMetrics(jobwire: Jobwire, options: MetricsOptions = {}): JobwireMetrics {
  assertKnownOptions('', options, METRICS_OPTION_NAMES, 'createMetrics option');
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
  if (!Number.isFinite(cacheMs) || cacheMs < 0) {
    throw new RangeError(`createMetrics: cacheMs must be a number >= 0, got ${cacheMs}`);
  }
  const readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  if (!Number.isInteger(readTimeoutMs) || readTimeoutMs < 0 || readTimeoutMs > 2_147_483_647) {
    throw new RangeError(`createMetrics: readTimeoutMs must be an integer of ms >= 0, got ${readTimeoutMs}`);
  }
  const before = new Set(registry.getMetricsAsArray().map((metric) => metric.name));
  const stopListening = registerProcessMetrics(jobwire, {
    registry,
    prefix,
    durationBuckets: options.buckets ?? DEFAULT_DURATION_BUCKETS,
    waitBuckets: options.waitBuckets ?? DEFAULT_WAIT_BUCKETS,
  });
  registerClusterGauges(registry, prefix, {
    jobwire,
    source: options.clusterSource ?? queueCountsSource,
    cacheMs,
    clock: options.clock ?? jobwire.clock,
    timeoutMs: readTimeoutMs,
  });
  const ours = registry
    .getMetricsAsArray()
    .map((metric) => metric.name)
    .filter((name) => !before.has(name));

  const text = () => registry.metrics();
  const handler: RequestListener = (request, response) => {
    void serve(request, response, registry);
  };
  let closed = false;
  return {
    registry,
    contentType: registry.contentType,
    text,
    handler,
    close() {
      if (closed) return;
      closed = true;
      stopListening();
      for (const name of ours) registry.removeSingleMetric(name);
    },
  };
}

/**
 * The cluster gauges. Each one's collect callback awaits the same cached reading; a failed
 * reading leaves them without samples (no stale or invented values) and sets `cluster_up` to 0.
 */
function registerClusterGauges(
  registry: Registry,
  prefix: string,
  cache: ConstructorParameters<typeof CachedClusterSource>[0],
): void {
  const cluster = new CachedClusterSource(cache);
  const registers = [registry];
  new Gauge({
    name: `${prefix}cluster_up`,
    help: 'Whether the last read of the cluster gauges from the database succeeded (1) or failed (0).',
    registers,
    async collect() {
      this.set((await cluster.read()).ok ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}queue_jobs`,
    help: 'Jobs in the database per queue and state (every process), read at most once per cache period.',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      const reading = await cluster.read();
      this.reset();
      if (!reading.ok) return;
      for (const queue of reading.snapshot.queues) {
        for (const state of JOB_STATES) this.set({ queue: queue.name, state }, queue.counts[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: `${prefix}queue_jobs_exact`,
    help: 'Whether queue_jobs of a queue and state is exact (1) or a lower bound or estimate (0); no samples when the cluster source does not say.',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      const reading = await cluster.read();
      this.reset();
      if (!reading.ok) return;
      for (const queue of reading.snapshot.queues) {
        if (!('precision' in queue)) continue;
        for (const state of JOB_STATES) {
          this.set({ queue: queue.name, state }, queue.precision[state] === 'exact' ? 1 : 0);
        }
      }
    },
  });
  new Gauge({
    name: `${prefix}queue_paused`,
    help: 'Whether a queue is paused (1) or not (0).',
    labelNames: ['queue'],
    registers,
    async collect() {
      const reading = await cluster.read();
      this.reset();
      if (!reading.ok) return;
      for (const queue of reading.snapshot.queues) this.set({ queue: queue.name }, queue.paused ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}queue_oldest_pending_age_seconds`,
    help: 'Seconds since the oldest due job of a queue became due; no samples unless the cluster source knows it.',
    labelNames: ['queue'],
    registers,
    async collect() {
      const reading = await cluster.read();
      this.reset();
      if (!reading.ok) return;
      for (const [queue, age] of reading.snapshot.oldestPendingAgeSeconds ?? []) this.set({ queue }, age);
    },
  });
}

async function serve(request: IncomingMessage, response: ServerResponse, registry: Registry): Promise<void> {
  if (refuseNonMetricsRequest(request, response)) return;
  try {
    const body = await registry.metrics();
    response.writeHead(200, { 'content-type': registry.contentType });
    response.end(request.method === 'HEAD' ? undefined : body);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    response
      .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
      .end(`metrics failed: ${message}\n`);
  }
}
