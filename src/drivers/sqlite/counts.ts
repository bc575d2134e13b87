/**
 * Bounded counts on SQLite (`queueCounts`): every read names its index (INDEXED BY, so a
 * changed index fails loudly instead of turning into a table scan) and stops after the cap.
 *
 * - pending: per queue through the claim index (unkeyed jobs) and the flow-control index (keyed
 *   jobs), both led by the queue; the queues are found by skipping from one queue to the next in
 *   each index (one seek per queue);
 * - scheduled and running: over all queues through their partial indexes; blocked: through the
 *   dependency edges that still hold a job;
 * - each finished state: its newest finishes through the finished-jobs index (state first).
 *
 * When a read reached the cap, the counts it leaves open are estimated from a sample of rows
 * picked at random ids between the smallest and largest id (each a primary-key seek): the share
 * of probes that found a (queue, state) times the id range. Ids are dense except where jobs were
 * deleted, and a deleted id is a probe that found nothing, so the estimate stays unbiased.
 */
import type { JobState, QueueCounts } from '../../core/types.js';
import { assembleQueueCounts, type CountEstimate, type CountRead } from '../../driver/bounded-counts.js';
import type { QueueCountsParams } from '../../driver/driver.js';
import type { SqliteContext } from './context.js';

/** Probes of the sample: about ±3 % on a state holding a fifth of the rows. */
export const SAMPLE_PROBES = 4096;

const FINISHED: readonly JobState[] = ['completed', 'abandoned', 'cancelled'];

type Seen = { queue: string; state: JobState; n: number };

