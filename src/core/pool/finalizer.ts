/**
 * Batches the outcomes of attempts into guarded bulk writes (`jobFinalizeMany`): everything that
 * finished in the same turn of the event loop is written by one statement or transaction.
 *
 * A failed write is handled by what failed:
 * - storage unavailable (connection lost, lock timeout) or any other storage failure: the whole
 *   batch is retried with backoff and nothing is dropped; the pool keeps heart-beating the leases
 *   of jobs waiting here, so they are not rescued meanwhile;
 * - the database refused the values (`StorageError` of kind `refused`, or a TypeError/RangeError
 *   while encoding them): the batch is split in halves until the item that fails on its own is
 *   found, so one poison outcome never holds back the others. That item's outcome is replaced by
 *   a plain `UnstorableOutcomeError`; if even that is refused, the outcome is dropped and its
 *   lease left to expire, so the job is rescued and runs again.
 * An outcome whose write failed STUCK_AFTER_FAILURES times in a row for a reason other than an
 * unreachable database is no longer offered for heart-beating: its lease expires and the job is
 * rescued elsewhere instead of staying `running` for ever.
 * After `close()` nothing is retried.
 */
import type { Driver, FinalizeItem, FinalizeResult, LogEntry } from '../../driver/driver.js';
import { ClosedError, StorageError, UnstorableOutcomeError } from '../errors.js';
import { toStoredError } from '../serialize.js';

/** Most outcomes written by one call. */
export const MAX_FINALIZE_BATCH = 1000;

/** Consecutive failed writes after which an outcome's lease is no longer kept alive. */
export const STUCK_AFTER_FAILURES = 5;

interface Waiting {
  item: FinalizeItem;
  /** The durable log's entries for the item actually written, when the log is on. */
  log: ((written: FinalizeItem) => LogEntry[]) | undefined;
  resolve: (result: FinalizeResult, written: FinalizeItem) => void;
  /** Failed writes in a row that included this item. */
  failures: number;
  /** Whether the last failure was "storage unavailable" (heartbeats fail too, so keep the lease). */
  unavailable: boolean;
  /** The outcome was already replaced by an UnstorableOutcomeError. */
  replaced: boolean;
}

/** Reports a failed write; returns nothing, the finalizer retries by itself. */
export type FinalizeErrorReporter = (error: unknown, retryInMs: number) => void;

/** True when the values of the write were refused: the same write would fail again. */
function isRefusal(error: unknown): boolean {
  if (error instanceof StorageError) return error.kind === 'refused';
  // Encoding this item's values failed before or while they reached the database (a BigInt, a
  // string too long for the driver): also specific to the data.
  return error instanceof TypeError || error instanceof RangeError;
}

/** One pool's outcome writer. */
export class Finalizer {
  readonly #driver: Driver;
  readonly #now: () => number | undefined;
  readonly #onError: FinalizeErrorReporter;
  #waiting: Waiting[] = [];
  #scheduled = false;
  #flushing = false;
  #closed = false;
  #failures = 0;
  /** The last failed write failed because storage was unavailable. */
  #lastFailureUnavailable = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];

  readonly #onRecovered: () => void;

  /** `onRecovered`: a write succeeded after failed ones (storage answers again). */
  constructor(
    driver: Driver,
    now: () => number | undefined,
    onError: FinalizeErrorReporter,
    onRecovered: () => void = () => {},
  ) {
    this.#driver = driver;
    this.#now = now;
    this.#onError = onError;
    this.#onRecovered = onRecovered;
  }

  /** Outcomes not yet written. */
  get backlog(): number {
    return this.#waiting.length;
  }

  /**
   * Leases of jobs whose outcome is waiting to be written (the pool keeps them alive), except
   * those whose writes keep failing while storage is reachable: those are left to expire.
   */
  *leases(): Iterable<{ id: string; leaseToken: number }> {
    for (const { item, failures, unavailable } of this.#waiting) {
      if (failures >= STUCK_AFTER_FAILURES && !unavailable) continue;
      yield { id: item.id, leaseToken: item.leaseToken };
    }
  }

