/**
 * Bounded counts on PostgreSQL (`queueCounts`), one statement so every read sees one snapshot:
 *
 * - waiting (pending and scheduled): per queue through `jobs_claim` (unkeyed jobs) and
 *   `jobs_flow_waiting` (keyed jobs, migration 8), both led by the queue; the queues are found by
 *   skipping from one queue to the next in each index (one seek per queue). The indexes hold both
 *   states, so a queue's two counts are exact together (its waiting jobs fit under the cap) or
 *   flagged together;
 * - running: over all queues through `jobs_rescue`; blocked: through `jobs_blocked` (migration 10);
 * - each finished state: its newest finishes through `jobs_finished` (state first).
 * Each read is ordered like its index and stops after the cap, which keeps the planner on it.
 *
 * What a read leaves open is estimated from planner statistics: the row count the planner
 * would use (reltuples scaled to the table's current size) times the share of the (queue,
 * state) pair in the `jobs_queue_state` statistics (migration 11), both refreshed by ANALYZE.
 * A table never analyzed has none, and its open counts stay `atLeast`.
 */
import type { JobState, QueueCounts } from '../../core/types.js';
import { assembleQueueCounts, type CountEstimate, type CountRead } from '../../driver/bounded-counts.js';
import type { QueueCountsParams } from '../../driver/driver.js';
import type { PgContext } from './context.js';

const WAITING = `j.state IN ('pending', 'scheduled')`;
const FINISHED: readonly JobState[] = ['completed', 'abandoned', 'cancelled'];

/** Waiting jobs sit in two indexes: unkeyed ones in `jobs_claim`, keyed ones in `jobs_flow_waiting`. */
const WAITING_PARTS = [
  {
    read: 'waiting',
    where: `${WAITING} AND j.concurrency_key IS NULL`,
    order: 'j.queue, j.priority DESC, j.run_at, j.id',
  },
  {
    read: 'keyed',
    where: `${WAITING} AND j.concurrency_key IS NOT NULL`,
    order: 'j.queue, j.concurrency_key, j.priority DESC, j.run_at, j.id',
  },
] as const;

const readsSql = (s: string): string => `
WITH RECURSIVE ${WAITING_PARTS.map(
  ({ read, where }) => `${read}_queues(name) AS (
  SELECT (SELECT j.queue FROM ${s}.jobs j WHERE ${where} ORDER BY j.queue LIMIT 1)
  UNION ALL
  SELECT (SELECT j.queue FROM ${s}.jobs j WHERE ${where} AND j.queue > w.name ORDER BY j.queue LIMIT 1)
  FROM ${read}_queues w WHERE w.name IS NOT NULL
)`,
).join(',\n')}
${WAITING_PARTS.map(
  ({ read, where, order }) => `SELECT '${read}' AS read, w.name AS queue, x.state, count(*)::int AS n
FROM ${read}_queues w CROSS JOIN LATERAL (
  SELECT j.state FROM ${s}.jobs j WHERE j.queue = w.name AND ${where}
  ORDER BY ${order} LIMIT $1
) x
WHERE w.name IS NOT NULL
GROUP BY 2, 3
UNION ALL`,
).join('\n')}
SELECT 'blocked', b.queue, 'blocked', count(*)::int FROM (
  SELECT j.queue FROM ${s}.jobs j WHERE j.state = 'blocked' ORDER BY j.id LIMIT $1
) b GROUP BY 2
UNION ALL
SELECT 'running', r.queue, 'running', count(*)::int FROM (
  SELECT j.queue FROM ${s}.jobs j WHERE j.state = 'running' ORDER BY j.lease_expires_at LIMIT $1
) r GROUP BY 2
UNION ALL
${FINISHED.map(
  (state) => `SELECT '${state}', f.queue, '${state}', count(*)::int FROM (
  SELECT j.queue FROM ${s}.jobs j WHERE j.state = '${state}' AND j.finished_at IS NOT NULL
  ORDER BY j.finished_at DESC LIMIT $1
) f GROUP BY 2
UNION ALL`,
).join('\n')}
SELECT 'settings', q.name, CASE WHEN q.paused THEN 'paused' ELSE 'active' END, 0 FROM ${s}.queues q`;

