/**
 * The cluster-wide side of the metrics sink: what the database says about every queue, read
 * through the public API and cached so that many scrapes (several Prometheus servers, a scrape
 * storm, every gauge of one scrape) cost one read per `cacheMs`.
 */
import type { Clock, Jobwire, QueueCounts, QueueInfo } from '../index.js';

/**
 * One reading of the cluster, shared by every cluster gauge of a scrape.
 *
 * `oldestPendingAgeSeconds` is the place for the age of each queue's oldest due job: `listQueues()`
 * does not know it, so the default source leaves it out and the gauge then has no samples (never
 * a made-up 0). A source built on `queueStats()` (or any query of your own) fills it in.
 */
export interface ClusterSnapshot {
  /**
   * Every queue with its jobs per state and whether it is paused; with `precision` (from
   * `queueCounts`) when counts may be bounded or estimated.
   */
  queues: (QueueInfo | QueueCounts)[];
  /** Queue → seconds since its oldest pending job became due; absent when unknown. */
  oldestPendingAgeSeconds?: ReadonlyMap<string, number>;
}

/** Reads the cluster from the database. Called at most once per `cacheMs`. */
export type ClusterSource = (jobwire: Jobwire) => Promise<ClusterSnapshot>;

/**
 * The default source: `queueCounts()` — jobs per state per queue at a bounded cost (exact up to
 * 10,000 per count, estimated above), and paused.
 */
export const queueCountsSource: ClusterSource = async (jobwire) => ({ queues: await jobwire.queueCounts() });

/**
 * Exact counts: `listQueues()`, which counts every row of the jobs table (its cost grows with
 * the history kept). For small tables, or when the gauges must be exact.
 */
export const listQueuesSource: ClusterSource = async (jobwire) => ({ queues: await jobwire.listQueues() });

/** The outcome of the last read: a snapshot, or the error that stopped it. */
export type ClusterReading = { ok: true; snapshot: ClusterSnapshot } | { ok: false; error: unknown };

/**
 * Caches `source` for `cacheMs` of `clock` time. Scrapes that arrive while a read is in flight
 * share it. A failed read is cached too: a database that is down must not be asked once per
 * gauge per scrape.
 */
export class CachedClusterSource {
  readonly #jobwire: Jobwire;
  readonly #source: ClusterSource;
  readonly #cacheMs: number;
  readonly #clock: Clock;
  #reading: Promise<ClusterReading> | undefined;
  /** When the last reading came back; a reading in flight is shared whatever its age. */
  #readAt = Number.NEGATIVE_INFINITY;
  #inFlight = false;
  /** performance.now() when the read in flight began (the scrape timeout counts from it). */
  #readStartedAt = 0;

  readonly #timeoutMs: number;

  constructor(options: {
    jobwire: Jobwire;
    source: ClusterSource;
    cacheMs: number;
    clock: Clock;
    /** How long a scrape waits for a read in flight before it reports the cluster down; 0: no limit. */
    timeoutMs?: number;
  }) {
    this.#jobwire = options.jobwire;
    this.#source = options.source;
    this.#cacheMs = options.cacheMs;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? 0;
  }

  /**
   * The reading, or a failed one if it does not come within `timeoutMs`: a database that hangs
   * (a partition, a lock) made every scrape wait 10–30 s, past Prometheus's own scrape timeout,
   * so the target went down whole — this process's own counters with it. The read goes on and
   * the next scrape gets it once it is back.
   */
  read(): Promise<ClusterReading> {
    const reading = this.#current();
    if (!this.#inFlight || this.#timeoutMs <= 0) return reading;
    const timeoutMs = this.#timeoutMs;
    const late = (): ClusterReading => ({
      ok: false,
      error: new Error(`the database did not answer the cluster read within ${timeoutMs} ms`),
    });
    // The limit counts from when the read began, not from this scrape: a read already past it is
    // known to be late, so a scrape arriving meanwhile answers at once. Counting from each
    // scrape made every scrape of a hang wait the whole `timeoutMs` again (10–30 s of hang, each
    // scrape 5 s), where the first had already found the database not answering.
    const remainingMs = timeoutMs - (performance.now() - this.#readStartedAt);
    if (remainingMs <= 0) return Promise.resolve(late());
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<ClusterReading>((resolve) => {
      timer = setTimeout(() => resolve(late()), remainingMs);
      timer.unref();
    });
    return Promise.race([reading, deadline]).finally(() => clearTimeout(timer));
  }

  /**
   * The reading in flight, else the cached one, else a fresh one when the cache is older than
   * `cacheMs` (counted from when the reading came back). Sharing the read in flight keeps one
   * scrape's gauges on one reading even with `cacheMs: 0`, and a slow database from being asked
   * again by every scrape that arrives while it answers.
   */
  #current(): Promise<ClusterReading> {
    if (this.#inFlight && this.#reading) return this.#reading;
    if (this.#reading === undefined || this.#clock.now() - this.#readAt >= this.#cacheMs) {
      this.#inFlight = true;
      this.#readStartedAt = performance.now();
      const settle = (reading: ClusterReading): ClusterReading => {
        this.#inFlight = false;
        this.#readAt = this.#clock.now();
        return reading;
      };
      let source: Promise<ClusterSnapshot>;
      try {
        source = this.#source(this.#jobwire);
      } catch (error) {
        source = Promise.reject(error);
      }
      this.#reading = source.then(
        (snapshot) => settle({ ok: true, snapshot }),
        (error: unknown) => settle({ ok: false, error }),
      );
    }
    return this.#reading;
  }
}
