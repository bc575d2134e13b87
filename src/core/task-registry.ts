/**
 * The tasks one client knows: what its pools can run (tasks with a handler) and what `enqueue`
 * by name resolves to locally (tasks and contracts from `declareTask`).
 */
import { InvalidOptionError } from './errors.js';
import { preview } from './preview.js';
import { type AnyTask, type AnyTaskRef, isTaskContract, isTaskName } from './task.js';

/** Tasks and contracts by name. A name maps to one definition for the life of the client. */
export class TaskRegistry {
  readonly #entries = new Map<string, AnyTaskRef>();

  /**
   * Add a task or a contract. Throws when the name is taken by another definition; the same one
   * is a no-op. A task may replace the contract it implements (same name), so a process can list
   * a shared contract and later register its implementation.
   */
  register(task: AnyTaskRef): void {
    const runnable = typeof (task as { handler?: unknown } | null)?.handler === 'function';
    if (typeof task?.name !== 'string' || !(runnable || isTaskContract(task))) {
      throw new InvalidOptionError('tasks', 'each task must come from defineTask() or declareTask()');
    }
    if (!isTaskName(task.name)) {
      throw new InvalidOptionError(
        'tasks',
        `task names are 1–128 letters, digits, ".", "_", "-" or ":", got ${preview(task.name)}`,
      );
    }
    const existing = this.#entries.get(task.name);
    if (existing === undefined || existing === task) {
      this.#entries.set(task.name, task);
      return;
    }
    if (isTaskContract(existing) && !isTaskContract(task)) {
      this.#entries.set(task.name, task);
      return;
    }
    if (isTaskContract(task) && !isTaskContract(existing)) return;
    throw new InvalidOptionError('tasks', `two different tasks are named "${task.name}"`);
  }

  /** The runnable task (with a handler) of that name, if registered. A contract is not one. */
  get(name: string): AnyTask | undefined {
    const entry = this.#entries.get(name);
    return typeof (entry as { handler?: unknown } | undefined)?.handler === 'function'
      ? (entry as AnyTask)
      : undefined;
  }

  /** The task or contract of that name, if registered: what enqueue by name resolves locally. */
  lookup(name: string): AnyTaskRef | undefined {
    return this.#entries.get(name);
  }

  /** True when a task with a handler of that name is registered. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Names of the runnable tasks, in registration order. */
  names(): string[] {
    return this.runnable().map((task) => task.name);
  }

  /** The runnable tasks, in registration order: what a worker publishes. */
  runnable(): AnyTask[] {
    return [...this.#entries.values()].filter(
      (entry): entry is AnyTask => typeof (entry as { handler?: unknown }).handler === 'function',
    );
  }

  /** Every registered name, tasks and contracts, in registration order. */
  allNames(): string[] {
    return [...this.#entries.keys()];
  }
}
