/**
 * Schema 11: finished jobs indexed by state, then finish time. (8–10 are flow control, another
 * change.)
 *
 * The finish-time index of schema 5 held every finished state in one order, so a prune of
 * completed jobs walked past every kept abandoned or cancelled job that finished earlier — with
 * the default retention (abandoned kept 30 days, completed 1 day) that is a month of dead
 * letters read again by every batch, ~0.1–0.2 s per statement at 300,000 of them, on SQLite's
 * (the event loop's) thread. Keyed by state first, a prune of one state reads only that state's
 * oldest rows. The queue rides along, so a per-queue retention rule and `queueCounts` check it
 * in the index without reading the row (abandoned jobs are scattered over the table: 10,000
 * row reads took 25–140 ms). It replaces the old index rather than adding one: a job still
 * enters it once, when it finishes, so the hot path writes no more index entries than before.
 * Readers of a time window over all finished states name the states (`state IN (…)`), which
 * the index serves range by range.
 */
export const MIGRATION_0011_FINISHED_BY_STATE = `
DROP INDEX jobwire_jobs_finished;
CREATE INDEX jobwire_jobs_finished ON jobwire_jobs (state, finished_at, queue) WHERE finished_at IS NOT NULL;
`;
