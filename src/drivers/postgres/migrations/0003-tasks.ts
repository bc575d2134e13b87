/**
 * Schema 3: task contracts. Workers publish the job defaults of the tasks they register, so a
 * process without a task's code (a producer service, `jobwire enqueue`) enqueues it by name with
 * the right queue, attempts, timeout and backoff instead of the global defaults.
 */
export const migration0003Tasks = (s: string): string => `
CREATE TABLE ${s}.tasks (
  name         text        PRIMARY KEY,
  queue        text        NOT NULL,
  priority     integer     NOT NULL,
  max_attempts integer     NOT NULL,
  timeout_ms   integer,
  backoff      jsonb,
  updated_at   timestamptz NOT NULL
);
`;