  /**
   * Queue an outcome; `done` is called once it is written (or rejected by the fence, or dropped
   * as unstorable: `applied: false`) with the item actually written (a replacement, see above). A callback, not a promise: this runs once per job on the
   * hot path.
   */
  add(
    item: FinalizeItem,
    done: (result: FinalizeResult, written: FinalizeItem) => void,
    log?: (written: FinalizeItem) => LogEntry[],
  ): void {
    if (this.#closed) return;
    this.#waiting.push({ item, log, resolve: done, failures: 0, unavailable: false, replaced: false });
    this.#schedule();
  }

  /**
   * Storage answered again (a heartbeat or claim succeeded): retry a failed write now rather
   * than at the end of its backoff, so buffered outcomes land before leases are rescued.
   */
  retryNow(): void {
    // Only an outage ends when storage answers; other failures keep their backoff.
    if (!this.#retryTimer || this.#closed || !this.#lastFailureUnavailable) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#flush();
  }

  /** Resolves when every queued outcome is written, or after `timeoutMs`. True if drained. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#waiting.length === 0 && !this.#flushing) return true;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return drained;
  }

  /**
   * Stop for good (after drain gave up): outcomes still queued are dropped (their leases expire)
   * and a write still in flight is not retried when it fails. Returns how many were dropped.
   */
  abandonPending(): number {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const dropped = this.#waiting.length;
    this.#waiting = [];
    this.#wakeIdle();
    return dropped;
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing || this.#retryTimer || this.#closed) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: every attempt that ends in this turn joins the batch.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#waiting.length > 0 && !this.#closed) {
        const batch = this.#waiting.splice(0, MAX_FINALIZE_BATCH);
        const { left, error } = await this.#write(batch);
        if (left.length === 0) {
          if (this.#failures > 0) this.#onRecovered();
          this.#failures = 0;
          continue;
        }
        if (this.#closed || error instanceof ClosedError) {
          // The pool or the driver is closed: nothing may retry now.
          this.abandonPending();
          return;
        }
        this.#waiting.unshift(...left);
        this.#failures++;
        this.#lastFailureUnavailable = error instanceof StorageError && error.kind === 'unavailable';
        const retryInMs = Math.min(5000, 50 * 2 ** Math.min(this.#failures, 7));
        this.#onError(error, retryInMs);
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          void this.#flush();
        }, retryInMs);
        return;
      }
    } finally {
      this.#flushing = false;
      if (this.#waiting.length === 0) this.#wakeIdle();
    }
  }

  /**
   * Write `batch`, isolating refused items (see the module comment). Returns the items still to
   * write after a failure that is not about their values, with that failure.
   */
  async #write(batch: Waiting[]): Promise<{ left: Waiting[]; error?: unknown }> {
    let results: FinalizeResult[];
    try {
      // The entries go on the item itself: a copy with them (`{ ...item, events }`) cost more
      // than building them, and mixing its shape with the plain items' slowed every read of the
      // batch. A rewrite (after a failure or a replacement) builds them again.
      const items = batch.map((w) => {
        if (w.log) w.item.events = w.log(w.item);
        return w.item;
      });
      results = await this.#driver.jobFinalizeMany({ items, now: this.#now() });
    } catch (error) {
      if (this.#closed || !isRefusal(error)) {
        const unavailable = error instanceof StorageError && error.kind === 'unavailable';
        for (const waiting of batch) {
          waiting.failures++;
          waiting.unavailable = unavailable;
        }
        return { left: batch, error };
      }
      if (batch.length > 1) {
        const half = batch.length >> 1;
        const first = await this.#write(batch.slice(0, half));
        if (first.left.length > 0) return { left: [...first.left, ...batch.slice(half)], error: first.error };
        return this.#write(batch.slice(half));
      }
      return this.#refusedAlone(batch[0]!, error);
    }
    for (let i = 0; i < batch.length; i++) this.#settle(batch[i]!, results[i]!);
    return { left: [] };
  }

  /** One outcome the database refused on its own: store a replacement, or drop it. */
  async #refusedAlone(waiting: Waiting, error: unknown): Promise<{ left: Waiting[]; error?: unknown }> {
    const { item } = waiting;
    this.#onError(error, 0);
    if (waiting.replaced || item.outcome === 'snoozed') {
      // Even the plain replacement was refused: let the lease expire so the job is rescued.
      this.#settle(waiting, { id: item.id, applied: false, at: Date.now() });
      return { left: [] };
    }
    waiting.replaced = true;
    const stored = toStoredError(
      new UnstorableOutcomeError(
        `The ${item.outcome === 'completed' ? 'result' : 'error'} of this attempt could not be stored ` +
          `(${describe(error)}); it was replaced by this error.`,
      ),
      // Number(): the refused values may be what made the write fail (a BigInt, say).
      'error' in item ? finite(item.error.attempt, 0) : 0,
      'error' in item ? finite(item.error.at, Date.now()) : Date.now(),
    );
    delete stored.stack; // the stack is the finalizer's, not the handler's
    const { id, leaseToken, progressJson } = item;
    waiting.item =
      item.outcome === 'retry'
        ? { ...item, error: stored }
        : {
            id,
            leaseToken,
            ...(progressJson !== undefined && { progressJson }),
            outcome: 'abandoned',
            error: stored,
          };
    return this.#write([waiting]);
  }

  #settle(waiting: Waiting, result: FinalizeResult): void {
    try {
      waiting.resolve(result, waiting.item);
    } catch (error) {
      // A failing completion callback must not stop the others; report it like a write error.
      this.#onError(error, 0);
    }
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** An error's message for another message, short and storable. */
function describe(error: unknown): string {
  const { message } = toStoredError(error, 0, 0);
  return message.length > 500 ? `${message.slice(0, 500)}…` : message;
}

/** `value` as a finite number, else `fallback`. */
function finite(value: unknown, fallback: number): number {
  try {
    const number = Number(value);
    return Number.isFinite(number) ? number : fallback;
  } catch {
    return fallback;
  }
}
