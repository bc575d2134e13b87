/**
 * Marking a concurrency key as having waiting work when one of its jobs comes back to `pending`
 * or `scheduled` from a finished or blocked state (docs/flow-control.md: the claim only looks at
 * keys marked active). Inserts are marked by a trigger (schema 8); the moves back are marked here
 * by the writes that make them — a retry, a dependency's release — since schema 15 took the
 * update trigger off the hot path (see migrations/0015-flow-key-marks.ts).
 */
import type BetterSqlite3 from 'better-sqlite3';

const markers = new WeakMap<BetterSqlite3.Database, (jobId: number) => void>();

/**
 * `mark(jobId)`: if that job is keyed and waiting (`pending` or `scheduled`), its key is active.
 * Call it in the transaction that moved the job, after the move.
 */
export function keyWaitingMarker(db: BetterSqlite3.Database): (jobId: number) => void {
  let mark = markers.get(db);
  if (!mark) {
    const upsert = db.prepare(
      `INSERT INTO jobwire_flow_keys (queue, key, active)
       SELECT queue, concurrency_key, 1 FROM jobwire_jobs
       WHERE id = ? AND concurrency_key IS NOT NULL AND state IN ('pending', 'scheduled')
       ON CONFLICT (queue, key) DO UPDATE SET active = 1 WHERE active = 0`,
    );
    mark = (jobId) => {
      upsert.run(jobId);
    };
    markers.set(db, mark);
  }
  return mark;
}
