/**
 * Schema 4: the pool registry. Every running pool keeps one row here, refreshed on its own
 * heartbeat, so any process can list who is working; the leader removes rows whose pool stopped
 * refreshing them (the process died) and reports each as `pool:lost`.
 */
export const migration0004Pools = (s: string): string => `
CREATE TABLE ${s}.pools (
  pool_id      text        PRIMARY KEY,
  host         text        NOT NULL,
  pid          integer     NOT NULL,
  queues       text[]      NOT NULL,
  concurrency  integer     NOT NULL,
  busy         integer     NOT NULL,
  state        text        NOT NULL,
  heartbeat_ms integer     NOT NULL,
  version      text,
  started_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
`;
