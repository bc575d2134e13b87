/**
 * Schema 13: indexes that bound `queueStats` by what it reports, not by the backlog
 * (docs/health.md, "Cost").
 *
 * - `jobs_waiting` (queue, run_at, state) over waiting jobs: per queue, the oldest waiting job
 *   is its first entry and the due ones come first, so a capped read per queue gives the due
 *   count (exact up to the cap), the not-yet-due count and the oldest due job. Every enqueued
 *   job enters it and leaves it when claimed: the one index here the hot path pays for
 *   (measured in docs/health.md).
 * - `jobs_waiting_failed` and `jobs_waiting_interrupted` (run_at) over waiting jobs that hold an
 *   error, resp. were interrupted: the only waiting jobs that can hold an error dated inside the
 *   stats window (the rule is proved in health.ts). A fresh job (no error, no interruption) never
 *   enters them, so enqueue and the claim pay nothing for them.
 */
export const migration0013BoundedStats = (s: string): string => `
CREATE INDEX jobs_waiting ON ${s}.jobs (queue, run_at, state) WHERE state IN ('pending', 'scheduled');
CREATE INDEX jobs_waiting_failed ON ${s}.jobs (run_at)
  WHERE state IN ('pending', 'scheduled') AND errors <> '[]'::jsonb;
CREATE INDEX jobs_waiting_interrupted ON ${s}.jobs (run_at)
  WHERE state IN ('pending', 'scheduled') AND interruptions > 0;
`;
