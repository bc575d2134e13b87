/**
 * Schedules on SQLite. `scheduleWrite` is one IMMEDIATE transaction: the compare-and-set on the
 * schedule's version, the cancellation of jobs it replaces, the insert of the jobs it stands for
 * through the driver's own `jobInsertMany` (nested, so it becomes a savepoint of this
 * transaction), and the new state. The whole write runs synchronously, so nothing in this
 * process observes it half done.
 */
import type { EpochMs } from '../../core/types.js';
import type {
  CancelledJob,
  JobInsertManyParams,
  JobInsertManyResult,
  ScheduleGetParams,
  ScheduleJobRef,
  ScheduleListDueParams,
  ScheduleRecord,
  ScheduleWriteParams,
  ScheduleWriteResult,
  ScheduleWritten,
} from '../../driver/driver.js';
import { CLEAR_LEASE_SQL, type SqliteContext } from './context.js';
import { dependenciesOf } from './dependencies.js';
import { eventWriterOf } from './events.js';
import { parseId } from './row.js';

interface ScheduleRow {
  id: string;
  definition: string;
  version: number;
  paused: number;
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
  paused: row.paused === 1,
  nextTickAt: row.next_tick_at,
  nextJobId: row.next_job_id,
  lastTickAt: row.last_tick_at,
  lastJobId: row.last_job_id,
  lastFiredAt: row.last_fired_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** Thrown inside the transaction to roll it back when the compare-and-set fails. */
class VersionMismatch {}

/** Build the schedule methods; `jobInsertMany` is the driver's own insert (reused, not copied). */
export function createScheduleMethods(
  ctx: SqliteContext,
  jobInsertMany: (params: JobInsertManyParams) => JobInsertManyResult,
) {
  const { db } = ctx;
  const getRow = db.prepare('SELECT * FROM jobwire_schedules WHERE id = ?');
  const listRows = db.prepare('SELECT * FROM jobwire_schedules ORDER BY id');
  const dueRows = db.prepare(
    `SELECT * FROM jobwire_schedules INDEXED BY jobwire_schedules_due
     WHERE paused = 0 AND next_tick_at IS NOT NULL AND next_tick_at <= ? ORDER BY next_tick_at, id LIMIT ?`,
  );
  const insertRow = db.prepare(
    `INSERT INTO jobwire_schedules (id, definition, version, paused, next_tick_at, next_job_id, last_tick_at,
       last_job_id, last_fired_at, created_at, updated_at)
     VALUES (@id, @definition, 1, @paused, @nextTickAt, @nextJobId, @lastTickAt, @lastJobId, @lastFiredAt, @now, @now)
     RETURNING *`,
  );
  const updateRow = db.prepare(
    `UPDATE jobwire_schedules SET definition = @definition, version = version + 1, paused = @paused,
       next_tick_at = @nextTickAt, next_job_id = @nextJobId, last_tick_at = @lastTickAt, last_job_id = @lastJobId,
       last_fired_at = @lastFiredAt, updated_at = @now
     WHERE id = @id RETURNING *`,
  );
  const deleteRow = db.prepare('DELETE FROM jobwire_schedules WHERE id = ?');
  const waitingJob = db.prepare(
    `SELECT state, task, queue, correlation_id, attempt, max_attempts FROM jobwire_jobs
     WHERE id = ? AND state IN ('scheduled', 'pending')`,
  );
  const cancelWaiting = db.prepare(
    `UPDATE jobwire_jobs SET state = 'cancelled', finished_at = ?, ${CLEAR_LEASE_SQL}
     WHERE id = ? AND state IN ('scheduled', 'pending')`,
  );

  const writeTx = db.transaction((params: ScheduleWriteParams, now: EpochMs) => {
    const before = getRow.get(params.id) as ScheduleRow | undefined;
    const matches = params.expectedVersion === null ? !before : before?.version === params.expectedVersion;
    if (!matches) throw new VersionMismatch();
    const cancelled: CancelledJob[] = [];
    for (const jobId of params.cancelJobIds) {
      const id = parseId(jobId);
      if (id === undefined) continue;
      const row = waitingJob.get(id) as
        | {
            state: 'scheduled' | 'pending';
            task: string;
            queue: string;
            correlation_id: string;
            attempt: number;
            max_attempts: number;
          }
        | undefined;
      if (!row || cancelWaiting.run(now, id).changes === 0) continue;
      const dependents = dependenciesOf(ctx).failed(id, now);
      cancelled.push({
        ...(dependents.length > 0 ? { dependents } : {}),
        id: String(id),
        task: row.task,
        queue: row.queue,
        correlationId: row.correlation_id,
        attempt: row.attempt,
        maxAttempts: row.max_attempts,
        previousState: row.state,
        at: now,
      });
    }
    const outcome = params.jobs.length === 0 ? { inserted: [] } : jobInsertMany({ jobs: params.jobs, now });
    if (!('inserted' in outcome)) throw new Error('jobwire: a schedule insert has no queue limit to exceed');
    const refId = (ref: ScheduleJobRef): string | null =>
      ref === null ? null : 'id' in ref ? ref.id : outcome.inserted[ref.index]!.job.id;
    let schedule: ScheduleRecord | null = null;
    const state = params.state;
    if (state === null) deleteRow.run(params.id);
    else {
      const values = {
        id: params.id,
        definition: state.definitionJson,
        paused: state.paused ? 1 : 0,
        nextTickAt: state.nextTickAt === null ? null : Math.floor(state.nextTickAt),
        nextJobId: refId(state.nextJob),
        lastTickAt: state.lastTickAt === null ? null : Math.floor(state.lastTickAt),
        lastJobId: refId(state.lastJob),
        lastFiredAt: state.lastFiredAt === null ? null : Math.floor(state.lastFiredAt),
        now,
      };
      schedule = toRecord((before ? updateRow.get(values) : insertRow.get(values)) as ScheduleRow);
    }
    const written: ScheduleWritten = { applied: true, schedule, inserted: outcome.inserted, cancelled };
    if (params.log) eventWriterOf(ctx).append(params.log(written), now);
    return written;
  });

  function scheduleWrite(params: ScheduleWriteParams): ScheduleWriteResult {
    try {
      return writeTx.immediate(params, ctx.now(params.now));
    } catch (err) {
      if (!(err instanceof VersionMismatch)) throw err;
      const current = getRow.get(params.id) as ScheduleRow | undefined;
      return { applied: false, current: current && toRecord(current) };
    }
  }

  function scheduleGet(params: ScheduleGetParams): ScheduleRecord | undefined {
    if (typeof params.id !== 'string') return undefined;
    const row = getRow.get(params.id) as ScheduleRow | undefined;
    return row && toRecord(row);
  }

  const scheduleList = (): ScheduleRecord[] => (listRows.all() as ScheduleRow[]).map(toRecord);

  const scheduleListDue = (params: ScheduleListDueParams): ScheduleRecord[] =>
    (dueRows.all(ctx.now(params.now), Math.max(1, Math.floor(params.limit))) as ScheduleRow[]).map(toRecord);

  return { scheduleGet, scheduleList, scheduleListDue, scheduleWrite };
}
