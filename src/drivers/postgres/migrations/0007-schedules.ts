/**
 * Schema 7: schedules. (6 is the durable event log, another change.) One row per schedule: its
 * definition (the core's JSON, kept as written) and its durable state — the next tick and the
 * job already enqueued for it, the last tick that fired — advanced with compare-and-set on
 * `version` in the same transaction as the job insert, so a tick becomes exactly one job.
 */
export const migration0007Schedules = (s: string): string => `
CREATE TABLE ${s}.schedules (
  id            text        PRIMARY KEY,
  definition    json        NOT NULL,
  version       integer     NOT NULL,
  paused        boolean     NOT NULL DEFAULT false,
  next_tick_at  timestamptz,
  next_job_id   bigint,
  last_tick_at  timestamptz,
  last_job_id   bigint,
  last_fired_at timestamptz,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

-- The leader's "which schedules are due" read: only active schedules are in it.
CREATE INDEX schedules_due ON ${s}.schedules (next_tick_at) WHERE NOT paused AND next_tick_at IS NOT NULL;
`;
