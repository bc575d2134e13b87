/**
 * Schema 10: job dependencies (8 and 9 are flow limits and unique jobs, other changes).
 *
 * - state `blocked`: a job waiting for its dependencies. SQLite cannot alter a CHECK constraint,
 *   so `jobwire_jobs` is rebuilt. The new table's DDL is the stored one with `'blocked'` added to
 *   the state list — built from `sqlite_master` at migration time, not written out here, so
 *   columns, constraints and states added by other migrations (before or after this one is
 *   merged) survive; every index and trigger of the table is created again from its stored SQL,
 *   and the AUTOINCREMENT high-water mark is kept so no id is ever reused.
 * - `dependencies_waiting`: on a dependent, how many of its edges still hold it (waiting or
 *   stuck); the write that brings it to 0 makes the job due. A counter on the dependent's row,
 *   not a count of edges, because two dependencies completing at once in two processes must both
 *   see each other's decrement (on PostgreSQL the row lock orders them; a count of edges read
 *   from two snapshots would leave the job blocked).
 * - `dependents`: on a dependency, how many edges name it. Finalizing a job with 0 skips the
 *   edge table entirely, so jobs without dependents pay nothing.
 * - `jobwire_dependencies`: the edges, with each edge's failure policy and state (see
 *   src/driver/dependencies.ts for the state machine).
 *
 * No index of blocked jobs: like every other state on SQLite (see 0001), listing them walks ids.
 * A partial index on `state = 'blocked'` is never written by a job that is not blocked, but
 * SQLite still tests its predicate on every state change: 0.17 µs of a 2 µs finalize, measured.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { rebuildJobsTableSql } from './rebuild-jobs.js';

/** The state list's CHECK as schema 1 wrote it (schema 16 rewrites it; see there). */
export const STATE_CHECK = /CHECK\s*\(\s*state\s+IN\s*\(([^)]*)\)\s*\)/i;

/** The migration's SQL for the database as it is now (see the module comment). */
export function migration0010Dependencies(db: BetterSqlite3.Database): string {
  const rebuild = rebuildJobsTableSql(db, (table) => {
    const check = STATE_CHECK.exec(table);
    if (!check) throw new Error('jobwire: migration 10 cannot find the state CHECK of jobwire_jobs');
    const states = check[1]!.includes("'blocked'") ? check[1]! : `'blocked', ${check[1]!}`;
    return table.replace(STATE_CHECK, `CHECK (state IN (${states}))`);
  });
  return `${rebuild}
ALTER TABLE jobwire_jobs ADD COLUMN dependencies_waiting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobwire_jobs ADD COLUMN dependents INTEGER NOT NULL DEFAULT 0;

CREATE TABLE jobwire_dependencies (
  job_id     INTEGER NOT NULL,
  depends_on INTEGER NOT NULL,
  on_failure TEXT    NOT NULL CHECK (on_failure IN ('cancel', 'run', 'block')),
  state      TEXT    NOT NULL CHECK (state IN ('waiting', 'stuck', 'done', 'ignored', 'cancelled')),
  PRIMARY KEY (job_id, depends_on)
) STRICT, WITHOUT ROWID;

-- A dependency's edges, read when it finishes, is cancelled or is deleted.
CREATE INDEX jobwire_dependencies_depends_on ON jobwire_dependencies (depends_on);
`;
}
