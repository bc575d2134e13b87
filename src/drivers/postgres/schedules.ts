/**
 * Schedules on PostgreSQL. `scheduleWrite` is one transaction: the compare-and-set (the row is
 * locked with FOR UPDATE, or created with ON CONFLICT DO NOTHING), the cancellation of jobs the
 * write replaces, the insert of the jobs it stands for through the driver's own
 * `jobInsertMany` (joined as the caller's transaction, so unique keys and NOTIFY work as for any
 * enqueue), and the new state. Of two leaders advancing the same tick, the second waits for the
 * first's row lock, then sees a new version and writes nothing.
 */
import type pg from 'pg';
import type { JobState } from '../../core/types.js';
import type {
  CancelledJob,
  DependentChange,
  ScheduleGetParams,
  ScheduleJobRef,
  ScheduleListDueParams,
  ScheduleRecord,
  ScheduleWriteParams,
  ScheduleWriteResult,
  ScheduleWritten,
} from '../../driver/driver.js';
import type { PgContext } from './context.js';
import { dependenciesFailed } from './dependencies.js';
import { insertEntries } from './events.js';
import { jobInsertMany } from './jobs-insert.js';
import { epochMs, nowSql, validIds } from './row.js';

const COLUMNS = `id, definition::text AS definition, version, paused,
  ${epochMs('next_tick_at')} AS next_tick_at, next_job_id::text AS next_job_id,
  ${epochMs('last_tick_at')} AS last_tick_at, last_job_id::text AS last_job_id,
  ${epochMs('last_fired_at')} AS last_fired_at, ${epochMs('created_at')} AS created_at,
  ${epochMs('updated_at')} AS updated_at`;

interface ScheduleRow {
  id: string;
  definition: string;
  version: number;
  paused: boolean;
  next_tick_at: number | null;
  next_job_id: string | null;
  last_tick_at: number | null;
  last_job_id: string | null;
  last_fired_at: number | null;
  created_at: number;
  updated_at: number;
}

