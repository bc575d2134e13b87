/**
 * Every count of jobs per queue the HTTP surface shows goes through `queueCounts`, so its cost
 * can be changed in one place. Today it is `jobwire.listQueues()` (counts of every state, which
 * scans finished jobs of each queue); a bounded count (cheap however many jobs are kept) replaces
 * it here without touching a route.
 */
import type { Jobwire, QueueInfo } from '../index.js';

/** The queues with their counts by state, sorted by name. */
export async function queueCounts(jobwire: Jobwire): Promise<QueueInfo[]> {
  const queues = await jobwire.listQueues();
  return [...queues].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
