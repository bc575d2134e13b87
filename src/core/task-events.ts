/**
 * Typing events by task. The event bus is one stream for every task, so its `result` is
 * `unknown`; a listener that checks which task an event is about gets that task's types back.
 */
import type { AnyTaskRef, TaskResult } from './task.js';

/** `E` as it is for a job of task `T`: where it carries a `result`, the task's result type. */
export type TaskEvent<E, T> = E & (E extends { result: unknown } ? { result: TaskResult<T> } : unknown);

/**
 * True when `event` is about a job of `task` (compared by name), narrowing its `result` to the
 * task's result type:
 *
 * ```ts
 * jobwire.events.on('job:completed', (event) => {
 *   if (isTaskEvent(resizeImage, event)) console.log(event.result.bytes);
 * });
 * ```
 */
export function isTaskEvent<T extends AnyTaskRef, E extends { readonly task: string }>(
  task: T,
  event: E,
): event is TaskEvent<E, T> {
  return event.task === task.name;
}
