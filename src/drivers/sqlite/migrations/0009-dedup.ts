/**
 * Schema 9: deduplication rules (unique with finished states, throttle, debounce). (8 and 10 are
 * other changes.)
 *
 * - `dedup`: the rule a job was enqueued with, as JSON (null for none and for a plain unique key).
 * - `dedup_key`: the key of a throttle or debounce rule; its partial index holds only such jobs,
 *   so jobs without one pay nothing.
 * - A partial index of finished jobs by unique key: a unique rule that also matches finished
 *   jobs looks them up through it. Unique jobs already hold their key in `unique_key`.
 */
export const MIGRATION_0009_DEDUP = `
ALTER TABLE jobwire_jobs ADD COLUMN dedup TEXT CHECK (dedup IS NULL OR json_valid(dedup));
ALTER TABLE jobwire_jobs ADD COLUMN dedup_key TEXT;

CREATE INDEX jobwire_jobs_dedup_key ON jobwire_jobs (dedup_key, id) WHERE dedup_key IS NOT NULL;

CREATE INDEX jobwire_jobs_unique_key_finished ON jobwire_jobs (unique_key, finished_at)
  WHERE unique_key IS NOT NULL AND state IN ('completed', 'abandoned', 'cancelled');
`;
