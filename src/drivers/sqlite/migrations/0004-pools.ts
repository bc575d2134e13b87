/**
 * Schema 4: the pool registry. Every running pool keeps one row here, refreshed on its own
 * heartbeat, so any process can list who is working; the leader removes rows whose pool stopped
 * refreshing them (the process died) and reports each as `pool:lost`.
 */
export const MIGRATION_0004_POOLS = `
CREATE TABLE jobwire_pools (
  pool_id      TEXT    PRIMARY KEY,
  host         TEXT    NOT NULL,
  pid          INTEGER NOT NULL,
  queues       TEXT    NOT NULL CHECK (json_valid(queues)),
  concurrency  INTEGER NOT NULL,
  busy         INTEGER NOT NULL,
  state        TEXT    NOT NULL,
  heartbeat_ms INTEGER NOT NULL,
  version      TEXT,
  started_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) STRICT;
`;
