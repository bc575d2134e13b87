/**
 * Schema 16: the state CHECK of `jobwire_jobs` is written as a chain of equalities,
 * `CHECK (state = 'blocked' OR state = 'scheduled' OR …)`, instead of `state IN ('blocked', …)`.
 *
 * SQLite evaluates an IN list of more than two constants through a temporary index of the list,
 * built once per execution of the statement. Every write that sets `state` is checked, and the
 * hot ones are executions of one row each (an insert, a finalize): each built the temporary index
 * for that one row. Finalizing one job 6.2–6.7 → 4.3–4.5 µs, a claim of 500 0.7–0.9 µs less per
 * job (loops over jobwire's table, three runs each). The same states are allowed; SQLite cannot
 * alter a CHECK, so the table is rebuilt (rebuild-jobs.ts), as schema 10 did: once, when a
 * process of this version first opens the file, about 3.3 s per million rows here (a file of
 * 1,000,000 jobs at schema 14 migrated to 16).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { STATE_CHECK } from './0010-dependencies.js';
import { rebuildJobsTableSql } from './rebuild-jobs.js';

/** The migration's SQL for the database as it is now: nothing when the CHECK is already a chain. */
export function migration0016StateCheck(db: BetterSqlite3.Database): string {
  const table = db
    .prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobwire_jobs'`)
    .pluck()
    .get() as string;
  if (!STATE_CHECK.test(table)) return '';
  return rebuildJobsTableSql(db, (sql) =>
    sql.replace(STATE_CHECK, (_, list: string) => {
      const states = list.split(',').map((state) => `state = ${state.trim()}`);
      return `CHECK (${states.join(' OR ')})`;
    }),
  );
}
