/**
 * Schema 15: how a job's timeline finds its `events` rows (`jobEvents`, `jobwire events --job`).
 *
 * Schema 6 indexed every row's job range with GiST. A GiST insert weighs the new range against
 * every entry of each page on its way down (`gistchoose`, a penalty per entry): about 40 µs of
 * server time per row here (pgbench, 4,000 single-row inserts, three runs: 107–120 µs per
 * transaction against 67–77 without the index). Claims and finalizations of many jobs write one
 * row per batch, so there it is noise; but a job enqueued on its own, and every claim or
 * finalization of a single job (any queue that is not busy), writes a row of one job — a third
 * of the log's server cost on a one-by-one enqueue.
 *
 * Rows of one job (`job_lo = job_hi`, most rows by count) now go in a plain B-tree on `job_lo`;
 * only rows spanning several jobs stay in the GiST index. The timeline reads both (two index
 * scans, one per predicate; see `jobTimelineStatement`). The B-tree's predicate is written
 * `job_hi <= job_lo` (a row's range is never reversed, so that means one job): an equality of two
 * columns becomes one of the planner's equivalence classes, and a query naming it could then not
 * be proven to match the index.
 */
export const migration0015EventJobIndex = (s: string): string => `
CREATE INDEX events_job ON ${s}.events (job_lo) WHERE job_hi <= job_lo;
DROP INDEX ${s}.events_jobs;
CREATE INDEX events_jobs ON ${s}.events USING gist (int8range(job_lo, job_hi, '[]'))
  WHERE job_lo < job_hi;
`;
