/**
 * Marking a concurrency key as having waiting work when one of its jobs is inserted `pending` or
 * `scheduled`, or comes back to one of them from a finished or blocked state (docs/flow-control.md:
 * the claim only looks at keys marked active). The writes that do so mark the key themselves, in
 * their transaction — the insert (jobs.ts), a retry, a dependency's release — since schema 15
 * took schema 8's triggers off the hot path (see migrations/0015-flow-key-marks.ts).
 */
import type BetterSqlite3 from 'better-sqlite3';

const markers = new WeakMap<BetterSqlite3.Database, (jobId: number) => void>();
const keyMarkers = new WeakMap<BetterSqlite3.Database, (queue: string, key: string) => void>();

const UPSERT_ACTIVE = 'ON CONFLICT (queue, key) DO UPDATE SET active = 1 WHERE active = 0';

/** `mark(queue, key)`: that key has waiting work (a job of it was just inserted waiting). */
export function keyMarker(db: BetterSqlite3.Database): (queue: string, key: string) => void {
  let mark = keyMarkers.get(db);
  if (!mark) {
    const upsert = db.prepare(
      `INSERT INTO jobwire_flow_keys (queue, key, active) VALUES (?, ?, 1) ${UPSERT_ACTIVE}`,
    );
    mark = (queue, key) => {
      upsert.run(queue, key);
    };
    keyMarkers.set(db, mark);
  }
  return mark;
}

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
       ${UPSERT_ACTIVE}`,
    );
    mark = (jobId) => {
      upsert.run(jobId);
    };
    markers.set(db, mark);
  }
  return mark;
}
