/**
 * Enqueue's write path: resolve tasks, prepare rows (`prepareJobs`), insert them through the
 * driver, report `queue:full` / `job:queued`, and raise in-process wake-ups for what committed.
 */
import {
  blockedOnInsertEntries,
  type JobInsertParams,
  type JobInsertResult,
  type LogEntry,
} from '../driver/driver.js';
import { directStartable } from '../driver/inserted-record.js';
import { CommitWatch } from './commit-watch.js';
import { runningJob } from './context.js';
import { type DedupRuleName, debouncedEvent, deduplicatedEvent } from './dedup.js';
import { type EnqueueItem, prepareJobs } from './enqueue.js';
import { InvalidOptionError, QueueFullError } from './errors.js';
import { attachDependencies } from './flow/dependencies.js';
import { runWrapped } from './hooks.js';
import { emitEntries, queuedEvent } from './job-events.js';
import type { DirectStartReservation } from './pool/direct-starts.js';
import type { Runtime } from './runtime.js';
import { toStoredError } from './serialize.js';
import type { TaskResolver } from './task-defaults.js';
import type { EpochMs, JobRecord } from './types.js';
import type { WaitForJobOptions } from './wait.js';

/** Default cap on a payload's JSON size: 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Most jobs one `enqueueMany` call takes. The batch is inserted in one transaction, which on
 * SQLite runs synchronously: a much larger batch would stall the event loop (and so every
 * pool's heartbeats in this process) for seconds. Split larger batches into several calls.
 */
export const MAX_ENQUEUE_MANY_JOBS = 10_000;

/** A job as the write path returns it: the stored record plus whether it was a duplicate. */
export type InsertedJob = JobRecord & {
  /** True when a rule (unique key, throttle, debounce) matched an existing job; the record is that job. */
  duplicate: boolean;
  /** The rule that matched (`unique` also for `uniqueKey`), or null for a new job. */
  matchedBy: DedupRuleName | null;
};

/**
 * A job as `enqueue` returns it: the stored record, whether it was a unique-key duplicate, and
 * `wait()`. Enqueued through a task or contract, it carries that task's types: `payload` is the
 * task's input and `wait()` resolves with its handler's result.
 */
export type EnqueuedJob<Payload = unknown, Result = unknown> = JobRecord<Payload, Result> & {
  /**
   * True when a rule (unique key, throttle, debounce) matched an existing job: the record is that
   * job (for debounce, with the payload and run time this enqueue gave it).
   */
  duplicate: boolean;
  /** The rule that matched (`unique` also for `uniqueKey`), or null for a new job. */
  matchedBy: DedupRuleName | null;
  /**
   * `jobwire.waitForJob(this.id, options)`: resolve with the result once the job completes,
   * reject with JobFailedError if it is abandoned or cancelled. Not enumerable, so the record
   * still serialises and compares as before.
   */
  wait(options?: WaitForJobOptions): Promise<Result>;
};

/** Client settings the write path needs. */
export interface InsertSettings {
  readonly maxPayloadBytes: number;
  /** Per-queue `maxPending` limits; empty when no queue has one. */
  readonly maxPendingByQueue: ReadonlyMap<string, number>;
}

/** See the module comment. One per client. */
/** What holds a job inserted `blocked`: every holder, and those it is stuck on from the start. */
type BlockedOn = { on: string[]; stuck?: string[] };

export class JobInserter {
  readonly #runtime: Runtime;
  readonly #resolver: TaskResolver;
  readonly #settings: InsertSettings;
  #commitWatch: CommitWatch | undefined;

  /** `resolver` turns a task, contract or name into its defaults (and applies `strictTasks`). */
  constructor(runtime: Runtime, resolver: TaskResolver, settings: InsertSettings) {
    this.#runtime = runtime;
    this.#resolver = resolver;
    this.#settings = settings;
  }

