/**
 * Schema 3: task contracts. Workers publish the job defaults of the tasks they register, so a
 * process without a task's code (a producer service, `jobwire enqueue`) enqueues it by name with
 * the right queue, attempts, timeout and backoff instead of the global defaults.
 */
export const MIGRATION_0003_TASKS = `
CREATE TABLE jobwire_tasks (
  name         TEXT    PRIMARY KEY,
  queue        TEXT    NOT NULL,
  priority     INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  timeout_ms   INTEGER,
  backoff      TEXT    CHECK (backoff IS NULL OR json_valid(backoff)),
  updated_at   INTEGER NOT NULL
) STRICT;
`;
