/**
 * Schema 5: queue health.
 *
 * - `jobwire_jobs_finished`: jobs by finish time, so the statistics of the last minute read the
 *   jobs that finished in it instead of the whole history. Only finished jobs are in it (the
 *   predicate), and a job enters it once, when it finishes: claims and heartbeats never write it.
 * - `jobwire_alerts`: the health monitor's alerts that fired and have not resolved. Stored, not
 *   kept in the leader's memory, so a new leader neither fires them again nor forgets to resolve.
 */
export const MIGRATION_0005_HEALTH = `
CREATE INDEX jobwire_jobs_finished ON jobwire_jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE jobwire_alerts (
  id        TEXT    PRIMARY KEY,
  queue     TEXT    NOT NULL,
  kind      TEXT    NOT NULL,
  value     REAL    NOT NULL,
  threshold REAL    NOT NULL,
  fired_at  INTEGER NOT NULL
) STRICT;
`;