  /**
   * Validate, encode and store `items` in one driver call. `transaction` is the caller's open
   * transaction to join (undefined: the driver commits on its own).
   */
  async insert(items: readonly EnqueueItem[], transaction: unknown, many: boolean): Promise<InsertedJob[]> {
    const { driver } = this.#runtime;
    if (transaction !== undefined && !driver.capabilities.callerTransactions) {
      throw new InvalidOptionError(
        'transaction',
        `the ${driver.name} driver cannot join a caller's transaction`,
      );
    }
    const rows = await prepareJobs(items, {
      resolveTask: (task) => this.#resolver.resolve(task),
      maxPayloadBytes: this.#settings.maxPayloadBytes,
      inheritedCorrelationId: runningJob.getStore()?.correlationId,
      many,
    });
    attachDependencies(
      items.map((item) => item?.options),
      rows,
      many,
    );
    return this.#runtime.inFlight.track(
      this.#hookedWrite(rows, transaction),
      rows.map((row) => row.correlationId),
    );
  }

  /** `#write` inside the installed enqueue hooks (outermost first), each guarded by `runWrapped`. */
  #hookedWrite(rows: JobInsertParams[], transaction: unknown): Promise<InsertedJob[]> {
    const { hooks, events, clock } = this.#runtime;
    const chain = hooks.enqueue;
    if (chain.length === 0) return this.#write(rows, transaction);
    const batch = {
      jobs: rows.map(({ task, queue }) => ({ task, queue })),
      inTransaction: transaction !== undefined,
    };
    let added: Record<string, unknown> = {};
    const onError = (error: unknown) => {
      const at = clock.now();
      const stored = toStoredError(error, 0, at);
      events.emit('service:error', {
        service: 'enqueue-hook',
        operation: 'enqueue',
        error: stored,
        retryInMs: 0,
        at,
      });
    };
    const step = (index: number): Promise<InsertedJob[]> => {
      const hook = chain[index];
      if (!hook) return this.#write(withMetadata(rows, added), transaction);
      return runWrapped(
        (proceed) =>
          hook.aroundInsert(batch, (metadata) => {
            if (metadata) added = { ...added, ...metadata };
            return proceed();
          }),
        () => step(index + 1),
        onError,
      );
    };
    return step(0);
  }

  async #write(rows: JobInsertParams[], transaction: unknown): Promise<InsertedJob[]> {
    const { driver, events, clock } = this.#runtime;
    const maxPending = this.#settings.maxPendingByQueue;
    // Inside a caller's transaction, `job:queued` waits for its commit (never sent on rollback).
    let committed: InsertedJob[] | undefined;
    let committedMatches: ((at: EpochMs) => LogEntry[]) | undefined;
    let committedBlocked: readonly (BlockedOn | undefined)[] = [];
    const commitToken =
      transaction === undefined || !driver.capabilities.crossProcessNotify
        ? undefined
        : this.#commits().register(() => {
            this.#emitQueued(committed ?? [], clock.now(), committedBlocked);
            if (committedMatches) emitEntries(events, committedMatches(clock.now()));
          });
    // One plain job due now, with a pool of this process idle for it: the write may start it.
    const reservation = transaction === undefined ? this.#reserveDirectStart(rows) : undefined;
    let outcome: Awaited<ReturnType<typeof driver.jobInsertMany>>;
    try {
      outcome = await driver.jobInsertMany({
        jobs: rows,
        maxPendingByQueue: maxPending.size ? maxPending : undefined,
        executor: transaction,
        log: this.#runtime.eventLog,
        commitToken,
        start: reservation?.start,
        now: this.#runtime.dbNow(),
      });
    } catch (error) {
      if (commitToken) this.#commits().forget(commitToken);
      reservation?.cancel();
      throw error;
    }
    const started = 'inserted' in outcome ? outcome.inserted[0]?.started : undefined;
    if (reservation && !started) reservation.cancel();
    if ('queueFull' in outcome) {
      const { queue, maxPending: limit, pending, adding } = outcome.queueFull;
      const task = rows.find((row) => row.queue === queue)?.task ?? '';
      events.emit('queue:full', { queue, task, maxPending: limit, pending, at: clock.now() });
      throw new QueueFullError(queue, limit, pending, adding);
    }
    const jobs = outcome.inserted.map(({ job, duplicate, matchedBy }) => {
      // The driver's records are fresh objects, completed in place: a copy of every field per job
      // was the largest single cost of a bulk enqueue in Node. A record two inputs share (both
      // matched the same job) is copied, so each keeps its own answer.
      const record = (Object.hasOwn(job, 'duplicate') ? { ...job } : job) as InsertedJob;
      record.duplicate = duplicate;
      record.matchedBy = matchedBy ?? null;
      return record;
    });
    const matches = matchEvents(rows, outcome.inserted);
    const blocked = outcome.inserted.map((result) =>
      result.blockedOn ? { on: result.blockedOn, stuck: result.stuckOn } : undefined,
    );
    // Inside a caller's transaction nothing is committed yet: its pools learn of the jobs from
    // the database's notification (or their poll) once the caller commits, and `job:queued`
    // follows the commit announcement (the NOTIFY is delivered after this call returns).
    if (transaction === undefined) {
      this.#wakePools(jobs);
      this.#emitQueued(jobs, clock.now(), blocked);
      emitEntries(events, matches(clock.now()));
      // After `job:queued`: the pool's `job:started` follows it, as in the log.
      if (started) reservation!.accept(started);
    } else {
      committed = jobs;
      committedMatches = matches;
      committedBlocked = blocked;
    }
    return jobs;
  }

  /** `job:queued` per new job, then `job:blocked` for those stored blocked (`blocked[i]`: holders). */
  #emitQueued(
    jobs: readonly InsertedJob[],
    queuedAt: EpochMs,
    blocked: readonly (BlockedOn | undefined)[],
  ): void {
    const { events } = this.#runtime;
    if (events.has('job:queued')) {
      // Queued when stored: the record's creation time, as the durable log's entry says.
      for (const job of jobs) {
        if (job.duplicate) continue;
        // A job its write also started was queued pending first (the log says the same).
        const queued = job.state === 'running' ? { ...job, state: 'pending' as const } : job;
        events.emit('job:queued', queuedEvent(queued, job.createdAt.getTime()));
      }
    }
    if (!events.has('job:blocked')) return;
    jobs.forEach((job, i) => {
      const on = blocked[i];
      if (on && !job.duplicate) emitEntries(events, blockedOnInsertEntries(job, on.on, queuedAt, on.stuck));
    });
  }

  /**
   * A slot of a running pool of this process for `rows`' job (direct-starts.ts), when the batch is
   * one plain job due now — no key, rule or dependency, not in a queue with a pending limit — so
   * that its write may store it started for that pool.
   */
  #reserveDirectStart(rows: readonly JobInsertParams[]): DirectStartReservation | undefined {
    if (rows.length !== 1 || !directStartable(rows[0]!, this.#settings.maxPendingByQueue)) return undefined;
    return this.#runtime.directStarts.reserve(rows[0]!.queue, rows[0]!.task);
  }

  #commits(): CommitWatch {
    this.#commitWatch ??= new CommitWatch(this.#runtime);
    return this.#commitWatch;
  }

  /** Stop waiting for commits (the client is closing). */
  close(): void {
    this.#commitWatch?.close();
  }

  /**
   * Tell this process's pools about committed jobs: at once for queues that got a pending job,
   * at the earliest due time for queues that got only scheduled ones. Pools coalesce wake-ups,
   * so this is raised whatever the driver's own notifier does.
   */
  #wakePools(jobs: readonly InsertedJob[]): void {
    const { wakeups } = this.#runtime;
    if (!wakeups.hasListeners) return;
    const dueNow = new Set<string>();
    const dueLater = new Map<string, EpochMs>();
    for (const job of jobs) {
      if (job.duplicate && job.matchedBy !== 'debounce') continue;
      if (job.state === 'pending') dueNow.add(job.queue);
      else if (job.state === 'scheduled') {
        const runAt = job.runAt.getTime();
        const earliest = dueLater.get(job.queue);
        if (earliest === undefined || runAt < earliest) dueLater.set(job.queue, runAt);
      }
    }
    for (const queue of dueNow) wakeups.notify(queue);
    for (const [queue, runAt] of dueLater) wakeups.notify(queue, runAt);
  }
}

