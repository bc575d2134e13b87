/**
 * Rebuilding `jobwire_jobs` with a changed definition: SQLite cannot alter a table's constraints,
 * so a migration that must (schema 10, schema 16) creates the table anew from its stored DDL as
 * changed by `rewrite` — built from `sqlite_master` at migration time, not written out, so the
 * columns, constraints and states other migrations added survive — copies every row, creates
 * every index and trigger of the table again from its stored SQL, and keeps the AUTOINCREMENT
 * high-water mark so no id is ever reused. Runs inside the migration's transaction.
 */
import type BetterSqlite3 from 'better-sqlite3';

/** The SQL that rebuilds `jobwire_jobs` with its CREATE TABLE statement passed through `rewrite`. */
export function rebuildJobsTableSql(
  db: BetterSqlite3.Database,
  rewrite: (tableSql: string) => string,
): string {
  const table = db
    .prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobwire_jobs'`)
    .get() as { sql: string };
  const createNew = rewrite(table.sql).replace(
    /^CREATE TABLE\s+("?)jobwire_jobs\1/i,
    'CREATE TABLE jobwire_jobs_rebuilt',
  );
  const dependents = db
    .prepare(
      `SELECT sql FROM sqlite_master WHERE tbl_name = 'jobwire_jobs' AND type IN ('index', 'trigger') AND sql IS NOT NULL`,
    )
    .all() as { sql: string }[];
  const seq = db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'jobwire_jobs'`).get() as
    | { seq: number }
    | undefined;
  return `
${createNew};
INSERT INTO jobwire_jobs_rebuilt SELECT * FROM jobwire_jobs;
DROP TABLE jobwire_jobs;
ALTER TABLE jobwire_jobs_rebuilt RENAME TO jobwire_jobs;
${dependents.map((d) => `${d.sql};`).join('\n')}
DELETE FROM sqlite_sequence WHERE name = 'jobwire_jobs';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'jobwire_jobs', max(coalesce(max(id), 0), ${seq?.seq ?? 0}) FROM jobwire_jobs;
`;
}
