/**
 * Schema 17: the unique-key indexes' state conditions are written as equalities, not IN lists:
 * `jobwire_jobs_unique_key` (one active job per key) and `jobwire_jobs_unique_key_finished` (the
 * finished holders a dedup rule looks back at).
 *
 * SQLite tests a partial index's condition on every write that changes a column it reads, and it
 * evaluates an IN list of more than two constants through a temporary index built once per
 * statement execution (see 0016): every claim and finalize of a job with a unique key built two.
 * Claim and finalize of keyed jobs in a loop over jobwire's table: 21.4–23.3 → 15.4–18.5 µs per
 * job (three runs; the finalize 11.9–13.0 → 6.9–8.2). SQLite uses a partial index only for a
 * query that names its condition, so the queries name exactly this text (`activeStateSql`,
 * `finishedStateSql` in context.ts; test/sqlite-unique-key-plans.test.ts checks the plans).
 * The indexes are created again: a pass over the table, once.
 */
export const MIGRATION_0017_UNIQUE_KEY_PREDICATES = `
DROP INDEX jobwire_jobs_unique_key;
CREATE UNIQUE INDEX jobwire_jobs_unique_key ON jobwire_jobs (unique_key)
  WHERE unique_key IS NOT NULL AND (state = 'scheduled' OR state = 'pending' OR state = 'running');
DROP INDEX jobwire_jobs_unique_key_finished;
CREATE INDEX jobwire_jobs_unique_key_finished ON jobwire_jobs (unique_key, finished_at)
  WHERE unique_key IS NOT NULL AND (state = 'completed' OR state = 'abandoned' OR state = 'cancelled');
`;
