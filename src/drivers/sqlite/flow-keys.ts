/**
 * Marking a concurrency key as having waiting work when one of its jobs is inserted `pending` or
 * `scheduled`, or comes back to one of them from a finished or blocked state (docs/flow-control.md:
 * the claim only looks at keys marked active). The writes that do so mark the key themselves, in
 * their transaction — the insert (jobs.ts), a retry, a dependency's release — since schema 15
 * took schema 8's triggers off the hot path (see migrations/0015-flow-key-marks.ts).
 */
import type BetterSqlite3 from 'better-sqlite3';

const keyMarkers = new WeakMap<BetterSqlite3.Database, (queue: string, key: string) => void>();

/**
 * `mark(queue, key)`: that key has waiting work — a job of it was just inserted, retried or
 * released `pending` or `scheduled`. Call it in the transaction that wrote the job.
 */
export function keyMarker(db: BetterSqlite3.Database): (queue: string, key: string) => void {
  let mark = keyMarkers.get(db);
  if (!mark) {
    const upsert = db.prepare(
      `INSERT INTO jobwire_flow_keys (queue, key, active) VALUES (?, ?, 1)
       ON CONFLICT (queue, key) DO UPDATE SET active = 1 WHERE active = 0`,
    );
    mark = (queue, key) => {
      upsert.run(queue, key);
    };
    keyMarkers.set(db, mark);
  }
  return mark;
}
