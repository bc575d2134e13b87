/**
 * Schema 9: deduplication rules (unique with finished states, throttle, debounce). (8 and 10 are
 * other changes.)
 *
 * - `dedup`: the rule a job was enqueued with (null for none and for a plain unique key).
 * - `dedup_key`: the key of a throttle or debounce rule; its partial index holds only such jobs,
 *   so jobs without one pay nothing.
 * - A partial index of finished jobs by unique key: a unique rule that also matches finished
 *   jobs looks them up through it. Unique jobs already hold their key in `unique_key`.
 */
export const migration0009Dedup = (s: string): string => `
ALTER TABLE ${s}.jobs ADD COLUMN dedup json, ADD COLUMN dedup_key text;

CREATE INDEX jobs_dedup_key ON ${s}.jobs (dedup_key, id) WHERE dedup_key IS NOT NULL;

CREATE INDEX jobs_unique_key_finished ON ${s}.jobs (unique_key, finished_at)
  WHERE unique_key IS NOT NULL AND state IN ('completed', 'abandoned', 'cancelled');
`;
