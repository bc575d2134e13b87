/**
 * Schema 18: the event log's row ids without AUTOINCREMENT.
 *
 * AUTOINCREMENT keeps the highest id ever drawn in `sqlite_sequence`, and every insert updates
 * that row: one more page written to the WAL by every transaction that logs events — each claim
 * and each finalize — and read back and written again by the checkpoint. A fresh worker draining
 * 50,000 jobs made 28,782 `pwrite` calls with it and 27,204 without (23,068 with the log off),
 * and synced 108 times against 90 (bench/results/2026-12-04-s38-event-log.md).
 *
 * Without it SQLite draws max(id) + 1, so an id is never reused as long as the newest row stays:
 * the prune removes every row but the newest and empties that one instead (events.ts), which
 * keeps the ids growing and every cursor meaning what it meant. The table is rebuilt with its
 * rows and ids as they are; a log pruned empty keeps its highest id as an empty row, so the next
 * row's id is still above every cursor handed out.
 */
export const MIGRATION_0018_EVENT_IDS_WITHOUT_AUTOINCREMENT = `
CREATE TABLE jobwire_events_rebuilt (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  entries TEXT    NOT NULL,
  job_lo  INTEGER,
  job_hi  INTEGER
) STRICT;
INSERT INTO jobwire_events_rebuilt (id, at, entries, job_lo, job_hi)
  SELECT id, at, entries, job_lo, job_hi FROM jobwire_events;
-- The highest id drawn, when the rows holding it were pruned: kept as an empty row (at 0: older
-- than any retention, it is emptied again at each prune and stays until a newer row exists).
INSERT INTO jobwire_events_rebuilt (id, at, entries)
  SELECT seq, 0, '[]' FROM sqlite_sequence
  WHERE name = 'jobwire_events' AND seq > (SELECT coalesce(max(id), 0) FROM jobwire_events);
DROP TABLE jobwire_events;
ALTER TABLE jobwire_events_rebuilt RENAME TO jobwire_events;
`;
