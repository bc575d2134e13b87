/**
 * The first schema. Kept as a TypeScript string so the build needs no file copying.
 *
 * Times are INTEGER epoch ms; JSON columns are TEXT. Tables are STRICT so a stray float or
 * string in an INTEGER column fails loudly instead of breaking comparisons later.
 */
export const MIGRATION_0001_INITIAL = `
CREATE TABLE jobwire_jobs (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  task             TEXT    NOT NULL,
  queue            TEXT    NOT NULL,
  payload          TEXT    NOT NULL CHECK (json_valid(payload)),
  state            TEXT    NOT NULL
                   CHECK (state IN ('scheduled', 'pending', 'running', 'completed', 'abandoned', 'cancelled')),
  priority         INTEGER NOT NULL DEFAULT 0,
  attempt          INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL,
  run_at           INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  finished_at      INTEGER,
  lease_expires_at INTEGER,
  -- The fencing token: +1 on every claim, never reset, so a stale worker's write cannot match.
  lease_token      INTEGER NOT NULL DEFAULT 0,
  worker_id        TEXT,
  result           TEXT,
  errors           TEXT    NOT NULL DEFAULT '[]',
  progress         TEXT,
  unique_key       TEXT,
  correlation_id   TEXT    NOT NULL,
  metadata         TEXT    NOT NULL DEFAULT '{}',
  timeout_ms       INTEGER,
  backoff          TEXT
) STRICT;

-- The claim query walks this in ORDER BY order and stops at LIMIT. Only due ('pending') jobs are
-- in it: with future jobs mixed in, a claim would filter its way past every one of them.
CREATE INDEX jobwire_jobs_claim ON jobwire_jobs (queue, priority DESC, run_at, id)
  WHERE state = 'pending';

-- Scheduled jobs by due time: each claim first moves the due ones to 'pending' with one range read.
CREATE INDEX jobwire_jobs_scheduled ON jobwire_jobs (run_at) WHERE state = 'scheduled';

-- At most one active job per unique key; finished jobs free the key.
CREATE UNIQUE INDEX jobwire_jobs_unique_key ON jobwire_jobs (unique_key)
  WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'pending', 'running');

-- Rescue reads running jobs by lease expiry. There is no general (state, …) index: every index
-- whose key or predicate holds the state is written on both state changes of every job, and
-- that costs about a fifth of the claim-and-finish path. Listing by state walks ids newest
-- first; counts scan the table.
CREATE INDEX jobwire_jobs_running ON jobwire_jobs (lease_expires_at) WHERE state = 'running';

CREATE TABLE jobwire_queues (
  name       TEXT    PRIMARY KEY,
  paused     INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE jobwire_leaders (
  name       TEXT    PRIMARY KEY,
  owner_id   TEXT    NOT NULL,
  elected_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
`;
