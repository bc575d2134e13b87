/**
 * The writes that begin a flow-control hold on SQLite (see "Holds" in driver/flow.ts for why a
 * hold is marked per key, once). They run inside the claim's IMMEDIATE transaction, after the
 * claim's reads, so a mark and its `flow:held` entry commit together, and only the claim that
 * set `held_since` (from null) reports the hold. The ends of holds ride on the writes the claim
 * makes anyway (a key's start, its deactivation), in flow.ts.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { EpochMs } from '../../core/types.js';
import type { LogEntry } from '../../driver/event-log.js';
import { type FlowRate, flowHeldEntry, flowHoldLimit } from '../../driver/flow.js';

/** A rule's limits as `flowHoldLimit` reads them. */
interface Limits {
  concurrency: number | null;
  rate: FlowRate | null;
}

/** Build the hold writes of the flow claim (synchronous). */
export function createFlowHolds(db: BetterSqlite3.Database) {
  const markKey = db.prepare(
    'UPDATE jobwire_flow_keys SET held_since = ? WHERE queue = ? AND key = ? AND held_since IS NULL',
  );
  const markQueue = db.prepare(
    `UPDATE jobwire_flow_rules SET held_since = ? WHERE queue = ? AND pattern = '' AND held_since IS NULL`,
  );
  const clearQueue = db.prepare(
    `UPDATE jobwire_flow_rules SET held_since = NULL WHERE queue = ? AND pattern = ''`,
  );
  const runningInQueue = db.prepare(
    `SELECT count(*) AS n FROM jobwire_jobs WHERE state = 'running' AND queue = ?`,
  );
  // Is anything of the queue due? Its unkeyed jobs through the claim index, its keys' through
  // the ready keys (a key's due job is found the way the claim finds its head).
  const unkeyedDue = db.prepare(
    `SELECT 1 FROM jobwire_jobs INDEXED BY jobwire_jobs_claim
     WHERE queue = ? AND state = 'pending' AND concurrency_key IS NULL LIMIT 1`,
  );
  const keyedDue = db.prepare(
    `SELECT 1 FROM jobwire_flow_keys k INDEXED BY jobwire_flow_keys_ready
     WHERE k.queue = ? AND k.active = 1 AND EXISTS (
       SELECT 1 FROM jobwire_jobs INDEXED BY jobwire_jobs_flow_waiting
       WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NOT NULL
         AND queue = k.queue AND concurrency_key = k.key AND state = 'pending')
     LIMIT 1`,
  );

  return {
    /**
     * A key with a due job that its own limit left no room: mark it held unless it is already
     * (the caller passes only keys it read with `held_since` null).
     */
    keyHeld(
      queue: string,
      key: string,
      rule: Limits,
      running: number,
      now: EpochMs,
      events: LogEntry[],
    ): void {
      if (markKey.run(now, queue, key).changes === 1) {
        events.push(flowHeldEntry(queue, key, flowHoldLimit(rule, running), running, now));
      }
    },

    /**
     * A queue whose queue-wide rule left no room: held when something of it is due and it is not
     * held already (`heldSince` as the claim read it). Costs its probes only while unmarked.
     */
    queueHeld(
      queue: string,
      rule: Limits,
      heldSince: number | null,
      runningRead: number,
      now: EpochMs,
      events: LogEntry[],
    ): void {
      if (heldSince !== null) return;
      if (!unkeyedDue.get(queue) && !keyedDue.get(queue)) return;
      // The claim counts running jobs only for a concurrency rule; the event reports them always.
      const running =
        rule.concurrency === null ? (runningInQueue.get(queue) as { n: number }).n : runningRead;
      if (markQueue.run(now, queue).changes === 1) {
        events.push(flowHeldEntry(queue, null, flowHoldLimit(rule, running), running, now));
      }
    },

    /** The queue's hold ends without a start (the caller stores its `flow:unheld`). */
    queueCleared(queue: string): void {
      clearQueue.run(queue);
    },
  };
}
