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
export type AttemptOutcome =
  | { ok: true; result: unknown }
  | {
      ok: false;
      error: unknown;
      /**
       * Set when an abort (timeout, cancellation, shutdown) ended the attempt while its handler
       * still runs: the handler's promise. The outcome is recorded at once; the slot stays taken
       * until this settles, so a handler that ignores its signal is not joined by another job.
       */
      handlerStillRunning?: Promise<unknown>;
    };

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
  /** @internal The handler's promise once it was called (read only when an abort ends the attempt). */
  handler: Promise<unknown> | undefined;

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

/**
 * Run the handler for `job` and report how it ended through `done`, exactly once and never
 * synchronously (always from a later microtask, so a caller's state is settled before it runs).
 *
 * Callbacks rather than an async function: with the job's async context in use (context.ts), every
 * promise created costs a hook call, and an await makes more of them; this path creates the
 * handler's own promise and one `then` of it per job.
 */
export function runAttempt(
  job: ClaimedJob,
  setup: AttemptSetup,
  done: (outcome: AttemptOutcome) => void,
): void {
  const { task, control } = setup;
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const finish = (outcome: AttemptOutcome): void => {
    if (settled) return;
    settled = true;
    control.setOnAbort(undefined);
    if (timer) clearTimeout(timer);
    done(outcome);
  };
  const finishLater = (outcome: AttemptOutcome): void => queueMicrotask(() => finish(outcome));
  if (!task) {
    finishLater({ ok: false, error: new UnknownTaskError(job.task, setup.knownTasks()) });
    return;
  }
  if (job.timeoutMs !== null) {
    const timeoutMs = job.timeoutMs;
    timer = setTimeout(() => control.abort(new JobTimeoutError(timeoutMs)), timeoutMs);
  }
  // From here on an abort (timeout, cancellation, shutdown) ends the attempt at once, even when
  // the handler never settles.
  control.setOnAbort((reason) =>
    finishLater(
      control.handler === undefined
        ? { ok: false, error: reason }
        : { ok: false, error: reason, handlerStillRunning: control.handler },
    ),
  );
  let payload: unknown;
  try {
    payload = JSON.parse(job.payloadJson);
  } catch (error) {
    finishLater(payloadRejected(error));
    return;
  }
  if (!task.schema) {
    callHandler(job, setup, task, payload, finish, finishLater);
    return;
  }
  validatePayload(task, payload).then(
    (valid) => callHandler(job, setup, task, valid, finish, finishLater),
    (error) => finish(payloadRejected(error)),
  );
}

/** A payload that no longer decodes or validates will not on a retry either. */
function payloadRejected(error: unknown): AttemptOutcome {
  return {
    ok: false,
    error: new UnrecoverableError(
      `payload rejected before the run: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    ),
  };
}

function callHandler(
  job: ClaimedJob,
  setup: AttemptSetup,
  task: AnyTask,
  payload: unknown,
  finish: (outcome: AttemptOutcome) => void,
  finishLater: (outcome: AttemptOutcome) => void,
): void {
  const { control } = setup;
  if (control.aborted) {
    finishLater({ ok: false, error: control.reason });
    return;
  }
  let handlerPromise: Promise<unknown>;
  try {
    // Inside the try: a context that cannot be built (metadata that does not parse) fails the
    // attempt like a throwing handler, instead of leaving its slot taken.
    const context: TaskContext = new AttemptContext(job, setup);
    handlerPromise = Promise.resolve(
      runningJob.run({ jobId: job.id, correlationId: job.correlationId }, () =>
        task.handler(payload, context),
      ),
    );
  } catch (error) {
    finishLater({ ok: false, error });
    return;
  }
  control.handler = handlerPromise;
  // Whichever comes first wins (the handler, or an abort); the loser's later call is a no-op. Both
  // handlers are attached even after an abort, so a late rejection is never left unhandled.
  handlerPromise.then(
    (result) => finish({ ok: true, result }),
    (error) => finish({ ok: false, error }),
  );
}

/** `runAttempt` as a promise (never rejects), for code that wraps the run (attempt hooks). */
export function executeAttempt(job: ClaimedJob, setup: AttemptSetup): Promise<AttemptOutcome> {
  return new Promise((resolve) => runAttempt(job, setup, resolve));
}
