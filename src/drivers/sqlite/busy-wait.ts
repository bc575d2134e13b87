/**
 * Waiting for another connection's lock without freezing the process. SQLite's busy handler
 * waits by sleeping on the calling thread, and better-sqlite3 calls it on the event loop's: with
 * the whole `busyTimeoutMs` (5 s) spent there, a 12 s lock taken by another process (a backup, a
 * shell left in a transaction) once froze a worker for 55 s — a claim, an outcome write, a
 * heartbeat and a leader election each waited 5 s in turn, and the application's own timers and
 * requests with them. So a driver call waits at most `SYNC_BUSY_WAIT_MS` in the handler (which
 * still covers the checkpoint thread's holds of a few ms) and the rest of the timeout between
 * attempts, with the event loop free.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

/** Most of the busy timeout one attempt of a driver call waits in SQLite's busy handler. */
export const SYNC_BUSY_WAIT_MS = 10;
/** Longest pause between two attempts of a call that found the database locked. */
const MAX_BUSY_PAUSE_MS = 50;

/** The busy timeout to set on a connection jobwire opened itself (see the module comment). */
export function syncBusyWaitMs(busyTimeoutMs: number): number {
  return Math.min(busyTimeoutMs, SYNC_BUSY_WAIT_MS);
}

/** Whether `err` says another connection holds the lock this call needed. */
export function isBusy(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code.startsWith('SQLITE_BUSY');
}

/**
 * Try `body` again after growing pauses (1, 2, 4 … 50 ms) until it no longer finds the database
 * locked or `waitMs` has passed; then its last failure is thrown, for the caller to map. Every
 * driver call is one transaction (or reads only), and SQLite reports a lock at the transaction's
 * start or rolls the transaction back: an attempt that failed this way changed nothing in the
 * database, as when a caller retries after the `StorageError`. `stopped` ends the wait early
 * (the driver was closed) with what it throws.
 */
export async function retryWhileBusy<T>(
  body: () => T,
  first: unknown,
  waitMs: number,
  stopped: () => void,
): Promise<T> {
  const deadline = performance.now() + waitMs;
  let failure = first;
  for (let pause = 1; ; pause = Math.min(pause * 2, MAX_BUSY_PAUSE_MS)) {
    const left = deadline - performance.now();
    if (left <= 0) throw failure;
    await sleep(Math.min(pause, left));
    stopped();
    try {
      return body();
    } catch (err) {
      if (!isBusy(err)) throw err;
      failure = err;
    }
  }
}
