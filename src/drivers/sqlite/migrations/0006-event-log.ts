/**
 * Schema 6: the durable event log.
 *
 * - `jobwire_events`: one row per transaction that changed jobs or queues, holding that
 *   transaction's events as a JSON array (`entries`), written inside the same transaction.
 *   SQLite has one writer at a time and ids are drawn inside the write transaction, so id order
 *   is commit order; AUTOINCREMENT keeps ids of pruned rows from being reused.
 * - `jobwire_event_jobs`: an R*Tree of each row's smallest and largest job id (one entry per
 *   row, not per job: a batch of 500 outcomes costs one index entry), so one job's timeline reads
 *   only the rows whose id range covers it and filters them.
 * - `jobwire_event_state`: `pruned_through`, the highest row id retention removed, so a cursor
 *   older than it is reported expired instead of silently skipping.
 * - `jobwire_event_subscriptions`: the stored cursor of each durable named subscription.
 */
export const MIGRATION_0006_EVENT_LOG = `
CREATE TABLE jobwire_events (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      INTEGER NOT NULL,
  entries TEXT    NOT NULL
) STRICT;

CREATE VIRTUAL TABLE jobwire_event_jobs USING rtree(id, lo, hi);

CREATE TABLE jobwire_event_state (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  pruned_through INTEGER NOT NULL
) STRICT;
INSERT INTO jobwire_event_state (id, pruned_through) VALUES (1, 0);

CREATE TABLE jobwire_event_subscriptions (
  name       TEXT    PRIMARY KEY,
  cursor     TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
`;
