/**
 * Batches the outcomes of attempts into guarded bulk writes (`jobFinalizeMany`): everything that
 * finished in the same turn of the event loop is written by one statement or transaction.
 * A failed write is retried with backoff and nothing is dropped; the pool keeps heart-beating
 * the leases of jobs waiting here, so they are not rescued meanwhile.
 */
import type { Driver, FinalizeItem, FinalizeResult } from '../driver/driver.js';

/** Most outcomes written by one call. */
export const MAX_FINALIZE_BATCH = 1000;

interface Waiting {
  item: FinalizeItem;
  resolve: (result: FinalizeResult) => void;
}

/** Reports a failed write; returns nothing, the finalizer retries by itself. */
export type FinalizeErrorReporter = (error: unknown, retryInMs: number) => void;

/** One pool's outcome writer. */
export class Finalizer {
  readonly #driver: Driver;
  readonly #now: () => number | undefined;
  readonly #onError: FinalizeErrorReporter;
  #waiting: Waiting[] = [];
  #scheduled = false;
  #flushing = false;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(driver: Driver, now: () => number | undefined, onError: FinalizeErrorReporter) {
    this.#driver = driver;
    this.#now = now;
    this.#onError = onError;
  }

  /** Outcomes not yet written. */
  get backlog(): number {
    return this.#waiting.length;
  }

  /** Leases of jobs whose outcome is waiting to be written (the pool keeps them alive). */
  *leases(): Iterable<{ id: string; leaseToken: number }> {
    for (const { item } of this.#waiting) yield { id: item.id, leaseToken: item.leaseToken };
  }

  /**
   * Queue an outcome; `done` is called once it is written (or rejected by the fence). A callback,
   * not a promise: this runs once per job on the hot path.
   */
  add(item: FinalizeItem, done: (result: FinalizeResult) => void): void {
    this.#waiting.push({ item, resolve: done });
    this.#schedule();
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

  /** Stop retrying (after drain gave up). Outcomes still queued are dropped; their leases expire. */
  abandonPending(): number {
    clearTimeout(this.#retryTimer);
    const dropped = this.#waiting.length;
    this.#waiting = [];
    return dropped;
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing || this.#retryTimer) return;
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
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, MAX_FINALIZE_BATCH);
        let results: FinalizeResult[];
        try {
          results = await this.#driver.jobFinalizeMany({ items: batch.map((w) => w.item), now: this.#now() });
        } catch (error) {
          this.#waiting.unshift(...batch);
          this.#failures++;
          const retryInMs = Math.min(5000, 50 * 2 ** Math.min(this.#failures, 7));
          this.#onError(error, retryInMs);
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined;
            void this.#flush();
          }, retryInMs);
          return;
        }
        this.#failures = 0;
        for (let i = 0; i < batch.length; i++) {
          try {
            batch[i]!.resolve(results[i]!);
          } catch (error) {
            // A failing completion callback must not stop the others; report it like a write error.
            this.#onError(error, 0);
          }
        }
      }
    } finally {
      this.#flushing = false;
      if (this.#waiting.length === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const wake of waiters) wake();
      }
    }
  }
}
