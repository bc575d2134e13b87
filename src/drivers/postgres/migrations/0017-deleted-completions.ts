/**
 * Schema 17: counts of completed jobs whose rows were deleted as they completed (retention
 * `completed: 'immediately'`), so `queueStats` — and the health monitor, metrics and dashboard
 * built on it — still count them.
 *
 * One row per queue, second and `shard` (the finalizing connection's server process id): each
 * finalize adds its deletions to its own row, so finalizes on several connections never wait on
 * one another's counter row. Rows past a day are deleted by the leader's pruner.
 */
export const migration0017DeletedCompletions = (s: string): string => `
CREATE TABLE ${s}.deleted_completions (
  queue     text    NOT NULL,
  at_second bigint  NOT NULL,
  shard     integer NOT NULL,
  n         integer NOT NULL,
  PRIMARY KEY (at_second, queue, shard)
);
`;
