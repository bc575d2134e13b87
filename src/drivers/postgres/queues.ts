/** Queues: listing with counts, pausing and resuming. */
import type { JobState, QueueInfo } from '../../core/types.js';
import { CHANNELS, type QueueStateParams } from '../../driver/driver.js';
import type { PgContext } from './context.js';
import { nowSql, zeroCounts } from './row.js';

const queueListSql = (s: string): string => `
SELECT n.name, COALESCE(q.paused, false) AS paused, c.state, COALESCE(c.count, 0) AS count
FROM (SELECT DISTINCT queue AS name FROM ${s}.jobs UNION SELECT name FROM ${s}.queues) n
LEFT JOIN ${s}.queues q ON q.name = n.name
LEFT JOIN (SELECT queue, state, count(*) AS count FROM ${s}.jobs GROUP BY queue, state) c ON c.queue = n.name`;

export async function queueList(ctx: PgContext): Promise<QueueInfo[]> {
  ctx.assertOpen();
  const rows = await ctx.query<{ name: string; paused: boolean; state: JobState | null; count: string }>(
    'queueList',
    queueListSql(ctx.s),
  );
  const queues = new Map<string, QueueInfo>();
  for (const row of rows) {
    let info = queues.get(row.name);
    if (!info) {
      info = { name: row.name, paused: row.paused, counts: zeroCounts() };
      queues.set(row.name, info);
    }
    if (row.state !== null && row.state in info.counts) info.counts[row.state] = Number(row.count);
  }
  // In code-unit order, the same on every database whatever its collation.
  return [...queues.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Inserts or flips the row; RETURNING yields a row only when the state changed. */
const pauseSql = (s: string): string => `
INSERT INTO ${s}.queues AS q (name, paused, updated_at) VALUES ($1, true, ${nowSql('$2')})
ON CONFLICT (name) DO UPDATE SET paused = true, updated_at = EXCLUDED.updated_at WHERE NOT q.paused
RETURNING q.name`;

export async function queuePause(ctx: PgContext, params: QueueStateParams): Promise<boolean> {
  ctx.assertOpen();
  const rows = await ctx.query('queuePause', pauseSql(ctx.s), [params.name, params.now ?? null]);
  return rows.length > 0;
}

/** Pools blocked on the paused queue hear about it, as if jobs had just arrived. */
const resumeSql = (s: string): string => `
WITH resumed AS (
  UPDATE ${s}.queues q SET paused = false, updated_at = ${nowSql('$2')}
  WHERE q.name = $1 AND q.paused
  RETURNING q.name
)
SELECT name, pg_notify($3, name) FROM resumed`;

export async function queueResume(ctx: PgContext, params: QueueStateParams): Promise<boolean> {
  ctx.assertOpen();
  await ctx.notifier.ready();
  const rows = await ctx.query('queueResume', resumeSql(ctx.s), [
    params.name,
    params.now ?? null,
    ctx.channel(CHANNELS.jobAvailable),
  ]);
  return rows.length > 0;
}
