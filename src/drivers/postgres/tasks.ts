/** Task contracts on PostgreSQL: the published job defaults of each task, in `<schema>.tasks`. */
import { isTaskName } from '../../core/task.js';
import type { BackoffSpec, EpochMs } from '../../core/types.js';
import type { StoredTaskDefaults, TaskDefaultsRecord, TaskGetParams } from '../../driver/driver.js';
import type { PgContext } from './context.js';
import { epochMs, nowSql } from './row.js';

interface TaskRow {
  name: string;
  queue: string;
  priority: number;
  max_attempts: number;
  timeout_ms: number | null;
  backoff: string | null;
  updated_at: number;
}

const COLUMNS = `name, queue, priority, max_attempts, timeout_ms, backoff::text AS backoff, ${epochMs('updated_at')} AS updated_at`;

const toRecord = (row: TaskRow): StoredTaskDefaults => ({
  name: row.name,
  queue: row.queue,
  priority: row.priority,
  maxAttempts: row.max_attempts,
  timeoutMs: row.timeout_ms,
  backoff: row.backoff === null ? null : (JSON.parse(row.backoff) as BackoffSpec),
  updatedAt: row.updated_at,
});

export async function taskGet(
  ctx: PgContext,
  params: TaskGetParams,
): Promise<StoredTaskDefaults | undefined> {
  ctx.assertOpen();
  // A name no task can have is not looked up (it could hold text PostgreSQL refuses, like NUL).
  if (!isTaskName(params?.name)) return undefined;
  const [row] = await ctx.query<TaskRow>('taskGet', `SELECT ${COLUMNS} FROM ${ctx.s}.tasks WHERE name = $1`, [
    params.name,
  ]);
  return row && toRecord(row);
}

export async function taskList(ctx: PgContext): Promise<StoredTaskDefaults[]> {
  ctx.assertOpen();
  const rows = await ctx.query<TaskRow>('taskList', `SELECT ${COLUMNS} FROM ${ctx.s}.tasks`);
  // In code-unit order, the same on every database whatever its collation.
  return rows.map(toRecord).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * One statement for the whole batch (atomic by itself). The DO UPDATE ... WHERE skips rows that
 * did not change — republishing the same contract on every start writes nothing — and RETURNING
 * then yields only the rows written. jsonb compares by value, so key order does not matter.
 */
const upsertSql = (s: string): string => `
INSERT INTO ${s}.tasks AS t (name, queue, priority, max_attempts, timeout_ms, backoff, updated_at)
SELECT x.name, x.queue, x.priority, x.max_attempts, x.timeout_ms, x.backoff, ${nowSql('$7')}
FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[], $6::jsonb[])
  AS x(name, queue, priority, max_attempts, timeout_ms, backoff)
ON CONFLICT (name) DO UPDATE SET
  queue = EXCLUDED.queue, priority = EXCLUDED.priority, max_attempts = EXCLUDED.max_attempts,
  timeout_ms = EXCLUDED.timeout_ms, backoff = EXCLUDED.backoff, updated_at = EXCLUDED.updated_at
WHERE (t.queue, t.priority, t.max_attempts, t.timeout_ms, t.backoff)
  IS DISTINCT FROM (EXCLUDED.queue, EXCLUDED.priority, EXCLUDED.max_attempts, EXCLUDED.timeout_ms, EXCLUDED.backoff)
RETURNING t.name`;

/** Input is checked by the caller (`checkTaskUpserts`). */
export async function taskUpsertMany(
  ctx: PgContext,
  tasks: readonly TaskDefaultsRecord[],
  now?: EpochMs,
): Promise<string[]> {
  ctx.assertOpen();
  if (tasks.length === 0) return [];
  const rows = await ctx.query<{ name: string }>('taskUpsertMany', upsertSql(ctx.s), [
    tasks.map((t) => t.name),
    tasks.map((t) => t.queue),
    tasks.map((t) => t.priority),
    tasks.map((t) => t.maxAttempts),
    tasks.map((t) => t.timeoutMs),
    tasks.map((t) => (t.backoff === null ? null : JSON.stringify(t.backoff))),
    now ?? null,
  ]);
  // RETURNING order is not guaranteed: report in input order.
  const written = new Set(rows.map((row) => row.name));
  return tasks.map((t) => t.name).filter((name) => written.has(name));
}
