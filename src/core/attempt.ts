/**
 * Running one attempt: decode and validate the payload, call the handler inside the job's async
 * context, and race it against the attempt's AbortSignal — so a timeout, cancellation or
 * shutdown frees the worker even when the handler never settles.
 */
import type { ClaimedJob } from '../driver/driver.js';
import { runningJob } from './context.js';
import { JobTimeoutError, UnknownTaskError, UnrecoverableError } from './errors.js';
import type { AnyTask, AnyTaskRef, DependencyResult, TaskContext } from './task.js';
import { validatePayload } from './task.js';

/** How the handler ended. */
export type AttemptOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/**
 * An attempt's abort switch. The AbortController behind `signal` is created only when a handler
 * reads `signal` — most short handlers never do, and a controller plus its listeners is a large
 * share of the per-job cost at tens of thousands of jobs per second.
 */
export class AttemptControl {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #onAbort: ((reason: unknown) => void) | undefined;

  /** The signal handed to the handler. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why the attempt was aborted (a JobTimeoutError, JobCancelledError, …), if it was. */
  get reason(): unknown {
    return this.#reason;
  }

  /** Abort once; later calls keep the first reason. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#onAbort?.(reason);
  }

  /** @internal One listener, set by the attempt runner. */
  setOnAbort(listener: ((reason: unknown) => void) | undefined): void {
    this.#onAbort = listener;
  }
}

/** Everything `executeAttempt` needs besides the job. */
export interface AttemptSetup {
  task: AnyTask | undefined;
  knownTasks: () => string[];
  control: AttemptControl;
  workerId: string;
  onProgress: (value: unknown) => void;
  /** The dependencies of job `id` (read on demand: most handlers never ask). */
  readDependencies: (id: string) => Promise<DependencyResult[]>;
}

const swallow = () => {};
const EMPTY_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The context a handler gets. A class, not an object literal: a literal's `get signal()` defines
 * a fresh accessor on every job at run time; the class took 2.6 µs of Node CPU off every job
 * (16.8 → 14.2 µs draining on PostgreSQL, bench/results/2026-12-03-s28-node-cpu.md).
 * `signal` is a prototype getter; `dependencies` and `progress` stay own functions, so a handler
 * may destructure them and call them unbound, as before.
 */
class AttemptContext implements TaskContext {
  readonly job: TaskContext['job'];
  readonly progress: (value: unknown) => void;
  readonly workerId: string;
  readonly dependencies: TaskContext['dependencies'];
  readonly #control: AttemptControl;

  constructor(job: ClaimedJob, setup: AttemptSetup) {
    this.job = {
      id: job.id,
      task: job.task,
      queue: job.queue,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      correlationId: job.correlationId,
      metadata: job.metadataJson === '{}' ? EMPTY_METADATA : JSON.parse(job.metadataJson),
      priority: job.priority,
    };
    this.progress = setup.onProgress;
    this.workerId = setup.workerId;
    this.#control = setup.control;
    this.dependencies = async (filter?: AnyTaskRef) => {
      const all = await setup.readDependencies(job.id);
      return (filter === undefined ? all : all.filter((d) => d.task === filter.name)) as never;
    };
  }

  get signal(): AbortSignal {
    return this.#control.signal;
  }
}

/** Run the handler for `job`; never rejects. */
export async function executeAttempt(job: ClaimedJob, setup: AttemptSetup): Promise<AttemptOutcome> {
  const { task, control } = setup;
  if (!task) return { ok: false, error: new UnknownTaskError(job.task, setup.knownTasks()) };

  let timer: NodeJS.Timeout | undefined;
  if (job.timeoutMs !== null) {
    const timeoutMs = job.timeoutMs;
    timer = setTimeout(() => control.abort(new JobTimeoutError(timeoutMs)), timeoutMs);
  }
  try {
    let payload: unknown;
    try {
      payload = JSON.parse(job.payloadJson);
      if (task.schema) payload = await validatePayload(task, payload);
    } catch (error) {
      // A payload that no longer decodes or validates will not on a retry either.
      return {
        ok: false,
        error: new UnrecoverableError(
          `payload rejected before the run: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        ),
      };
    }
    if (control.aborted) return { ok: false, error: control.reason };

    const context: TaskContext = new AttemptContext(job, setup);

    let handlerPromise: Promise<unknown>;
    try {
      handlerPromise = Promise.resolve(
        runningJob.run({ jobId: job.id, correlationId: job.correlationId }, () =>
          task.handler(payload, context),
        ),
      );
    } catch (error) {
      return { ok: false, error };
    }
    return await raceAbort(handlerPromise, control);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function raceAbort(handler: Promise<unknown>, control: AttemptControl): Promise<AttemptOutcome> {
  return new Promise<AttemptOutcome>((resolve) => {
    if (control.aborted) {
      handler.then(swallow, swallow);
      resolve({ ok: false, error: control.reason });
      return;
    }
    // Whichever comes first wins; the loser's later resolve is a no-op.
    control.setOnAbort((reason) => resolve({ ok: false, error: reason }));
    handler.then(
      (result) => {
        control.setOnAbort(undefined);
        resolve({ ok: true, result });
      },
      (error) => {
        control.setOnAbort(undefined);
        resolve({ ok: false, error });
      },
    );
  });
}