/** The planner's row count now, times each (queue, state) pair's share in the statistics. */
const estimatesSql = `
WITH t AS (
  SELECT c.reltuples::float8 AS reltuples, c.relpages::float8 AS relpages,
    pg_relation_size(c.oid)::float8 / current_setting('block_size')::float8 AS pages
  FROM pg_class c WHERE c.oid = to_regclass($1)
),
m AS (
  SELECT e.most_common_vals AS v, e.most_common_freqs AS f,
    array_position(e.attnames, 'queue') AS qi, array_position(e.attnames, 'state') AS si
  FROM pg_stats_ext e
  WHERE e.schemaname = $2 AND e.tablename = 'jobs' AND e.statistics_name = 'jobs_queue_state' AND NOT e.inherited
)
SELECT m.v[i][m.qi] AS queue, m.v[i][m.si] AS state,
  m.f[i] * CASE WHEN t.relpages > 0 THEN t.reltuples / t.relpages * t.pages ELSE t.reltuples END AS n
FROM t, m, generate_subscripts(m.v, 1) i
WHERE t.reltuples >= 0`;

interface ReadRow {
  read: 'waiting' | 'keyed' | 'running' | 'settings' | JobState;
  queue: string;
  state: string;
  n: number;
}

export async function queueCounts(ctx: PgContext, params: QueueCountsParams): Promise<QueueCounts[]> {
  ctx.assertOpen();
  const limit = params.exactUpTo + 1;
  const rows = await ctx.transaction('queueCounts', async (client) => {
    // The planner prices the per-queue reads as if every queue held the cap, which passes
    // jit_above_cost on a large table: compiling would take far longer (~0.7 s) than the reads.
    await ctx.query('queueCounts', 'SET LOCAL jit = off', [], client, false);
    // Not prepared: a custom plan sees the cap, and a generic one might prefer a scan to the index.
    return ctx.query<ReadRow>('queueCounts', readsSql(ctx.s), [limit], client, false);
  });
  const settings: { name: string; paused: boolean }[] = [];
  const waiting = new Map<string, { queue: string; state: JobState; n: number }[]>();
  const keyed = new Map<string, { queue: string; state: JobState; n: number }[]>();
  const running: { queue: string; state: JobState; n: number }[] = [];
  const blocked: { queue: string; state: JobState; n: number }[] = [];
  const finished = new Map<JobState, { queue: string; state: JobState; n: number }[]>(
    FINISHED.map((state) => [state, []]),
  );
  for (const row of rows) {
    const seen = { queue: row.queue, state: row.state as JobState, n: row.n };
    if (row.read === 'settings') settings.push({ name: row.queue, paused: row.state === 'paused' });
    else if (row.read === 'running') running.push(seen);
    else if (row.read === 'blocked') blocked.push(seen);
    else if (row.read === 'waiting') waiting.set(row.queue, [...(waiting.get(row.queue) ?? []), seen]);
    else if (row.read === 'keyed') keyed.set(row.queue, [...(keyed.get(row.queue) ?? []), seen]);
    else finished.get(row.read)?.push(seen);
  }
  const total = (seen: readonly { n: number }[]) => seen.reduce((sum, row) => sum + row.n, 0);
  const reads: CountRead[] = [];
  // Per queue, the unkeyed and keyed reads make one read: exact only if together under the cap.
  for (const queue of new Set([...waiting.keys(), ...keyed.keys()])) {
    const unkeyedSeen = waiting.get(queue) ?? [];
    const keyedSeen = keyed.get(queue) ?? [];
    const seen = [...unkeyedSeen, ...keyedSeen];
    const complete = total(unkeyedSeen) < limit && total(keyedSeen) < limit && total(seen) < limit;
    reads.push({ states: ['pending', 'scheduled'], queue, seen, complete });
  }
  // The skips over both indexes found every queue with waiting jobs: the others have none.
  reads.push({ states: ['pending', 'scheduled'], queue: null, seen: [], complete: true });
  reads.push({ states: ['running'], queue: null, seen: running, complete: total(running) < limit });
  reads.push({ states: ['blocked'], queue: null, seen: blocked, complete: total(blocked) < limit });
  for (const [state, seen] of finished) {
    reads.push({ states: [state], queue: null, seen, complete: total(seen) < limit });
  }
  let estimates: CountEstimate[] = [];
  if (!reads.every((read) => read.complete)) {
    estimates = await ctx.query<CountEstimate>('queueCounts', estimatesSql, [`${ctx.s}.jobs`, ctx.schema]);
  }
  return assembleQueueCounts(settings, reads, estimates);
}
