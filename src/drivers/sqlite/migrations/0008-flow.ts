/**
 * Schema 8: flow control (concurrency limits, rate limits, fairness; docs/flow-control.md).
 *
 * - `concurrency_key` on jobs. Keyed jobs leave the claim index (its predicate now excludes them)
 *   and wait in their own index, reached one key at a time through `jobwire_flow_keys`, so a key
 *   held by its limit is never scanned past by claims of other work.
 * - A running job IS its slot: the claim counts a key's running jobs through a small partial
 *   index. Every path that ends, releases, cancels, rescues or deletes a running job changes its
 *   state in its own fenced write, so the slot goes with that write; nothing expires by time.
 * - `jobwire_flow_rules`: limits per queue (pattern '') or per key pattern (exact, `prefix*`, `*`),
 *   with the GCRA state of a queue-wide rate limit (`tat`, the theoretical arrival time in ms).
 * - `jobwire_flow_keys`: one row per (queue, key) with its GCRA state and last start, the
 *   fairness order. `active` rows are the keys that may have work; triggers (re)activate a key
 *   whenever one of its jobs starts waiting, and a claim deactivates a key it finds with nothing
 *   waiting and nothing running (claims are serialised on SQLite, so the two never race).
 */
export const MIGRATION_0008_FLOW = `
ALTER TABLE jobwire_jobs ADD COLUMN concurrency_key TEXT;

DROP INDEX jobwire_jobs_claim;
CREATE INDEX jobwire_jobs_claim ON jobwire_jobs (queue, priority DESC, run_at, id)
  WHERE state = 'pending' AND concurrency_key IS NULL;

CREATE INDEX jobwire_jobs_flow_waiting ON jobwire_jobs (queue, concurrency_key, priority DESC, run_at, id)
  WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NOT NULL;

CREATE INDEX jobwire_jobs_flow_running ON jobwire_jobs (queue, concurrency_key)
  WHERE state = 'running' AND concurrency_key IS NOT NULL;

CREATE TABLE jobwire_flow_rules (
  queue            TEXT    NOT NULL,
  pattern          TEXT    NOT NULL,
  concurrency      INTEGER,
  rate_limit       INTEGER,
  rate_interval_ms INTEGER,
  rate_burst       INTEGER,
  tat              REAL,
  last_started_at  INTEGER,
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (queue, pattern)
) STRICT;

CREATE TABLE jobwire_flow_keys (
  queue           TEXT    NOT NULL,
  key             TEXT    NOT NULL,
  active          INTEGER NOT NULL DEFAULT 1,
  tat             REAL,
  last_started_at INTEGER,
  PRIMARY KEY (queue, key)
) STRICT;

CREATE INDEX jobwire_flow_keys_ready ON jobwire_flow_keys (queue, last_started_at, key) WHERE active = 1;

CREATE TRIGGER jobwire_flow_key_inserted AFTER INSERT ON jobwire_jobs
  WHEN NEW.concurrency_key IS NOT NULL AND NEW.state IN ('pending', 'scheduled')
BEGIN
  INSERT INTO jobwire_flow_keys (queue, key, active) VALUES (NEW.queue, NEW.concurrency_key, 1)
  ON CONFLICT (queue, key) DO UPDATE SET active = 1 WHERE active = 0;
END;

CREATE TRIGGER jobwire_flow_key_waiting AFTER UPDATE OF state ON jobwire_jobs
  WHEN NEW.concurrency_key IS NOT NULL AND NEW.state IN ('pending', 'scheduled')
   AND OLD.state NOT IN ('pending', 'scheduled', 'running')
BEGIN
  INSERT INTO jobwire_flow_keys (queue, key, active) VALUES (NEW.queue, NEW.concurrency_key, 1)
  ON CONFLICT (queue, key) DO UPDATE SET active = 1 WHERE active = 0;
END;
`;
