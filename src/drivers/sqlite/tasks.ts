/** Task contracts on SQLite: the published job defaults of each task, in `jobwire_tasks`. */

import { isTaskName } from '../../core/task.js';
import type { BackoffSpec, EpochMs } from '../../core/types.js';
import type { StoredTaskDefaults, TaskDefaultsRecord, TaskGetParams } from '../../driver/driver.js';
import type { SqliteContext } from './context.js';

interface TaskRow {
  name: string;
  queue: string;
  priority: number;
  max_attempts: number;
  timeout_ms: number | null;
  backoff: string | null;
  updated_at: number;
}

const toRecord = (row: TaskRow): StoredTaskDefaults => ({
  name: row.name,
  queue: row.queue,
  priority: row.priority,
  maxAttempts: row.max_attempts,
  timeoutMs: row.timeout_ms,
  backoff: row.backoff === null ? null : (JSON.parse(row.backoff) as BackoffSpec),
  updatedAt: row.updated_at,
});

const COLUMNS = 'name, queue, priority, max_attempts, timeout_ms, backoff, updated_at';

/** Build the task methods (synchronous; the driver wraps them in promises). Input is checked by the caller. */
export function createTaskMethods(ctx: SqliteContext) {
  const { db } = ctx;
  const getOne = db.prepare(`SELECT ${COLUMNS} FROM jobwire_tasks WHERE name = ?`);
  const listAll = db.prepare(`SELECT ${COLUMNS} FROM jobwire_tasks`);
  // The DO UPDATE ... WHERE leaves an unchanged row alone (changes = 0), so republishing the
  // same contract on every start writes nothing. `IS NOT` compares NULLs as values.
  const upsert = db.prepare(
    `INSERT INTO jobwire_tasks (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET
       queue = excluded.queue, priority = excluded.priority, max_attempts = excluded.max_attempts,
       timeout_ms = excluded.timeout_ms, backoff = excluded.backoff, updated_at = excluded.updated_at
     WHERE queue IS NOT excluded.queue OR priority IS NOT excluded.priority
       OR max_attempts IS NOT excluded.max_attempts OR timeout_ms IS NOT excluded.timeout_ms
       OR backoff IS NOT excluded.backoff`,
  );

  function taskGet(params: TaskGetParams): StoredTaskDefaults | undefined {
    if (!isTaskName(params?.name)) return undefined;
    const row = getOne.get(params.name) as TaskRow | undefined;
    return row && toRecord(row);
  }

  function taskList(): StoredTaskDefaults[] {
    const rows = (listAll.all() as TaskRow[]).map(toRecord);
    // In code-unit order, the same on every database whatever its collation.
    return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  const upsertAll = db.transaction((tasks: readonly TaskDefaultsRecord[], now: EpochMs): string[] => {
    const written: string[] = [];
    for (const task of tasks) {
      const backoff = task.backoff === null ? null : JSON.stringify(task.backoff);
      const { changes } = upsert.run(
        task.name,
        task.queue,
        task.priority,
        task.maxAttempts,
        task.timeoutMs,
        backoff,
        now,
      );
      if (changes > 0) written.push(task.name);
    }
    return written;
  });

  function taskUpsertMany(tasks: readonly TaskDefaultsRecord[], now?: EpochMs): string[] {
    return upsertAll.immediate(tasks, ctx.now(now));
  }

  return { taskGet, taskList, taskUpsertMany };
}
