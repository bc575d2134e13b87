/**
 * Schema 6: the durable event log.
 *
 * - `events`: one row per transaction that changed jobs or queues, holding that transaction's
 *   events as a JSON array (`entries`, text: writers build valid JSON, and a json column would
 *   parse every row again to check it), written by the same statement or transaction as the
 *   change. `xid` is the writing transaction's id: readers order the log by commit through the
 *   snapshots in `event_ticks`, never by `id` alone (ids are drawn before commit, so a later id
 *   can commit first). `job_lo`/`job_hi` are the smallest and largest job id of the row's
 *   events; a GiST index of that range finds one job's timeline without reading the log, at one
 *   index entry per row (a per-job index such as GIN on an id array costs one entry per job).
 * - `event_ticks`: snapshots taken one at a time under an advisory lock (after PgQ's ticks). The
 *   events between two ticks are those visible in the later snapshot and not in the earlier one:
 *   a set that never changes once the later tick exists, so a cursor names a position in it.
 *   Tick 0 is taken here; no event row existed before it.
 * - `event_subscriptions`: the stored cursor of each durable named subscription.
 */
export const migration0006EventLog = (s: string): string => `
CREATE TABLE ${s}.events (
  id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  xid     xid8        NOT NULL DEFAULT pg_current_xact_id(),
  at      timestamptz NOT NULL DEFAULT now(),
  job_lo  bigint,
  job_hi  bigint,
  entries text        NOT NULL
);
CREATE INDEX events_xid ON ${s}.events (xid);
CREATE INDEX events_jobs ON ${s}.events USING gist (int8range(job_lo, job_hi, '[]'))
  WHERE job_lo IS NOT NULL;

CREATE TABLE ${s}.event_ticks (
  id       bigint      PRIMARY KEY,
  snapshot pg_snapshot NOT NULL,
  last_id  bigint      NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO ${s}.event_ticks (id, snapshot, last_id) VALUES (0, pg_current_snapshot(), 0);

CREATE TABLE ${s}.event_subscriptions (
  name       text        PRIMARY KEY,
  cursor     text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;
