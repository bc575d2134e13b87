/** Prepared statements kept per SQL text, for methods whose statement depends on their filters. */
import type BetterSqlite3 from 'better-sqlite3';

/**
 * A function that prepares `sql` on `db` the first time it sees it and returns the same statement
 * after (preparing costs as much as running a small statement; the shapes are few).
 */
export function statementCache(db: BetterSqlite3.Database): (sql: string) => BetterSqlite3.Statement {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}