const toRecord = (row: ScheduleRow): ScheduleRecord => ({
  id: row.id,
  definitionJson: row.definition,
  version: row.version,
  paused: row.paused,
  nextTickAt: row.next_tick_at,
  nextJobId: row.next_job_id,
  lastTickAt: row.last_tick_at,
  lastJobId: row.last_job_id,
  lastFiredAt: row.last_fired_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const time = (param: string) => `to_timestamp(${param}::float8 / 1000)`;

export async function scheduleGet(
  ctx: PgContext,
  params: ScheduleGetParams,
): Promise<ScheduleRecord | undefined> {
  ctx.assertOpen();
  if (typeof params.id !== 'string' || params.id.includes('\u0000')) return undefined;
  const [row] = await ctx.query<ScheduleRow>(
    'scheduleGet',
    `SELECT ${COLUMNS} FROM ${ctx.s}.schedules WHERE id = $1`,
    [params.id],
  );
  return row && toRecord(row);
}

export async function scheduleList(ctx: PgContext): Promise<ScheduleRecord[]> {
  ctx.assertOpen();
  const rows = await ctx.query<ScheduleRow>(
    'scheduleList',
    `SELECT ${COLUMNS} FROM ${ctx.s}.schedules ORDER BY id COLLATE "C"`,
  );
  return rows.map(toRecord);
}

export async function scheduleListDue(
  ctx: PgContext,
  params: ScheduleListDueParams,
): Promise<ScheduleRecord[]> {
  ctx.assertOpen();
  const rows = await ctx.query<ScheduleRow>(
    'scheduleListDue',
    `SELECT ${COLUMNS} FROM ${ctx.s}.schedules
     WHERE NOT paused AND next_tick_at IS NOT NULL AND next_tick_at <= ${nowSql('$1')}
     ORDER BY next_tick_at, id COLLATE "C" LIMIT $2`,
    [params.now ?? null, Math.max(1, Math.floor(params.limit))],
  );
  return rows.map(toRecord);
}

export async function scheduleWrite(
  ctx: PgContext,
  params: ScheduleWriteParams,
): Promise<ScheduleWriteResult> {
  ctx.assertOpen();
  const s = ctx.s;
  const now = params.now ?? null;
  const outcome = await ctx.transaction(
    'scheduleWrite',
    async (client): Promise<ScheduleWriteResult | null> => {
      const run = <R extends pg.QueryResultRow>(text: string, values: unknown[]) =>
        ctx.query<R>('scheduleWrite', text, values, client, false);
      const onClient = ctx.within(client);
      const state = params.state;
      if (params.expectedVersion === null) {
        // Create: the row appears with version 0 (locked by this insert) and gets 1 below.
        const created = await run(
          `INSERT INTO ${s}.schedules (id, definition, version, created_at, updated_at)
         VALUES ($1, $2::json, 0, ${nowSql('$3')}, ${nowSql('$3')}) ON CONFLICT (id) DO NOTHING RETURNING id`,
          [params.id, state?.definitionJson ?? '{}', now],
        );
        if (created.length === 0) return null;
      } else {
        const [locked] = await run<{ version: number }>(
          `SELECT version FROM ${s}.schedules WHERE id = $1 FOR UPDATE`,
          [params.id],
        );
        if (locked?.version !== params.expectedVersion) return null;
      }
      const ids = validIds(params.cancelJobIds);
      const cancelledRows =
        ids.length === 0
          ? []
          : await run<{
              id: string;
              task: string;
              queue: string;
              correlation_id: string;
              attempt: number;
              max_attempts: number;
              previous_state: JobState;
              at: number;
            }>(
              `WITH target AS (
               SELECT id, state FROM ${s}.jobs WHERE id = ANY($1::bigint[]) AND state IN ('scheduled', 'pending')
               ORDER BY id FOR UPDATE
             )
             UPDATE ${s}.jobs j SET state = 'cancelled', finished_at = ${nowSql('$2')},
               lease_expires_at = NULL, worker_id = NULL
             FROM target WHERE j.id = target.id
             RETURNING j.id::text AS id, j.task, j.queue, j.correlation_id, j.attempt, j.max_attempts,
               target.state AS previous_state,
               ${epochMs('j.finished_at')} AS at`,
              [ids, now],
            );
      // What waited for a cancelled job (dependsOn) gets its edges' policy in this transaction.
      const dependents = new Map<string, DependentChange[]>();
      for (const r of cancelledRows) {
        const found = await dependenciesFailed(onClient, [r.id], r.at);
        if (found.length > 0) dependents.set(r.id, found);
      }
      const cancelled: CancelledJob[] = cancelledRows.map((r) => ({
        ...(dependents.has(r.id) ? { dependents: dependents.get(r.id)! } : {}),
        id: r.id,
        task: r.task,
        queue: r.queue,
        correlationId: r.correlation_id,
        attempt: r.attempt,
        maxAttempts: r.max_attempts,
        previousState: r.previous_state,
        at: r.at,
      }));
      const inserted =
        params.jobs.length === 0
          ? { inserted: [] }
          : await jobInsertMany(ctx, { jobs: params.jobs, executor: client, now: params.now });
      if (!('inserted' in inserted))
        throw new Error('jobwire: a schedule insert has no queue limit to exceed');
      const refId = (ref: ScheduleJobRef): string | null =>
        ref === null ? null : 'id' in ref ? ref.id : inserted.inserted[ref.index]!.job.id;
      // Stores the write's events (the log) in this transaction, then reports it.
      const written = async (schedule: ScheduleRecord | null): Promise<ScheduleWritten> => {
        const result: ScheduleWritten = { applied: true, schedule, inserted: inserted.inserted, cancelled };
        if (params.log) await insertEntries(ctx, params.log(result), client);
        return result;
      };
      if (state === null) {
        await run(`DELETE FROM ${s}.schedules WHERE id = $1`, [params.id]);
        return written(null);
      }
      const [row] = await run<ScheduleRow>(
        `UPDATE ${s}.schedules SET definition = $2::json, version = version + 1, paused = $3,
         next_tick_at = ${time('$4')}, next_job_id = $5::bigint, last_tick_at = ${time('$6')},
         last_job_id = $7::bigint, last_fired_at = ${time('$8')}, updated_at = ${nowSql('$9')}
       WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          params.id,
          state.definitionJson,
          state.paused,
          state.nextTickAt,
          refId(state.nextJob),
          state.lastTickAt,
          refId(state.lastJob),
          state.lastFiredAt,
          now,
        ],
      );
      return written(toRecord(row!));
    },
  );
  if (outcome) return outcome;
  return { applied: false, current: await scheduleGet(ctx, { id: params.id }) };
}