/** Build the bounded-count method (synchronous; the driver wraps it in a promise). */
export function createCountMethods(ctx: SqliteContext) {
  const { db } = ctx;
  const settings = db.prepare('SELECT name, paused FROM jobwire_queues');
  // Pending jobs sit in one of two indexes: unkeyed ones in the claim index, keyed ones
  // (flow control, migration 8) in the flow index, whose predicate also holds scheduled jobs.
  const PENDING_INDEXES = [
    { index: 'jobwire_jobs_claim', where: "state = 'pending' AND concurrency_key IS NULL" },
    {
      index: 'jobwire_jobs_flow_waiting',
      where: "state IN ('pending', 'scheduled') AND concurrency_key IS NOT NULL AND state = 'pending'",
    },
  ];
  const pendingReads = PENDING_INDEXES.map(({ index, where }) => ({
    queues: db.prepare(`
      WITH RECURSIVE q(name) AS (
        SELECT (SELECT queue FROM jobwire_jobs INDEXED BY ${index} WHERE ${where} ORDER BY queue LIMIT 1)
        UNION ALL
        SELECT (SELECT queue FROM jobwire_jobs INDEXED BY ${index} WHERE ${where} AND queue > q.name
                ORDER BY queue LIMIT 1)
        FROM q WHERE q.name IS NOT NULL)
      SELECT name FROM q WHERE name IS NOT NULL`),
    countIn: db.prepare(`SELECT count(*) AS n FROM (
      SELECT 1 FROM jobwire_jobs INDEXED BY ${index} WHERE ${where} AND queue = ? LIMIT ?)`),
  }));
  const scheduled = db.prepare(`SELECT queue, 'scheduled' AS state, count(*) AS n FROM (
    SELECT queue FROM jobwire_jobs INDEXED BY jobwire_jobs_scheduled WHERE state = 'scheduled' LIMIT ?)
    GROUP BY queue`);
  // Blocked jobs have no index of their own (migration 10 explains why): they are the jobs an
  // edge still holds, so they are read through the edge table, which only dependencies fill.
  const blocked = db.prepare(`SELECT j.queue, 'blocked' AS state, count(*) AS n FROM (
    SELECT DISTINCT job_id FROM jobwire_dependencies WHERE state IN ('waiting', 'stuck') LIMIT ?) d
    JOIN jobwire_jobs j ON j.id = d.job_id AND j.state = 'blocked'
    GROUP BY j.queue`);
  const running = db.prepare(`SELECT queue, 'running' AS state, count(*) AS n FROM (
    SELECT queue FROM jobwire_jobs INDEXED BY jobwire_jobs_running WHERE state = 'running' LIMIT ?)
    GROUP BY queue`);
  // One read per finished state through its range of the finished-jobs index (state first).
  const finished = FINISHED.map((state) =>
    db.prepare(`SELECT queue, '${state}' AS state, count(*) AS n FROM (
      SELECT queue FROM jobwire_jobs INDEXED BY jobwire_jobs_finished
      WHERE state = '${state}' AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?)
      GROUP BY queue`),
  );
  // Two statements: SQLite answers min(id) or max(id) alone with one seek, both at once by a scan.
  const lowestId = db.prepare('SELECT min(id) AS id FROM jobwire_jobs');
  const highestId = db.prepare('SELECT max(id) AS id FROM jobwire_jobs');
  const sample = db.prepare(`
    WITH RECURSIVE p(i, id) AS (
      SELECT 0, NULL
      UNION ALL
      SELECT i + 1, @lo + abs(random() % (@hi - @lo + 1)) FROM p WHERE i < @probes)
    SELECT j.queue, j.state, count(*) AS n FROM p JOIN jobwire_jobs j ON j.id = p.id
    GROUP BY j.queue, j.state`);

  /** Sum of `n` over rows. */
  const total = (rows: readonly Seen[]): number => rows.reduce((sum, row) => sum + row.n, 0);

  function estimate(): CountEstimate[] {
    const lo = (lowestId.get() as { id: number | null }).id;
    const hi = (highestId.get() as { id: number | null }).id;
    if (lo === null || hi === null) return [];
    const rows = sample.all({ lo, hi, probes: SAMPLE_PROBES }) as Seen[];
    const scale = (hi - lo + 1) / SAMPLE_PROBES;
    return rows.map((row) => ({ queue: row.queue, state: row.state, n: row.n * scale }));
  }

  function queueCounts(params: QueueCountsParams): QueueCounts[] {
    const limit = params.exactUpTo + 1;
    // One read transaction: every read sees the same moment.
    return db.transaction(() => {
      const reads: CountRead[] = [];
      // Per queue, the unkeyed and keyed reads make one read: exact only if the two together
      // stayed under the cap.
      const pending = new Map<string, { n: number; complete: boolean }>();
      for (const read of pendingReads) {
        for (const { name } of read.queues.all() as { name: string }[]) {
          const { n } = read.countIn.get(name, limit) as { n: number };
          const sum = pending.get(name) ?? { n: 0, complete: true };
          pending.set(name, { n: sum.n + n, complete: sum.complete && n < limit && sum.n + n < limit });
        }
      }
      for (const [queue, { n, complete }] of pending) {
        reads.push({ states: ['pending'], queue, seen: [{ queue, state: 'pending', n }], complete });
      }
      // The skips over both indexes found every queue with pending jobs: the others have none.
      reads.push({ states: ['pending'], queue: null, seen: [], complete: true });
      const overAll: [readonly JobState[], (typeof finished)[number]][] = [
        [['blocked'], blocked],
        [['scheduled'], scheduled],
        [['running'], running],
        ...FINISHED.map((state, i): [readonly JobState[], (typeof finished)[number]] => [
          [state],
          finished[i]!,
        ]),
      ];
      for (const [states, statement] of overAll) {
        const seen = statement.all(limit) as Seen[];
        reads.push({ states, queue: null, seen, complete: total(seen) < limit });
      }
      const estimates = reads.every((read) => read.complete) ? [] : estimate();
      return assembleQueueCounts(
        (settings.all() as { name: string; paused: number }[]).map((row) => ({
          name: row.name,
          paused: row.paused === 1,
        })),
        reads,
        estimates,
      );
    })();
  }

  return { queueCounts };
}
