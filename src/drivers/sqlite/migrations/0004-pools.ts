/**
 * Schema 4: the pool registry. Every running pool keeps one row here, refreshed on its own
 * heartbeat, so any process can list who is working; the leader removes rows whose pool stopped
 * refreshing them (the process died) and reports each as `pool:lost`. `heartbeat_seq` grows with
 * every refresh: as for leases (schema 2), the reaper judges silence by watching it on its own
 * monotonic clock, never by comparing `last_seen_at` (another process's wall clock) with its own.
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
  last_seen_at INTEGER NOT NULL,
  heartbeat_seq INTEGER NOT NULL DEFAULT 0
) STRICT;
`;