/**
 * `rows` with `added` merged into each one's metadata. Splices the encoded JSON (an object's
 * encoding ends with `}`) rather than decoding every row; a key in both appears twice and the
 * added one, being last, is what `JSON.parse` keeps.
 */
function withMetadata(rows: JobInsertParams[], added: Record<string, unknown>): JobInsertParams[] {
  const json = JSON.stringify(added);
  if (json === '{}') return rows;
  return rows.map((row) => ({
    ...row,
    metadataJson: row.metadataJson === '{}' ? json : `${row.metadataJson.slice(0, -1)},${json.slice(1)}`,
  }));
}

/**
 * The in-process events of the rules that matched (`job:deduplicated`, `job:debounced`), the same
 * the driver stored in the durable log, built when they are emitted (`at` is then). Empty for a
 * batch without matches, which costs one pass over the results.
 */
function matchEvents(
  rows: readonly JobInsertParams[],
  results: readonly JobInsertResult[],
): (at: EpochMs) => LogEntry[] {
  if (!results.some((r) => r.duplicate)) return () => [];
  return (at) => {
    const entries: LogEntry[] = [];
    results.forEach((r, i) => {
      if (!r.duplicate) return;
      const row = rows[i]!;
      const key = row.dedup?.key ?? row.uniqueKey ?? '';
      if (r.matchedBy === 'debounce') {
        entries.push({ type: 'job:debounced', data: debouncedEvent(r.job, key, r.previousRunAt ?? 0, at) });
      } else {
        const rule = r.matchedBy === 'throttle' ? 'throttle' : 'unique';
        entries.push({ type: 'job:deduplicated', data: deduplicatedEvent(r.job, rule, key, at) });
      }
    });
    return entries;
  };
}
