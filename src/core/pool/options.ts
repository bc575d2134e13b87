/**
 * A pool's options, checked once into a frozen settings object the pool's parts share.
 */
import { hostname } from 'node:os';
import { InvalidOptionError } from '../errors.js';
import { assertKnownOptions, optionNames } from '../known-options.js';
import { validateQueueName } from '../options.js';
import { unstorableTextReason } from '../storable.js';

/** Options of `createPool`. */
export interface PoolOptions {
  /** Queues to serve. Default `["default"]`. */
  queues?: string[];
  /** Worker slots: jobs run at once. Default 10. */
  concurrency?: number;
  /** How long a claim stays valid without a heartbeat. Default 30 000 ms. */
  leaseMs?: number;
  /** Heartbeat period. Default leaseMs / 3. */
  heartbeatIntervalMs?: number;
  /**
   * Check for due jobs at least this often (wake-ups usually come sooner, and a pool wakes at
   * the due time of every delayed job, retry or snooze it knows of). Default 1000 ms.
   */
  pollIntervalMs?: number;
  /**
   * Jobs claimed ahead of free slots, to save round trips when jobs are short. `"auto"` (default)
   * prefetches up to `concurrency` jobs while recent attempts took under 20 ms, and claims
   * batches of 500 while they took under 1 ms (on PostgreSQL the next 500 while the last batch
   * still runs); long jobs are never hoarded away from other processes.
   */
  prefetch?: number | 'auto';
  /**
   * On stop, how long running jobs may take before their signals abort. Default 10 000 ms. An
   * attempt cut off then is an interruption (`job:interrupted`), not a failure.
   */
  shutdownGraceMs?: number;
  /**
   * After a timeout or cancellation ended an attempt, how long its handler — if it ignores its
   * `signal` and goes on — keeps its worker slot: the slot is freed when the handler settles or
   * after this long, whichever comes first (a handler that never settles must not stop the pool).
   * Until then no other job starts beside it. Default 10 000 ms; 0 frees it at once.
   */
  abortGraceMs?: number;
  /** Stop gracefully on SIGTERM/SIGINT (a second signal exits at once). Default true. */
  handleSignals?: boolean;
  /**
   * Run a job this process enqueues while the pool has an idle slot for it straight from the
   * enqueue's write, without claiming it (only when a claim would have taken it first; see
   * "Direct starts" in the README). Default true; false: every job goes through a claim.
   */
  directStarts?: boolean;
  /** A stable id for this pool (appears in events and on leased jobs). Default host:pid:random. */
  id?: string;
}

/** `PoolOptions` checked and with every default filled in. */
export interface PoolSettings {
  readonly id: string;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly pollMs: number;
  readonly prefetch: number | 'auto';
  readonly shutdownGraceMs: number;
  readonly abortGraceMs: number;
  readonly handleSignals: boolean;
  readonly directStarts: boolean;
}

function positiveInt(field: string, value: number, max = 1_000_000): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(field, `must be an integer from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

function flag(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new InvalidOptionError(field, `must be true or false, got ${String(value)}`);
  return value;
}

const POOL_OPTION_NAMES = optionNames<PoolOptions>({
  queues: true,
  concurrency: true,
  leaseMs: true,
  heartbeatIntervalMs: true,
  pollIntervalMs: true,
  prefetch: true,
  shutdownGraceMs: true,
  abortGraceMs: true,
  handleSignals: true,
  directStarts: true,
  id: true,
});

/** Check `options`; throws `InvalidOptionError` naming the first bad field. */
export function resolvePoolSettings(options: PoolOptions): PoolSettings {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'createPool takes an object like { concurrency: 10 }');
  }
  assertKnownOptions('', options, POOL_OPTION_NAMES, 'pool option');
  const queueList = options.queues ?? ['default'];
  if (!Array.isArray(queueList) || queueList.length === 0) {
    throw new InvalidOptionError('queues', 'must be a non-empty array of queue names');
  }
  const queues = Object.freeze([...new Set(queueList.map((q, i) => validateQueueName(q, `queues[${i}]`)))]);
  const concurrency = positiveInt('concurrency', options.concurrency ?? 10, 10_000);
  const leaseMs = positiveInt('leaseMs', options.leaseMs ?? 30_000, 86_400_000);
  if (leaseMs < 100) throw new InvalidOptionError('leaseMs', 'must be at least 100 ms');
  const heartbeatMs = positiveInt(
    'heartbeatIntervalMs',
    options.heartbeatIntervalMs ?? Math.max(50, Math.floor(leaseMs / 3)),
  );
  if (heartbeatMs >= leaseMs) {
    throw new InvalidOptionError('heartbeatIntervalMs', `must be shorter than leaseMs (${leaseMs})`);
  }
  const pollMs = positiveInt('pollIntervalMs', options.pollIntervalMs ?? 1000, 3_600_000);
  const prefetch = options.prefetch ?? 'auto';
  if (prefetch !== 'auto' && (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > 10_000)) {
    throw new InvalidOptionError('prefetch', 'must be "auto" or an integer from 0 to 10000');
  }
  const shutdownGraceMs = options.shutdownGraceMs ?? 10_000;
  if (!Number.isInteger(shutdownGraceMs) || shutdownGraceMs < 0) {
    throw new InvalidOptionError('shutdownGraceMs', 'must be an integer >= 0');
  }
  const abortGraceMs = options.abortGraceMs ?? 10_000;
  if (!Number.isInteger(abortGraceMs) || abortGraceMs < 0 || abortGraceMs > 2_147_483_647) {
    throw new InvalidOptionError('abortGraceMs', 'must be an integer of ms >= 0');
  }
  const id = options.id ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  // The id is written with every claim (worker_id): text a database would refuse must not get that far.
  const unstorable = typeof id === 'string' ? unstorableTextReason(id) : 'not a string';
  if (unstorable !== undefined || id.length === 0 || id.length > 200) {
    throw new InvalidOptionError(
      'id',
      `must be a string of 1 to 200 characters that every database can store; it has ${unstorable ?? `${id.length} characters`}`,
    );
  }
  return Object.freeze({
    id,
    queues,
    concurrency,
    leaseMs,
    heartbeatMs,
    pollMs,
    prefetch,
    shutdownGraceMs,
    abortGraceMs,
    handleSignals: flag('handleSignals', options.handleSignals ?? true),
    directStarts: flag('directStarts', options.directStarts ?? true),
  });
}
