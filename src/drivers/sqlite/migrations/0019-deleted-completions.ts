/**
 * Schema 19: counts of completed jobs whose rows were deleted as they completed (retention
 * `completed: 'immediately'`), so `queueStats` — and the health monitor, metrics and dashboard
 * built on it — still count them. One row per queue and second (`shard` is always 0 here: one
 * writer at a time; the column keeps the table the same as PostgreSQL's). Rows past a day are
 * deleted by the leader's pruner.
 */
export const MIGRATION_0019_DELETED_COMPLETIONS = `
CREATE TABLE jobwire_deleted_completions (
  queue     TEXT    NOT NULL,
  at_second INTEGER NOT NULL,
  shard     INTEGER NOT NULL,
  n         INTEGER NOT NULL,
  PRIMARY KEY (at_second, queue, shard)
) STRICT, WITHOUT ROWID;
`;
