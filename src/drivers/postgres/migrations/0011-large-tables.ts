/**
 * Schema 11: counts and pruning on large tables. (8–10 are flow control, another change.)
 *
 * - `jobs_queue_state`: planner statistics of jobs by (queue, state). `queueCounts` estimates
 *   the counts it cannot read within its cap from them: the share of each pair in ANALYZE's
 *   sample. No write maintains them (ANALYZE, autovacuum's or an operator's, builds them).
 * - `jobs_finished` keyed by state, then finish time, with the queue (checked by per-queue
 *   rules and read by `queueCounts` from the index): the finish-time index of schema 5 held
 *   every finished state in one order, so a prune of completed jobs walked past every kept
 *   abandoned or cancelled job that finished earlier (with the default retention, a month of
 *   dead letters read again by every batch). It replaces the old index: a job still enters it
 *   once, when it finishes, so the hot path writes no more than before.
 */
export const migration0011LargeTables = (s: string): string => `
CREATE STATISTICS ${s}.jobs_queue_state (mcv) ON queue, state FROM ${s}.jobs;
DROP INDEX ${s}.jobs_finished;
CREATE INDEX jobs_finished ON ${s}.jobs (state, finished_at, queue) WHERE finished_at IS NOT NULL;
`;
