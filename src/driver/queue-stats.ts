/** Helpers shared by drivers' `queueStats`. */
import type { QueueStats } from './records.js';

/** A queue with nothing in it: the starting point of every queue's statistics. */
export function emptyStats(queue: string): QueueStats {
  return {
    queue,
    paused: false,
    scheduled: 0,
    pending: 0,
    running: 0,
    oldestPendingRunAt: null,
    completed: 0,
    failedAttempts: 0,
    interruptedAttempts: 0,
    abandoned: 0,
    cancelled: 0,
    precision: { pending: 'exact', scheduled: 'exact' },
  };
}

/**
 * One queue's capped read of its waiting jobs (pending and scheduled) in run-at order, as both
 * drivers make it through their waiting-jobs index (schema 13), stopping after `limit` rows.
 */
export interface WaitingRead {
  /** Rows read (at most the limit). */
  seen: number;
  /** Of those, the due ones: state `pending`, or run-at at or before now. */
  due: number;
  /** The earliest run-at among the due ones read. */
  oldestDue: number | null;
  /**
   * True when a row read is not yet due; in run-at order the rows after it are not due either,
   * so the last one is not.
   */
  endsNotDue: boolean;
}

/**
 * Add a queue's waiting read to its statistics. A read that stopped before `limit` saw every
 * waiting job: both counts are exact. One that reached it leaves the not-yet-due count open;
 * the due count too, unless its last row is not yet due: in run-at order the due jobs come
 * first, so then it saw all of them. (A `pending` job's run-at is never after now: jobs become
 * pending when due, and a released or rescued one keeps the run-at it was claimed at.) The
 * oldest due job is the first row read whenever one is due, so it is always exact.
 */
export function addWaitingRead(stats: QueueStats, read: WaitingRead, limit: number): void {
  stats.pending += read.due;
  stats.scheduled += read.seen - read.due;
  if (read.oldestDue !== null) {
    const oldest = Number(read.oldestDue);
    if (stats.oldestPendingRunAt === null || oldest < stats.oldestPendingRunAt)
      stats.oldestPendingRunAt = oldest;
  }
  const complete = read.seen < limit;
  const dueComplete = complete || read.endsNotDue;
  stats.precision = {
    pending: dueComplete ? stats.precision.pending : 'atLeast',
    scheduled: complete ? stats.precision.scheduled : 'atLeast',
  };
}

/** Statistics sorted by queue name in code-unit order, the same on every database. */
export function sortStats(stats: Iterable<QueueStats>): QueueStats[] {
  return [...stats].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
}
