/**
 * The first schema. Kept as TypeScript so the build needs no file copying; `s` is the quoted
 * schema name.
 *
 * Times are timestamptz holding whole milliseconds. Payload, result, progress, metadata and
 * backoff are `json`, which keeps the text exactly as written (key order included, as SQLite
 * does); `errors` is `jsonb` because it is only ever appended to.
 */
export const migration0001Initial = (s: string): string => `
CREATE TABLE ${s}.jobs (
  id               bigint      GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME ${s}.jobs_id_seq) PRIMARY KEY,
  task             text        NOT NULL,
  queue            text        NOT NULL,
  payload          json        NOT NULL,
  state            text        NOT NULL
                   CHECK (state IN ('scheduled', 'pending', 'running', 'completed', 'abandoned', 'cancelled')),
  priority         integer     NOT NULL DEFAULT 0,
  attempt          integer     NOT NULL DEFAULT 0,
  max_attempts     integer     NOT NULL,
  run_at           timestamptz NOT NULL,
  created_at       timestamptz NOT NULL,
  started_at       timestamptz,
  finished_at      timestamptz,
  lease_expires_at timestamptz,
  -- The fencing token: +1 on every claim, never reset, so a stale worker's write cannot match.
  lease_token      bigint      NOT NULL DEFAULT 0,
  worker_id        text,
  result           json,
  errors           jsonb       NOT NULL DEFAULT '[]'::jsonb,
  progress         json,
  unique_key       text,
  correlation_id   text        NOT NULL,
  metadata         json        NOT NULL DEFAULT '{}'::json,
  timeout_ms       bigint,
  backoff          json
);

-- The claim query walks this in ORDER BY order and stops at LIMIT; finished jobs stay out of it.
CREATE INDEX jobs_claim ON ${s}.jobs (queue, priority DESC, run_at, id)
  WHERE state IN ('pending', 'scheduled');

-- At most one active job per unique key; finished jobs free the key. Inserts name this
-- predicate in ON CONFLICT, so it must not change without changing them.
CREATE UNIQUE INDEX jobs_unique_key ON ${s}.jobs (unique_key)
  WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'pending', 'running');

-- Every index a state change touches is one more write on the hottest path (two state changes
-- per job), so there is no general (state, …) index. Rescue and listing running jobs use this
-- small one; listing waiting jobs uses jobs_claim, completed jobs (the bulk) the primary key.
CREATE INDEX jobs_rescue ON ${s}.jobs (lease_expires_at) WHERE state = 'running';

-- Failed and cancelled jobs are few among many completed ones; listing them newest first
-- must not walk the whole table. Written only when a job ends that way.
CREATE INDEX jobs_failed ON ${s}.jobs (id) WHERE state IN ('abandoned', 'cancelled');

CREATE TABLE ${s}.queues (
  name       text        PRIMARY KEY,
  paused     boolean     NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL
);

CREATE TABLE ${s}.leaders (
  name       text        PRIMARY KEY,
  owner_id   text        NOT NULL,
  elected_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
`;
