/**
 * Input checks for the task-contract methods, run by every driver before its database sees the
 * input, so the same bad record gets the same `InvalidOptionError` on every driver (see guards.ts).
 */
import { validateBackoff } from '../core/backoff.js';
import { InvalidOptionError } from '../core/errors.js';
import { isQueueName, MAX_ATTEMPTS_LIMIT } from '../core/options.js';
import { preview } from '../core/preview.js';
import { isTaskName } from '../core/task.js';
import { MAX_TASK_UPSERT, type TaskDefaultsRecord, type TaskUpsertManyParams } from './driver.js';

const INT4_MAX = 2_147_483_647;
/** The priority range enqueue accepts (resolveJobOptions). */
const PRIORITY_LIMIT = 1_000_000;

function assertInteger(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(field, `must be an integer from ${min} to ${max}, got ${preview(value)}`);
  }
}

/**
 * Check a `taskUpsertMany` batch and return it normalised: the backoff rebuilt by
 * `validateBackoff`, so its JSON text is the same for the same spec and "unchanged" can be
 * decided by comparing text. Names and queues follow the client's own rules, which also keeps
 * out NUL, surrogates and oversized text.
 */
export function checkTaskUpserts(params: TaskUpsertManyParams): TaskDefaultsRecord[] {
  const tasks = params?.tasks;
  if (!Array.isArray(tasks)) throw new InvalidOptionError('tasks', 'must be an array');
  if (tasks.length > MAX_TASK_UPSERT) {
    throw new InvalidOptionError('tasks', `at most ${MAX_TASK_UPSERT} per call, got ${tasks.length}`);
  }
  const seen = new Set<string>();
  return tasks.map((task: TaskDefaultsRecord, i) => {
    const at = `tasks[${i}]`;
    if (typeof task !== 'object' || task === null) throw new InvalidOptionError(at, 'must be an object');
    if (!isTaskName(task.name)) {
      throw new InvalidOptionError(
        `${at}.name`,
        `must be 1–128 letters, digits, ".", "_", "-" or ":", got ${preview(task.name)}`,
      );
    }
    if (seen.has(task.name)) throw new InvalidOptionError(`${at}.name`, `"${task.name}" appears twice`);
    seen.add(task.name);
    if (!isQueueName(task.queue)) {
      throw new InvalidOptionError(
        `${at}.queue`,
        `must be 1–128 letters, digits, ".", "_", "-" or ":", got ${preview(task.queue)}`,
      );
    }
    assertInteger(`${at}.priority`, task.priority, -PRIORITY_LIMIT, PRIORITY_LIMIT);
    assertInteger(`${at}.maxAttempts`, task.maxAttempts, 1, MAX_ATTEMPTS_LIMIT);
    if (task.timeoutMs !== null) assertInteger(`${at}.timeoutMs`, task.timeoutMs, 1, INT4_MAX);
    const backoff = task.backoff === null ? null : validateBackoff(task.backoff, `${at}.backoff`);
    return {
      name: task.name,
      queue: task.queue,
      priority: task.priority,
      maxAttempts: task.maxAttempts,
      timeoutMs: task.timeoutMs,
      backoff,
    };
  });
}
