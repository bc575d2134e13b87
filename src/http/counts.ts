/**
 * Every count of jobs per queue the HTTP surface shows goes through `queueCounts`, so its cost
 * is decided in one place: the client's bounded `queueCounts()` (docs/counts.md) — each count
 * exact up to a cap, otherwise flagged `atLeast` or `estimate` in `precision` — so `/api/queues`
 * costs the same on a table of millions of jobs as on an empty one.
 */
import type { Jobwire, QueueCounts } from '../index.js';

/** The queues with their bounded counts by state, sorted by name. */
export async function queueCounts(jobwire: Jobwire): Promise<QueueCounts[]> {
  const queues = await jobwire.queueCounts();
  return [...queues].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
