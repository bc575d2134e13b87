/**
 * Schema 14: the event log's timeline index (the `jobwire_event_jobs` R*Tree) is filled in
 * batches instead of once per row (docs/event-log.md, "Storage and cost").
 *
 * An R*Tree insert dirties about three pages of its own tables, which every commit then writes to
 * the WAL: a quarter of a one-by-one enqueue's time went to it. Each row now carries its job-id
 * range itself (`job_lo`, `job_hi`, written with the row at no extra page), and the write of
 * every `EVENT_INDEX_BATCH`-th row also enters the rows since `indexed_through` into the R*Tree, in
 * the same transaction. A timeline reads the R*Tree for rows up to the mark and the few rows after
 * it directly. Every row written before this schema is already in the R*Tree: the mark starts at
 * the newest of them, and their `job_lo` stays NULL.
 */
export const MIGRATION_0014_EVENT_INDEX_BATCHES = `
ALTER TABLE jobwire_events ADD COLUMN job_lo INTEGER;
ALTER TABLE jobwire_events ADD COLUMN job_hi INTEGER;
ALTER TABLE jobwire_event_state ADD COLUMN indexed_through INTEGER NOT NULL DEFAULT 0;
UPDATE jobwire_event_state SET indexed_through = (SELECT coalesce(max(id), 0) FROM jobwire_events) WHERE id = 1;
`;
