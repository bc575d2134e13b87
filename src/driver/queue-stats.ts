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
  };
}
