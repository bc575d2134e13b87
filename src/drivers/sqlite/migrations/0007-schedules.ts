/**
 * Schema 7: schedules. (6 is the durable event log, another change.) One row per schedule: its
 * definition (the core's JSON) and its durable state — the next tick and the job already
 * enqueued for it, the last tick that fired — advanced with compare-and-set on `version` in the
 * same transaction as the job insert, so a tick becomes exactly one job across processes.
 */
export const MIGRATION_0007_SCHEDULES = `
CREATE TABLE jobwire_schedules (
  id            TEXT    PRIMARY KEY,
  definition    TEXT    NOT NULL CHECK (json_valid(definition)),
  version       INTEGER NOT NULL,
  paused        INTEGER NOT NULL DEFAULT 0,
  next_tick_at  INTEGER,
  next_job_id   TEXT,
  last_tick_at  INTEGER,
  last_job_id   TEXT,
  last_fired_at INTEGER,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;

-- The leader's "which schedules are due" read: only active schedules are in it.
CREATE INDEX jobwire_schedules_due ON jobwire_schedules (next_tick_at)
  WHERE paused = 0 AND next_tick_at IS NOT NULL;
`;
