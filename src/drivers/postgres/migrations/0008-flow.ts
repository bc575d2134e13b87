/**
 * Schema 8: flow control (concurrency limits, rate limits, fairness; docs/flow-control.md).
 *
 * - `concurrency_key` on jobs. Keyed jobs leave the claim index (its predicate now excludes them)
 *   and wait in their own index, reached one key at a time through `flow_keys`, so a key held by
 *   its limit is never scanned past by claims of other work.
 * - A running job IS its slot: the claim counts a key's running jobs through a small partial
 *   index, in a statement that starts after it locked the key row (so every earlier claim of the
 *   key is visible to it). Every path that ends, releases, cancels, rescues or deletes a running
 *   job changes its state in its own fenced write, so the slot goes with that write; nothing
 *   expires by time, and those writes never touch a shared counter (no lock-order deadlocks).
 * - `flow_rules`: limits per queue (pattern '') or per key pattern (exact, `prefix*`, `*`), with
 *   the GCRA state of a queue-wide rate limit (`tat`, the theoretical arrival time in epoch ms).
 * - `flow_keys`: one row per (queue, key) with its GCRA state and last start, the fairness order.
 *   `active` rows are keys that may have work: an insert of keyed jobs upserts their keys (in the
 *   insert statement, sorted), and a trigger reactivates a key when a finished job of it waits
 *   again (a retry). The upsert always locks the key row (ON CONFLICT DO UPDATE does, even
 *   when its WHERE is false), so it waits for, or is skipped by, a claim holding that row: a
 *   claim deactivating a key it saw empty can never miss a job inserted concurrently.
 */
export const migration0008Flow = (s: string): string => `
ALTER TABLE ${s}.jobs ADD COLUMN concurrency_key text;

DROP INDEX ${s}.jobs_claim;
CREATE INDEX jobs_claim ON ${s}.jobs (queue, priority DESC, run_at, id)
  WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NULL;

CREATE INDEX jobs_flow_waiting ON ${s}.jobs (queue, concurrency_key, priority DESC, run_at, id)
  WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NOT NULL;

CREATE INDEX jobs_flow_running ON ${s}.jobs (queue, concurrency_key)
  WHERE state = 'running' AND concurrency_key IS NOT NULL;

CREATE TABLE ${s}.flow_rules (
  queue            text        NOT NULL,
  pattern          text        NOT NULL,
  concurrency      integer,
  rate_limit       integer,
  rate_interval_ms bigint,
  rate_burst       integer,
  tat              float8,
  last_started_at  timestamptz,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (queue, pattern)
);

CREATE TABLE ${s}.flow_keys (
  queue           text        NOT NULL,
  key             text        NOT NULL,
  active          boolean     NOT NULL DEFAULT true,
  tat             float8,
  last_started_at timestamptz,
  PRIMARY KEY (queue, key)
);

CREATE INDEX flow_keys_ready ON ${s}.flow_keys (queue, last_started_at NULLS FIRST, key) WHERE active;

CREATE FUNCTION ${s}.flow_key_waiting() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO ${s}.flow_keys AS k (queue, key, active) VALUES (NEW.queue, NEW.concurrency_key, true)
  ON CONFLICT (queue, key) DO UPDATE SET active = true WHERE NOT k.active;
  RETURN NULL;
END
$fn$;

-- Inserts mark their keys themselves, in one sorted upsert per batch (jobs-insert.ts): a
-- per-row trigger would lock key rows in batch order, and two batches could deadlock.
CREATE TRIGGER flow_key_waiting AFTER UPDATE OF state ON ${s}.jobs FOR EACH ROW
  WHEN (NEW.concurrency_key IS NOT NULL AND NEW.state IN ('pending', 'scheduled')
        AND OLD.state NOT IN ('pending', 'scheduled', 'running'))
  EXECUTE FUNCTION ${s}.flow_key_waiting();
`;
