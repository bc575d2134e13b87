/**
 * The tasks one client knows: what its pools can run and what `enqueue` by name resolves to.
 */
import { InvalidOptionError } from './errors.js';
import { preview } from './preview.js';
import { type AnyTask, isTaskName } from './task.js';

/** Tasks by name. A name maps to one definition for the life of the client. */
export class TaskRegistry {
  readonly #tasks = new Map<string, AnyTask>();

  /** Add a task. Throws when the name is taken by another definition; the same one is a no-op. */
  register(task: AnyTask): void {
    if (typeof task?.name !== 'string' || typeof task.handler !== 'function') {
      throw new InvalidOptionError('tasks', 'each task must come from defineTask()');
    }
    if (!isTaskName(task.name)) {
      throw new InvalidOptionError(
        'tasks',
        `task names are 1–128 letters, digits, ".", "_", "-" or ":", got ${preview(task.name)}`,
      );
    }
    const existing = this.#tasks.get(task.name);
    if (existing && existing !== task) {
      throw new InvalidOptionError('tasks', `two different tasks are named "${task.name}"`);
    }
    this.#tasks.set(task.name, task);
  }

  /** The task of that name, if registered. */
  get(name: string): AnyTask | undefined {
    return this.#tasks.get(name);
  }

  has(name: string): boolean {
    return this.#tasks.has(name);
  }

  /** Every registered name, in registration order. */
  names(): string[] {
    return [...this.#tasks.keys()];
  }
}
