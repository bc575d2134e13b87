/**
 * Schema 5: queue health.
 *
 * - `jobs_finished`: jobs by finish time, so the statistics of the last minute read the jobs
 *   that finished in it instead of the whole history. Only finished jobs are in it, and a job
 *   enters it once, when it finishes: claims and heartbeats never write it.
 * - `alerts`: the health monitor's alerts that fired and have not resolved. Stored, not kept in
 *   the leader's memory, so a new leader neither fires them again nor forgets to resolve them.
 */
export const migration0005Health = (s: string): string => `
CREATE INDEX jobs_finished ON ${s}.jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE ${s}.alerts (
  id        text        PRIMARY KEY,
  queue     text        NOT NULL,
  kind      text        NOT NULL,
  value     float8      NOT NULL,
  threshold float8      NOT NULL,
  fired_at  timestamptz NOT NULL
);
`;
