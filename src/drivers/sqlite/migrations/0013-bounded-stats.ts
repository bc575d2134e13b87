/**
 * Schema 13: indexes that bound `queueStats` by what it reports, not by the backlog
 * (docs/health.md, "Cost").
 *
 * - `jobwire_jobs_waiting` (queue, run_at, state) over waiting jobs: per queue, the due jobs come
 *   first, so a capped read per queue gives the due count (exact up to the cap), the
 *   not-yet-due count and the oldest due job, from the index alone. Every enqueued job enters it
 *   and leaves it when claimed: the one index here the hot path pays for (measured in
 *   docs/health.md).
 * - `jobwire_jobs_waiting_failed` and `jobwire_jobs_waiting_interrupted` (run_at) over waiting
 *   jobs that hold an error, resp. were interrupted: the only waiting jobs that can hold an error
 *   dated inside the stats window (the rule is proved in health.ts). A fresh job never enters
 *   them, so enqueue and the claim pay nothing for them.
 */
export const MIGRATION_0013_BOUNDED_STATS = `
CREATE INDEX jobwire_jobs_waiting ON jobwire_jobs (queue, run_at, state) WHERE state IN ('pending', 'scheduled');
CREATE INDEX jobwire_jobs_waiting_failed ON jobwire_jobs (run_at)
  WHERE state IN ('pending', 'scheduled') AND errors <> '[]';
CREATE INDEX jobwire_jobs_waiting_interrupted ON jobwire_jobs (run_at)
  WHERE state IN ('pending', 'scheduled') AND interruptions > 0;
`;
