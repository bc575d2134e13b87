/**
 * Schema 6: the durable event log.
 *
 * - `jobwire_events`: one row per transaction that changed jobs or queues, holding that
 *   transaction's events as a JSON array (`entries`), written inside the same transaction.
 *   SQLite has one writer at a time and ids are drawn inside the write transaction, so id order
 *   is commit order; AUTOINCREMENT keeps ids of pruned rows from being reused.
 * - `jobwire_event_jobs`: which rows name which job, for one job's timeline (keyed by row, so
 *   pruning deletes a range; the index by job serves the timeline).
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

CREATE TABLE jobwire_event_jobs (
  event_id INTEGER NOT NULL,
  job_id   INTEGER NOT NULL,
  PRIMARY KEY (event_id, job_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX jobwire_event_jobs_job ON jobwire_event_jobs (job_id);

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
